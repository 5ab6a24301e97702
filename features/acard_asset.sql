-- A-card group: asset assessment. Collateral is recorded on the loan; it
-- is appraised and pledged as part of the application for the loan that
-- was approved, so it is known at application time. Applications without
-- a loan (rejected) have collateral_type NULL.
-- reads: (none)
-- uses: spine_acard
SELECT
    app_idx,
    -- feature: collateral_type | category | Collateral of the approved loan: none, car or house (NULL without a loan) | pledged at application
    loan_collateral_type AS collateral_type,
    -- feature: collateral_value | money | Appraised collateral value, CNY (NULL when none) | appraised at application
    CASE WHEN loan_collateral_value > 0 THEN loan_collateral_value END AS collateral_value,
    -- feature: loan_to_value | double | Loan principal (or requested amount without a loan) / collateral value; NULL without collateral | appraised at application
    CASE WHEN loan_collateral_value > 0
         THEN CAST(coalesce(loan_principal, requested_amount) AS DOUBLE) / CAST(loan_collateral_value AS DOUBLE)
    END AS loan_to_value
FROM spine_acard
