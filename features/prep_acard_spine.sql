-- Spine of the A-card set: every application with apply_time before the
-- as-of date (the as-of date bounds which applications are included; each
-- row's features are computed as of its own apply_time). app_idx numbers
-- the applications in application_id order (the output's sort key, an
-- integer to sort and join on cheaply).
SELECT
    CAST(row_number() OVER (ORDER BY a.application_id) - 1 AS INTEGER) AS app_idx,
    a.application_id,
    a.borrower_id,
    a.apply_time,
    CAST(a.apply_time AS DATE) AS apply_date
FROM applications a
WHERE a.apply_time < getvariable('as_of')
