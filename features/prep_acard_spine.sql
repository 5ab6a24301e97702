-- Spine of the A-card set: every application with apply_time before the
-- as-of date (the as-of date bounds which applications are included; each
-- row's features are computed as of its own apply_time). app_idx numbers
-- the applications in application_id order (the output's sort key, an
-- integer to sort and join on cheaply). The spine carries the application's
-- columns and, for an approved application, its loan's principal
-- and collateral, which were set at the decision (the first loan by
-- loan_id if there are several), so the feature groups need no further
-- joins on string keys.
--
-- app_idx is numbered on the narrow (application_id) column alone and
-- joined to the rest, not computed by a window over whole rows: the
-- tokens make a row ~400 bytes, and sorting them cost a third of the
-- snapshot. The name and ID-number tokens are left out: no feature reads
-- them.
-- reads: applications, loans
WITH loan AS (
    SELECT application_id,
           arg_min(principal, loan_id) AS loan_principal,
           arg_min(collateral_type, loan_id) AS loan_collateral_type,
           arg_min(collateral_value, loan_id) AS loan_collateral_value
    FROM loans
    GROUP BY application_id
),
idx AS (
    SELECT application_id,
           CAST(row_number() OVER (ORDER BY application_id) - 1 AS INTEGER) AS app_idx
    FROM applications
    WHERE apply_time < getvariable('as_of')
)
SELECT
    i.app_idx,
    a.* EXCLUDE (id_number_token, name_token),
    CAST(a.apply_time AS DATE) AS apply_date,
    l.loan_principal, l.loan_collateral_type, l.loan_collateral_value
FROM applications a
JOIN idx i USING (application_id)
LEFT JOIN loan l USING (application_id)
WHERE a.apply_time < getvariable('as_of')
