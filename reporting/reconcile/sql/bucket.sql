-- bucket.sql: pass 1 of match.sql, matching by reference, for bucket
-- {{.Bucket}} of records.sql: its records {{.Plat}} and the lines quoting
-- a reference {{.Bank}}. A (kind, ref) is in one bucket only, so what a
-- bucket finds is what the whole book would. Each bucket appends to four
-- small tables (created by the first bucket), which match.sql reads:
--   matched_part  the exact matches, by posting day: bdate, n, amount
--   x1            the other matches (duplicate, amount_mismatch, timing)
--                 with the line's columns pairs reports
--   p_left        the records no line quotes (plat's columns)
--   b_left        the lines quoting no record (bank's columns; it starts
--                 with the lines quoting none, in Go)
CREATE OR REPLACE TEMP TABLE bp AS FROM {{.Plat}};
CREATE OR REPLACE TEMP TABLE bb AS FROM {{.Bank}};

-- m1: every line of the bucket, with its record if one has its
-- reference. The first line (by posting time, then serial) quoting a
-- record's id is its match (rk 1); a later one is a duplicate. (Only the
-- few references quoted more than once are ranked: they are found by a
-- 64-bit hash of (kind, ref), counted as an integer, not as the strings;
-- lines whose hash is shared are then ranked by the strings themselves,
-- so a collision only ranks a few more lines, each first in its own
-- reference.)
CREATE OR REPLACE TEMP TABLE m1 AS
WITH multi AS (
  SELECT hash(kind, ref) AS h FROM bb GROUP BY ALL HAVING count(*) > 1
), ranked AS (
  SELECT bank_txn_id, row_number() OVER (PARTITION BY kind, ref ORDER BY txn_time, bank_txn_id) AS rk
  FROM bb WHERE hash(kind, ref) IN (SELECT h FROM multi)
)
SELECT b.bank_txn_id, b.kind, b.ref, b.bdate, b.amount, p.ref IS NOT NULL AS found, p.pdate, p.amount AS pamount,
  coalesce(r.rk, 1) AS rk, b.owner_type, b.owner_id, b.sub_account, b.loan_id
FROM bb b LEFT JOIN bp p ON p.kind = b.kind AND p.ref = b.ref LEFT JOIN ranked r USING (bank_txn_id);

{{if .First}}CREATE OR REPLACE TEMP TABLE matched_part AS{{else}}INSERT INTO matched_part{{end}}
SELECT bdate, count(*) AS n, sum(amount) AS amount FROM m1 WHERE found AND rk = 1 AND amount = pamount GROUP BY bdate;

-- x1: pass 1's rows of pairs: everything matched but the exact same-day
-- matches.
{{if .First}}CREATE OR REPLACE TEMP TABLE x1 AS{{else}}INSERT INTO x1{{end}}
SELECT 1 AS pass, CASE WHEN m.rk > 1 THEN 'duplicate' WHEN m.amount <> m.pamount THEN 'amount_mismatch'
    ELSE 'timing' END AS outcome, m.ref, m.pdate, m.pamount, m.bank_txn_id, m.bdate, m.amount AS bamount,
  m.kind, m.owner_type, m.owner_id, m.sub_account, m.loan_id
FROM m1 m WHERE m.found AND (m.rk > 1 OR m.amount <> m.pamount OR m.bdate <> m.pdate);

-- Records and lines pass 1 left: records without a line quoting them;
-- lines quoting no record.
{{if .First}}CREATE OR REPLACE TEMP TABLE p_left AS{{else}}INSERT INTO p_left{{end}}
SELECT p.* FROM bp p ANTI JOIN (SELECT kind, ref FROM m1 WHERE found) m USING (kind, ref);
INSERT INTO b_left
SELECT b.* FROM bb b SEMI JOIN (SELECT bank_txn_id FROM m1 WHERE NOT found) m USING (bank_txn_id);

DROP TABLE bp;
DROP TABLE bb;
DROP TABLE m1;
