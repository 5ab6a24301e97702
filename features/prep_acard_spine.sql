-- Spine of the A-card set: every application with apply_time before the
-- as-of date (the as-of date bounds which applications are included; each
-- row's features are computed as of its own apply_time). app_idx numbers
-- the applications in application_id order (the output's sort key, an
-- integer to sort and join on cheaply). The spine carries the application's
-- columns and, for an approved application, its loan's principal
-- and collateral, which were set at the decision (the first loan by
-- loan_id if there are several), so the feature groups need no further
-- joins on string keys.
-- reads: applications, loans
WITH loan AS (
    SELECT application_id,
           arg_min(principal, loan_id) AS loan_principal,
           arg_min(collateral_type, loan_id) AS loan_collateral_type,
           arg_min(collateral_value, loan_id) AS loan_collateral_value
    FROM loans
    GROUP BY application_id
)
SELECT
    CAST(row_number() OVER (ORDER BY a.application_id) - 1 AS INTEGER) AS app_idx,
    a.*,
    CAST(a.apply_time AS DATE) AS apply_date,
    l.loan_principal, l.loan_collateral_type, l.loan_collateral_value
FROM applications a
LEFT JOIN loan l USING (application_id)
WHERE a.apply_time < getvariable('as_of')
