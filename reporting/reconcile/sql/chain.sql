-- chain.sql: balance continuity. Each sub-account's lines (bank,
-- sub_account), in posting order (txn_time, then bank_txn_id), on or
-- before {{.To}}: a line's balance_after must be the previous line's
-- (0.00 before the first: a sub-account opens empty) plus its amount in,
-- or minus its amount out. One pass over the statement keeps the lines
-- where it is not, each sub-account's last line and the migration lines
-- (for migration.sql):
--   expected   the balance the chain gives
--   is_last    the sub-account's last line (its closing balance)
--   broken     balance_after <> expected
--   (the other columns are the statement's)
-- Written to a file in the run's temp directory, as chain_stream.sql.
COPY (SELECT * FROM (
  SELECT bank_txn_id, bank, sub_account, owner_type, owner_id, loan_id, txn_type, txn_time, direction, amount,
    CAST(txn_time AS DATE) AS bdate, balance_after,
    coalesce(lag(balance_after) OVER w, 0) + CASE WHEN direction = 'in' THEN amount ELSE -amount END AS expected,
    lead(bank_txn_id) OVER w IS NULL AS is_last
  FROM ct WHERE CAST(txn_time AS DATE) <= DATE '{{.To}}'
  WINDOW w AS (PARTITION BY bank, sub_account ORDER BY txn_time, bank_txn_id)
) WHERE balance_after <> expected OR is_last OR txn_type IN ('migration_out', 'migration_in')
) TO {{.ChainSorted}} (FORMAT parquet);
CREATE OR REPLACE TEMP VIEW chain_pass AS SELECT * FROM read_parquet({{.ChainSorted}});

CREATE OR REPLACE TEMP TABLE chain_breaks AS SELECT * FROM chain_pass WHERE balance_after <> expected;
