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
-- The name and ID-number tokens are left out: no feature reads them.
-- The device, phone and IP tokens (64 characters each) are replaced
-- by integers, equal for equal tokens and NULL for a missing one
-- (device_node, phone_node, ip_node: 0..n-1, numbered in no particular
-- order): the features only compare them, and the spine, read by every
-- group, is a third of the size (on a 10M-loan book the tokens' joins
-- spilled and took 180 of the snapshot's 480 s). The three token joins
-- run on a narrow projection (nodes: the application id and its three
-- tokens), joined to the wide rows once by application id: at 10M loans
-- the token joins' tables of 15M distinct tokens spill, and wide probe
-- rows spilled with them (this file 110 s wall, 161 CPU-s, before; 74 s,
-- 109 CPU-s so; the same at 1M).
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
dev AS (
    SELECT device_id_token, CAST(row_number() OVER () - 1 AS INTEGER) AS device_node
    FROM (SELECT DISTINCT device_id_token FROM app WHERE device_id_token <> '')
),
ph AS (
    SELECT phone_token, CAST(row_number() OVER () - 1 AS INTEGER) AS phone_node
    FROM (SELECT DISTINCT phone_token FROM app WHERE phone_token <> '')
),
ip AS (
    SELECT ip_token, CAST(row_number() OVER () - 1 AS INTEGER) AS ip_node
    FROM (SELECT DISTINCT ip_token FROM app WHERE ip_token <> '')
),
nodes AS (
    SELECT t.application_id, dev.device_node, ph.phone_node, ip.ip_node
    FROM (SELECT application_id, device_id_token, phone_token, ip_token FROM app) t
    LEFT JOIN dev USING (device_id_token)
    LEFT JOIN ph USING (phone_token)
    LEFT JOIN ip USING (ip_token)
),
numbered AS (
    SELECT CAST(row_number() OVER () - 1 AS INTEGER) AS app_idx, *,
           coalesce(application_id <= lag(application_id) OVER (), false) AS out_of_order
    FROM app
)
SELECT
    a.app_idx,
    a.* EXCLUDE (app_idx, out_of_order, id_number_token, name_token, device_id_token, phone_token, ip_token),
    n.device_node, n.phone_node, n.ip_node,
    CAST(a.apply_time AS DATE) AS apply_date,
    l.loan_principal, l.loan_collateral_type, l.loan_collateral_value,
    a.out_of_order
FROM numbered a
LEFT JOIN loan l USING (application_id)
LEFT JOIN nodes n USING (application_id)
