-- Candidate channels of the lost-contact loans (table lost, lost.sql) at
-- the as-of date d = getvariable('as_of'), from the lender's own data;
-- every event used is strictly before d. Kinds:
--   own_application_after_loss  a phone on the borrower's own application
--                               made after the loss (same borrower_id or
--                               same ID-number token)
--   own_application             ... on an own application before the loss
--   linked_device               the phone of another borrower's
--                               application on a device the borrower
--                               applied with, within device_days of it
--   linked_ip                   ... from an IP the borrower applied from,
--                               within ip_days of it
--   bureau_activity             the borrower's latest bureau report or
--                               inquiry (ours for post-loan checks aside):
--                               no phone, a sign the borrower is active
-- The lost phone itself is never a candidate. The links are one hop of
-- the anti-fraud graph's (features/prep_graph_links.sql: shared device;
-- acard_fraud.sql: shared IP within a window).
-- score = the kind's weight x 0.5 ^ (days from the evidence to d /
-- half_life_days); a phone found several ways keeps its best evidence
-- (ties: the latest, then the first application id and sentence).
-- Ranked per loan by score, then kind, phone token, application id.
-- apps is read where it is used, not materialised: at 10 million loans a
-- materialised copy (17 million rows of tokens) spilled; near keeps the
-- applications the links can reach.
WITH d AS (SELECT CAST(getvariable('as_of') AS TIMESTAMP) AS d),
apps AS NOT MATERIALIZED (
    SELECT application_id, borrower_id, id_number_token, phone_token, device_id_token, ip_token, apply_time
    FROM applications WHERE apply_time < (SELECT d FROM d)
),
-- the borrower's own applications before d (by borrower_id or ID token)
mine AS (
    SELECT x.loan_id, a.* FROM lost x JOIN apps a ON a.borrower_id = x.borrower_id
    UNION
    SELECT x.loan_id, a.* FROM lost x JOIN apps a ON a.id_number_token = x.id_number_token
),
own AS (
    SELECT m.loan_id,
           CASE WHEN m.apply_time > x.lost_at THEN 'own_application_after_loss' ELSE 'own_application' END AS kind,
           m.phone_token, m.application_id AS evidence_application_id, m.borrower_id AS evidence_borrower_id,
           m.apply_time AS evidence_time,
           'own application ' || m.application_id || CASE WHEN m.apply_time > x.lost_at THEN ' after the loss' ELSE ' before the loss' END AS evidence
    FROM mine m JOIN lost x USING (loan_id)
    WHERE m.phone_token IS NOT NULL AND m.phone_token IS DISTINCT FROM x.phone_token
),
-- the applications on a device or from an IP of the borrower's own
near AS (
    SELECT * FROM apps SEMI JOIN (SELECT DISTINCT device_id_token FROM mine) USING (device_id_token)
    UNION
    SELECT * FROM apps SEMI JOIN (SELECT DISTINCT ip_token FROM mine) USING (ip_token)
),
linked AS (
    SELECT m.loan_id, 'linked_device' AS kind, o.phone_token, o.application_id AS evidence_application_id,
           o.borrower_id AS evidence_borrower_id, o.apply_time AS evidence_time,
           'application ' || o.application_id || ' of ' || o.borrower_id || ' on the device of own application ' || m.application_id AS evidence
    FROM mine m JOIN lost x USING (loan_id) JOIN near o ON o.device_id_token = m.device_id_token
    WHERE abs(epoch(o.apply_time) - epoch(m.apply_time)) <= getvariable('device_days') * 86400
      AND o.borrower_id <> x.borrower_id AND o.id_number_token IS DISTINCT FROM x.id_number_token
      AND o.phone_token IS NOT NULL AND o.phone_token IS DISTINCT FROM x.phone_token
    UNION ALL
    SELECT m.loan_id, 'linked_ip', o.phone_token, o.application_id, o.borrower_id, o.apply_time,
           'application ' || o.application_id || ' of ' || o.borrower_id || ' from the IP of own application ' || m.application_id
    FROM mine m JOIN lost x USING (loan_id) JOIN near o ON o.ip_token = m.ip_token
    WHERE abs(epoch(o.apply_time) - epoch(m.apply_time)) <= getvariable('ip_days') * 86400
      AND o.borrower_id <> x.borrower_id AND o.id_number_token IS DISTINCT FROM x.id_number_token
      AND o.phone_token IS NOT NULL AND o.phone_token IS DISTINCT FROM x.phone_token
),
activity AS (
    SELECT borrower_id, report_date AS day, 'bureau report' AS what FROM bureau_reports
    UNION ALL
    SELECT borrower_id, query_date, 'bureau inquiry by ' || institution_type FROM bureau_inquiries WHERE reason <> 'post_loan'
),
bureau AS (
    SELECT x.loan_id, 'bureau_activity' AS kind, CAST(NULL AS VARCHAR) AS phone_token,
           CAST(NULL AS VARCHAR) AS evidence_application_id, x.borrower_id AS evidence_borrower_id,
           CAST(max(a.day) AS TIMESTAMP) AS evidence_time,
           arg_max(a.what, (a.day, a.what)) || ' on ' || strftime(max(a.day), '%Y-%m-%d') ||
             CASE WHEN max(a.day) > x.lost_at THEN ' (after the loss)' ELSE ' (before the loss)' END AS evidence
    FROM lost x JOIN activity a ON a.borrower_id = x.borrower_id
    WHERE a.day < (SELECT d FROM d)
    GROUP BY x.loan_id, x.borrower_id, x.lost_at
),
allc AS (
    SELECT * FROM own UNION ALL SELECT * FROM linked UNION ALL SELECT * FROM bureau
),
scored AS (
    SELECT c.*,
           CAST(date_diff('day', c.evidence_time, (SELECT d FROM d)) AS INTEGER) AS recency_days,
           CASE c.kind WHEN 'own_application_after_loss' THEN 1 WHEN 'linked_device' THEN 2
                       WHEN 'own_application' THEN 3 WHEN 'linked_ip' THEN 4 ELSE 5 END AS kind_order,
           CASE c.kind WHEN 'own_application_after_loss' THEN getvariable('w_own_after')
                       WHEN 'linked_device' THEN getvariable('w_device')
                       WHEN 'own_application' THEN getvariable('w_own')
                       WHEN 'linked_ip' THEN getvariable('w_ip')
                       ELSE getvariable('w_bureau') END
             * pow(0.5, date_diff('day', c.evidence_time, (SELECT d FROM d)) / getvariable('half_life_days')) AS score
    FROM allc c
),
best AS (
    SELECT *, CAST(count(*) OVER (PARTITION BY loan_id, coalesce(phone_token, kind)) AS INTEGER) AS evidence_count
    FROM scored
    -- evidence last: one application can match several own applications'
    -- devices or IPs, and the kept row must not depend on thread timing
    QUALIFY row_number() OVER (PARTITION BY loan_id, coalesce(phone_token, kind)
                               ORDER BY score DESC, kind_order, evidence_time DESC, evidence_application_id, evidence) = 1
)
SELECT
    -- loan_id, borrower_id, lost_at: the lost loan (lost.sql)
    x.loan_id, x.borrower_id, x.lost_at,
    -- rank: 1 = try first (score, then kind, phone token, application id)
    CAST(row_number() OVER (PARTITION BY b.loan_id ORDER BY b.score DESC, b.kind_order, b.phone_token, b.evidence_application_id) AS INTEGER) AS rank,
    -- kind: the channel kind (above)
    b.kind,
    -- phone_token: the candidate phone (NULL for bureau_activity)
    b.phone_token,
    -- evidence_application_id / evidence_borrower_id: the application
    -- the phone was found on, and whose it is
    b.evidence_application_id, b.evidence_borrower_id,
    -- evidence_time: when the evidence happened (apply time, report or
    -- inquiry date); recency_days: days from it to d
    b.evidence_time, b.recency_days,
    -- evidence_count: the ways this phone was found
    b.evidence_count,
    -- score: weight x recency decay (above)
    b.score,
    -- evidence: a sentence a collector can read (ids only, no identity)
    b.evidence
FROM best b JOIN lost x USING (loan_id)
