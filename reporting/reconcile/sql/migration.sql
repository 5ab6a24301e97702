-- migration.sql: the custody migration(s) on or before {{.To}}. A bank
-- with migration_out lines is an old bank; its sub-accounts close there
-- (migration_out of the whole balance, leaving 0.00) and open at the new
-- bank with a migration_in of the same amount, owner by owner.
--
-- mig_owner: one row per owner touched by a migration:
--   old_bank, new_bank, mig_date   where from, where to, when
--   held       the old sub-account's balance before it closed (the
--              migration_out's amount plus what it left)
--   moved_out  migration_out amount (old bank); moved_in migration_in
--              amount (new bank)
--   left_old   the old sub-account's last balance_after (0.00 when
--              closed); stranded: 1 when it has lines after it closed
--   ids        the migration lines' bank_txn_ids
CREATE OR REPLACE TEMP TABLE mig_lines AS
SELECT * FROM chain_pass WHERE txn_type IN ('migration_out', 'migration_in');

CREATE OR REPLACE TEMP TABLE mig_owner AS
WITH outs AS (
  SELECT owner_type, owner_id, any_value(bank) AS old_bank, any_value(sub_account) AS sub_account,
    min(txn_time) AS out_time, sum(amount) AS moved_out, sum(amount + balance_after) AS held,
    string_agg(bank_txn_id, ';' ORDER BY bank_txn_id) AS ids
  FROM mig_lines WHERE txn_type = 'migration_out' GROUP BY ALL
), ins AS (
  SELECT owner_type, owner_id, any_value(bank) AS new_bank, min(txn_time) AS in_time, sum(amount) AS moved_in,
    string_agg(bank_txn_id, ';' ORDER BY bank_txn_id) AS ids
  FROM mig_lines WHERE txn_type = 'migration_in' GROUP BY ALL
), old_banks AS (
  SELECT DISTINCT bank FROM mig_lines WHERE txn_type = 'migration_out'
), old_last AS (
  -- Every sub-account at an old bank: its last balance (chain.sql), and
  -- whether its last line is not its migration_out (it moved on after
  -- it closed).
  SELECT c.owner_type, c.owner_id, any_value(c.sub_account) AS sub_account, any_value(c.bank) AS old_bank,
    sum(c.balance_after) AS left_old,
    count(*) FILTER (WHERE o.out_time IS NOT NULL AND c.txn_type <> 'migration_out') AS stranded
  FROM chain_pass c LEFT JOIN outs o USING (owner_type, owner_id)
  WHERE c.is_last AND c.bank IN (SELECT bank FROM old_banks)
  GROUP BY c.owner_type, c.owner_id
)
SELECT owner_type, owner_id, coalesce(o.old_bank, l.old_bank) AS old_bank, i.new_bank,
  CAST(coalesce(o.out_time, i.in_time) AS DATE) AS mig_date, coalesce(o.sub_account, l.sub_account) AS sub_account,
  coalesce(o.held, l.left_old) AS held, o.moved_out, i.moved_in, l.left_old, coalesce(l.stranded, 0) AS stranded,
  concat_ws(';', o.ids, i.ids) AS ids
FROM outs o FULL JOIN ins i USING (owner_type, owner_id) FULL JOIN old_last l USING (owner_type, owner_id);

-- mig_breaks: the owners whose balance did not move whole: the new
-- bank's opening differs from the old bank's closing (or one is
-- missing), the old sub-account was left holding money, or moved on
-- after it closed.
--   difference  opening - closing (or minus what was left behind)
CREATE OR REPLACE TEMP TABLE mig_breaks AS
SELECT *, coalesce(moved_in, 0) - coalesce(moved_out, 0) - coalesce(left_old, 0) AS difference
FROM mig_owner
WHERE moved_in IS DISTINCT FROM moved_out OR coalesce(left_old, 0) <> 0 OR stranded > 0;

-- migration: one row per (old bank, new bank, day): the sub-accounts
-- moved and the money, so that moved in = moved out = held is checked
-- in total too.
--   sub_accounts  owners with a migration line; broken  those in mig_breaks
--   held, moved_out, moved_in  sums over them
CREATE OR REPLACE TEMP TABLE migration AS
SELECT m.old_bank, m.new_bank, m.mig_date, count(*) AS sub_accounts,
  count(*) FILTER (WHERE b.owner_id IS NOT NULL) AS broken,
  sum(m.held) AS held, sum(coalesce(m.moved_out, 0)) AS moved_out, sum(coalesce(m.moved_in, 0)) AS moved_in
FROM mig_owner m LEFT JOIN mig_breaks b USING (owner_type, owner_id)
WHERE m.moved_out IS NOT NULL OR m.moved_in IS NOT NULL
GROUP BY ALL ORDER BY ALL;
