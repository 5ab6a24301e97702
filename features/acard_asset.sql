-- A-card group: asset assessment. Collateral is recorded on the loan; it
-- is appraised and pledged as part of the application for the loan that
-- was approved, so it is known at application time. Applications without
-- a loan (rejected) have collateral_type NULL.
WITH loan AS (
    -- the first loan (by loan_id) of the application
    SELECT application_id,
           arg_min(collateral_type, loan_id) AS collateral_type,
           arg_min(collateral_value, loan_id) AS collateral_value,
           arg_min(principal, loan_id) AS principal
    FROM loans
    GROUP BY application_id
)
SELECT
    s.app_idx,
    -- feature: collateral_type | category | Collateral of the approved loan: none, car or house (NULL without a loan) | pledged at application
    l.collateral_type,
    -- feature: collateral_value | money | Appraised collateral value, CNY (NULL when none) | appraised at application
    CASE WHEN l.collateral_value > 0 THEN l.collateral_value END AS collateral_value,
    -- feature: loan_to_value | double | Loan principal (or requested amount without a loan) / collateral value; NULL without collateral | appraised at application
    CASE WHEN l.collateral_value > 0
         THEN CAST(coalesce(l.principal, a.requested_amount) AS DOUBLE) / CAST(l.collateral_value AS DOUBLE)
    END AS loan_to_value
FROM spine_acard s
JOIN applications a USING (application_id)
LEFT JOIN loan l USING (application_id)
