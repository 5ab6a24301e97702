-- breaks.sql: every break as of {{.To}}, one row each, with the state
-- of the previous run (prev_open: its open breaks) carried over.
--
-- breaks_now: the breaks the data show now (columns as in breaks_out).
CREATE OR REPLACE TEMP TABLE breaks_now AS
SELECT
  CASE WHEN outcome IN ('duplicate', 'platform_missing') THEN 'B:' || bank_txn_id ELSE 'P:' || kind || ':' || ref END AS break_id,
  CASE WHEN outcome = 'pending' THEN 'timing' ELSE outcome END AS kind,
  ref AS platform_record, bank_txn_id AS bank_txn_ids, owner_type, owner_id, sub_account, loan_id,
  pdate AS platform_date, bdate AS bank_date, pamount AS platform_amount, bamount AS bank_amount,
  CASE WHEN outcome = 'duplicate' THEN bamount ELSE coalesce(bamount, 0) - coalesce(pamount, 0) END AS difference,
  CASE outcome WHEN 'amount_mismatch' THEN abs(bamount - pamount) WHEN 'duplicate' THEN bamount
    WHEN 'platform_missing' THEN bamount ELSE pamount END AS amount,
  CASE WHEN outcome IN ('duplicate', 'platform_missing') THEN bdate ELSE least(pdate, coalesce(bdate, pdate)) END AS opened_on,
  CASE WHEN outcome = 'timing' THEN bdate END AS closed_on
FROM pairs WHERE outcome <> 'matched'
UNION ALL
SELECT 'C:' || bank_txn_id, 'balance_chain', NULL, bank_txn_id, owner_type, owner_id, sub_account, loan_id,
  NULL, bdate, NULL, balance_after, balance_after - expected, abs(balance_after - expected), bdate, NULL
FROM chain_breaks
UNION ALL
SELECT 'M:' || owner_type || ':' || owner_id, 'migration_mismatch', NULL, ids, owner_type, owner_id, sub_account, NULL,
  mig_date, mig_date, moved_out, moved_in, difference, greatest(abs(difference), abs(coalesce(left_old, 0))), mig_date, NULL
FROM mig_breaks;

-- breaks_out: the run's breaks file.
--   break_id          stable across runs: P:<kind>:<record> for a platform
--                     record, B:<bank_txn_id> for a bank line, C:<bank_txn_id>
--                     for a chain break, M:<owner_type>:<owner_id> for a migration
--   kind              bank_missing | platform_missing | duplicate |
--                     amount_mismatch | timing | balance_chain | migration_mismatch
--   status            open, or closed (matched: closed_on is the posting
--                     date; or found no more: closed_on is the run's day)
--   platform_record   the platform's id (txn_id, investment_id, loan_id)
--   bank_txn_ids      the bank line(s) (';'-separated for a migration)
--   platform_date, bank_date          the two sides' dates
--   platform_amount, bank_amount      the two sides' amounts (a chain
--                     break: NULL and the reported balance; a migration:
--                     the old bank's closing and the new bank's opening)
--   difference        bank minus platform (chain: reported minus expected
--                     balance; migration: opening minus closing and what
--                     was left behind)
--   amount            the money at stake (what the exit threshold sums)
--   opened_on, closed_on, age_days    age: to the closing day, else to {{.To}}
--   first_seen        the last day of the first run that reported it
--   carried_over      it was open at the end of the previous run
--   suggested_action  what to do about it
CREATE OR REPLACE TEMP TABLE breaks_out AS
WITH merged AS (
  SELECT n.*, coalesce(p.first_seen, DATE '{{.To}}') AS first_seen, p.break_id IS NOT NULL AS carried_over
  FROM breaks_now n LEFT JOIN prev_open p USING (break_id)
  UNION ALL BY NAME
  -- Open before, not found now: the records were corrected.
  SELECT p.* EXCLUDE (closed_on), DATE '{{.To}}' AS closed_on, true AS carried_over
  FROM prev_open p ANTI JOIN breaks_now n USING (break_id)
), st AS (
  SELECT *, CASE WHEN closed_on IS NULL OR closed_on > DATE '{{.To}}' THEN 'open' ELSE 'closed' END AS status FROM merged
)
SELECT break_id, kind, status, platform_record, bank_txn_ids, owner_type, owner_id, sub_account, loan_id,
  platform_date, bank_date, CAST(platform_amount AS DECIMAL(18,2)) AS platform_amount,
  CAST(bank_amount AS DECIMAL(18,2)) AS bank_amount, CAST(difference AS DECIMAL(18,2)) AS difference,
  CAST(amount AS DECIMAL(18,2)) AS amount, opened_on, CASE WHEN status = 'closed' THEN closed_on END AS closed_on,
  CAST(CASE WHEN status = 'closed' THEN closed_on ELSE DATE '{{.To}}' END - opened_on AS INTEGER) AS age_days,
  first_seen, carried_over,
  CASE
    WHEN status = 'closed' AND kind = 'timing' THEN 'none: posted late and matched'
    WHEN status = 'closed' THEN 'none: no longer found (the records were corrected)'
    WHEN kind = 'timing' THEN 'wait: within the posting window'
    WHEN kind = 'bank_missing' THEN 'ask the custodian for the posting; reverse the platform record if the money never arrived'
    WHEN kind = 'platform_missing' THEN 'identify the payer and book the receipt, or return the money'
    WHEN kind = 'duplicate' THEN 'ask the custodian to reverse the duplicate posting'
    WHEN kind = 'amount_mismatch' THEN 'correct the side in error and book the difference'
    WHEN kind = 'balance_chain' THEN 'ask the custodian for a corrected statement of the sub-account from this line'
    ELSE 'reconcile the sub-account''s migrated balance with both banks'
  END AS suggested_action
FROM st
WHERE status = 'open' OR closed_on >= DATE '{{.From}}' OR carried_over
ORDER BY kind, opened_on, break_id;
