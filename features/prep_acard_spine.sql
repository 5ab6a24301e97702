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
-- app_idx numbers the applications in the lake's own order: ingest
-- writes the applications table sorted by application_id, and a scan
-- with an empty OVER () keeps it (the builder runs this file with
-- insertion order kept), so the numbering needs no sort of the 17M ids
-- of a 10M-loan book and no join back to them (the saving not yet timed
-- at that size). out_of_order marks a row whose id is not above the one
-- before; when any is, the builder runs this file again over the
-- applications sorted (a lake ingest did not write).
-- The name and ID-number tokens, the decision and the birth province are
-- left out: no feature reads them.
-- The device, phone and IP tokens (64 characters each) are replaced by
-- their 128-bit MD5 numbers (device_key, phone_key, ip_key; NULL for a
-- missing one): the features only compare them, equal tokens have equal
-- keys, and two of a book's tokens share one with odds of about 1e-24
-- at 10M loans (and an applicant, who sees neither the key nor the HMAC
-- token, cannot aim at one); the spine, read by every group, holds 16
-- bytes per token instead of 64 characters.
-- Numbering the tokens instead (DISTINCT, row_number and a join back per
-- token) took 8.6 of this file's 23.4 s at 3M loans, and at 10M its
-- joins' tables of 15M distinct tokens spilled; the keys take no join
-- (the file 20.4 s wall and 23.9 CPU-s at 3M against 23.4 and 34.5, the
-- same partitions). The union-find numbers the device and phone keys it
-- needs (prep_graph_links.sql). The stage: 45.9 CPU-s at 1M against
-- 49.9, 164.8 at 3M against 177.4, the same snapshot bytes at 1M.
-- reads: applications, loans
WITH loan AS (
    SELECT application_id,
           arg_min(principal, loan_id) AS loan_principal,
           arg_min(collateral_type, loan_id) AS loan_collateral_type,
           arg_min(collateral_value, loan_id) AS loan_collateral_value
    FROM loans
    GROUP BY application_id
),
app AS NOT MATERIALIZED (
    SELECT * FROM applications WHERE apply_time < getvariable('as_of')
),
numbered AS (
    SELECT CAST(row_number() OVER () - 1 AS INTEGER) AS app_idx, *,
           coalesce(application_id <= lag(application_id) OVER (), false) AS out_of_order
    FROM app
)
SELECT
    a.app_idx,
    a.* EXCLUDE (app_idx, out_of_order, id_number_token, name_token, device_id_token, phone_token, ip_token, decision, birth_province),
    CASE WHEN a.device_id_token <> '' THEN md5_number(a.device_id_token) END AS device_key,
    CASE WHEN a.phone_token <> '' THEN md5_number(a.phone_token) END AS phone_key,
    CASE WHEN a.ip_token <> '' THEN md5_number(a.ip_token) END AS ip_key,
    CAST(a.apply_time AS DATE) AS apply_date,
    l.loan_principal, l.loan_collateral_type, l.loan_collateral_value,
    a.out_of_order
FROM numbered a
LEFT JOIN loan l USING (application_id)
