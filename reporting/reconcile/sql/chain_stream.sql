-- chain_stream.sql: chain.sql in one streaming pass, without sorting.
-- The lake writes custody_transactions sorted by (bank, sub_account,
-- txn_time, bank_txn_id), so read in file order every sub-account's lines
-- come together and in posting order: each line is checked against the
-- line before it (lag over the scan), the last of a sub-account is the
-- one before a change of sub-account (lead). disorder marks a line that
-- comes before the line it follows in that order: if there is any (a
-- table written otherwise, several files), the result is void and
-- chain.sql, which sorts, runs instead. Columns as in chain.sql, plus
-- disorder. (The migration lines are kept too, for migration.sql: the
-- statement is read once for both.) The lines kept (every sub-account's
-- last, 27 million at 10 million loans) are written to a Parquet file in
-- the run's temp directory and read through a view: as a table they
-- held gigabytes of DuckDB's memory through the steps after.
COPY (SELECT * EXCLUDE (pbank, psub, ptime, pid, nbank, nsub, pbal) FROM (
  SELECT *,
    coalesce(CASE WHEN pbank = bank AND psub = sub_account THEN pbal END, 0)
      + CASE WHEN direction = 'in' THEN amount ELSE -amount END AS expected,
    nbank IS DISTINCT FROM bank OR nsub IS DISTINCT FROM sub_account AS is_last,
    coalesce(pbank > bank OR (pbank = bank AND psub > sub_account)
      OR (pbank = bank AND psub = sub_account AND (ptime > txn_time OR (ptime = txn_time AND pid > bank_txn_id))), false) AS disorder
  FROM (
    SELECT bank_txn_id, bank, sub_account, owner_type, owner_id, loan_id, txn_type, txn_time, direction, amount,
      CAST(txn_time AS DATE) AS bdate, balance_after,
      lag(bank) OVER () AS pbank, lag(sub_account) OVER () AS psub, lag(txn_time) OVER () AS ptime,
      lag(bank_txn_id) OVER () AS pid, lag(balance_after) OVER () AS pbal,
      lead(bank) OVER () AS nbank, lead(sub_account) OVER () AS nsub
    FROM ct WHERE CAST(txn_time AS DATE) <= DATE '{{.To}}'
  )
) WHERE balance_after <> expected OR is_last OR disorder OR txn_type IN ('migration_out', 'migration_in')
) TO {{.Chain}} (FORMAT parquet);
CREATE OR REPLACE TEMP VIEW chain_pass AS SELECT * FROM read_parquet({{.Chain}});

CREATE OR REPLACE TEMP TABLE chain_breaks AS SELECT * FROM chain_pass WHERE balance_after <> expected;
