-- migration.sql: the custody migration(s) on or before {{.To}}. A bank
-- with migration_out lines is an old bank; its sub-accounts close there
-- (migration_out of the whole balance, leaving 0.00) and open at the new
-- bank with a migration_in of the same amount, owner by owner.
--
-- Everything is read from chain_pass (chain_stream.sql), which holds the
-- migration lines and every sub-account's last line, in one aggregate by
-- owner with fixed-size states; the migration lines' ids are gathered
-- only for the owners that break. (At 10 million loans, 5.6 million
-- owners moved: an ordered string_agg per owner and full joins of the
-- per-side aggregates ran out of a 4.4 GiB memory limit.)
--
-- mig_owner: one row per owner touched by a migration:
--   old_bank, new_bank, mig_date   where from, where to, when
--   held       the old sub-account's balance before it closed (the
--              migration_out's amount plus what it left)
--   moved_out  migration_out amount (old bank); moved_in migration_in
--              amount (new bank)
--   left_old   the old sub-account's last balance_after (0.00 when
--              closed); stranded: 1 when it has lines after it closed
CREATE OR REPLACE TEMP TABLE mig_old_banks AS
SELECT DISTINCT bank FROM chain_pass WHERE txn_type = 'migration_out';

CREATE OR REPLACE TEMP TABLE mig_owner AS
WITH lines AS (
  -- The migration lines, and the last line of every sub-account at an
  -- old bank (last_old).
  SELECT c.owner_type, c.owner_id, c.bank, c.sub_account, c.txn_time, c.amount, c.balance_after,
    c.txn_type = 'migration_out' AS is_out, c.txn_type = 'migration_in' AS is_in,
    c.is_last AND b.bank IS NOT NULL AS last_old
  FROM chain_pass c LEFT JOIN mig_old_banks b USING (bank)
  WHERE c.txn_type IN ('migration_out', 'migration_in') OR (c.is_last AND b.bank IS NOT NULL)
), owners AS (
  SELECT owner_type, owner_id,
    -- the old side: the migration_out lines
    any_value(bank) FILTER (WHERE is_out) AS out_bank, any_value(sub_account) FILTER (WHERE is_out) AS out_sub,
    min(txn_time) FILTER (WHERE is_out) AS out_time, sum(amount) FILTER (WHERE is_out) AS moved_out,
    sum(amount + balance_after) FILTER (WHERE is_out) AS out_held,
    -- the new side: the migration_in lines
    any_value(bank) FILTER (WHERE is_in) AS new_bank, min(txn_time) FILTER (WHERE is_in) AS in_time,
    sum(amount) FILTER (WHERE is_in) AS moved_in,
    -- what the old sub-account ended with, and whether its last line is
    -- not its migration_out (it moved on after it closed)
    any_value(bank) FILTER (WHERE last_old) AS last_bank, any_value(sub_account) FILTER (WHERE last_old) AS last_sub,
    sum(balance_after) FILTER (WHERE last_old) AS left_old,
    count(*) FILTER (WHERE last_old AND NOT is_out) AS moved_on
  FROM lines GROUP BY owner_type, owner_id
)
SELECT owner_type, owner_id, coalesce(out_bank, last_bank) AS old_bank, new_bank,
  CAST(coalesce(out_time, in_time) AS DATE) AS mig_date, coalesce(out_sub, last_sub) AS sub_account,
  coalesce(out_held, left_old) AS held, moved_out, moved_in, left_old,
  CASE WHEN out_time IS NOT NULL THEN moved_on ELSE 0 END AS stranded
FROM owners;

-- mig_breaks: the owners whose balance did not move whole: the new
-- bank's opening differs from the old bank's closing (or one is
-- missing), the old sub-account was left holding money, or moved on
-- after it closed.
--   difference  opening - closing (or minus what was left behind)
--   ids         the owner's migration lines' bank_txn_ids, the
--               migration_out's then the migration_in's, each in id order
CREATE OR REPLACE TEMP TABLE mig_breaks AS
WITH b AS (
  SELECT *, coalesce(moved_in, 0) - coalesce(moved_out, 0) - coalesce(left_old, 0) AS difference
  FROM mig_owner
  WHERE moved_in IS DISTINCT FROM moved_out OR coalesce(left_old, 0) <> 0 OR stranded > 0
), ids AS (
  SELECT owner_type, owner_id, string_agg(bank_txn_id, ';' ORDER BY txn_type DESC, bank_txn_id) AS ids
  FROM chain_pass SEMI JOIN b USING (owner_type, owner_id)
  WHERE txn_type IN ('migration_out', 'migration_in')
  GROUP BY owner_type, owner_id
)
SELECT b.*, coalesce(ids.ids, '') AS ids FROM b LEFT JOIN ids USING (owner_type, owner_id);

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
