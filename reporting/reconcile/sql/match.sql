-- match.sql: platform records against bank lines, in three passes, then
-- what is left. Every record and every line ends either matched (counted
-- by posting day in matched_daily) or in one row of pairs:
--   pass      1 reference, 2 owner+loan+amount, 3 amount within tolerance,
--             0 unmatched
--   ref       the platform record (NULL for a bank line with none)
--   bank_txn_id  the bank line (NULL for a record with none)
--   outcome   timing (matched, posted on another day) | amount_mismatch |
--             duplicate | bank_missing | platform_missing | pending (no
--             line yet, within the posting window: reported as an open
--             timing break)
--   kind, owner_type, owner_id, sub_account, loan_id, pdate, pamount,
--   bdate, bamount   the two sides
--
-- Pass 1, by reference, ran bucket by bucket (bucket.sql); it left
-- matched_part, x1, p_left and b_left.

-- Pass 2: same owner, loan, kind and amount, posted 0..{{.Window}} days
-- after the record; the n-th record of a (owner, loan, kind, amount)
-- pairs with its n-th line, both by date.
CREATE OR REPLACE TEMP TABLE m2 AS
WITH p AS (
  SELECT *, row_number() OVER (PARTITION BY owner_type, owner_id, loan_id, kind, amount ORDER BY pdate, ref) AS n FROM p_left
), b AS (
  SELECT *, row_number() OVER (PARTITION BY owner_type, owner_id, loan_id, kind, amount ORDER BY txn_time, bank_txn_id) AS n FROM b_left
)
SELECT p.ref, p.pdate, p.amount AS pamount, b.bank_txn_id, b.bdate, b.amount AS bamount
FROM p JOIN b USING (owner_type, owner_id, loan_id, kind, amount, n)
WHERE b.bdate BETWEEN p.pdate AND p.pdate + {{.Window}};

-- Pass 3: what is still left, same owner, loan and kind, amounts within
-- {{.Tol}} of each other, posted 0..{{.Window}} days after: an amount
-- mismatch.
CREATE OR REPLACE TEMP TABLE m3 AS
WITH p AS (
  SELECT *, row_number() OVER (PARTITION BY owner_type, owner_id, loan_id, kind ORDER BY pdate, ref) AS n
  FROM p_left WHERE ref NOT IN (SELECT ref FROM m2)
), b AS (
  SELECT *, row_number() OVER (PARTITION BY owner_type, owner_id, loan_id, kind ORDER BY txn_time, bank_txn_id) AS n
  FROM b_left WHERE bank_txn_id NOT IN (SELECT bank_txn_id FROM m2)
)
SELECT p.ref, p.pdate, p.amount AS pamount, b.bank_txn_id, b.bdate, b.amount AS bamount
FROM p JOIN b USING (owner_type, owner_id, loan_id, kind, n)
WHERE b.bdate BETWEEN p.pdate AND p.pdate + {{.Window}} AND abs(b.amount - p.amount) <= {{.Tol}};

-- matched_daily: records matched (late postings included: also in pairs
-- as timing), by the line's posting day: bdate, n, amount.
CREATE OR REPLACE TEMP TABLE matched_daily AS
SELECT bdate, CAST(sum(n) AS BIGINT) AS n, CAST(sum(amount) AS DECIMAL(38,2)) AS amount FROM (
  SELECT bdate, n, amount FROM matched_part
  UNION ALL
  SELECT bdate, count(*), sum(bamount) FROM m2 GROUP BY bdate
) GROUP BY bdate;

-- pairs: everything but the exact same-day matches.
CREATE OR REPLACE TEMP TABLE pairs AS
WITH x AS (
  SELECT 2 AS pass, 'timing' AS outcome, ref, pdate, pamount, bank_txn_id, bdate, bamount FROM m2 WHERE bdate <> pdate
  UNION ALL
  SELECT 3, 'amount_mismatch', ref, pdate, pamount, bank_txn_id, bdate, bamount FROM m3
)
SELECT pass, ref, kind, owner_type, owner_id, sub_account, loan_id, pdate, pamount, bank_txn_id, bdate, bamount, outcome
FROM x1
UNION ALL
SELECT x.pass, x.ref, b.kind, b.owner_type, b.owner_id, b.sub_account, b.loan_id, x.pdate, x.pamount,
  x.bank_txn_id, x.bdate, x.bamount, x.outcome
FROM x JOIN b_left b USING (bank_txn_id)
UNION ALL
-- Records no line answers: pending while the posting window is open,
-- then missing at the bank.
SELECT 0, p.ref, p.kind, p.owner_type, p.owner_id, NULL, p.loan_id, p.pdate, p.amount, NULL, NULL, NULL,
  CASE WHEN DATE '{{.To}}' - p.pdate <= {{.Window}} THEN 'pending' ELSE 'bank_missing' END
FROM p_left p WHERE p.ref NOT IN (SELECT ref FROM m2) AND p.ref NOT IN (SELECT ref FROM m3)
UNION ALL
-- Lines no record answers.
SELECT 0, NULL, b.kind, b.owner_type, b.owner_id, b.sub_account, b.loan_id, NULL, NULL, b.bank_txn_id, b.bdate, b.amount,
  'platform_missing'
FROM b_left b WHERE b.bank_txn_id NOT IN (SELECT bank_txn_id FROM m2) AND b.bank_txn_id NOT IN (SELECT bank_txn_id FROM m3);
