-- state.sql: prev_open, the breaks the previous run (the latest before
-- this one, by last day) left open, carried over into this run: a break
-- matched now is closed, one found no more is closed as corrected, the
-- others stay open with their first_seen. Columns as in breaks_out.
CREATE OR REPLACE TEMP TABLE prev_open AS
{{- if .Prev}}
SELECT break_id, kind, platform_record, bank_txn_ids, owner_type, owner_id, sub_account, loan_id,
  platform_date, bank_date, platform_amount, bank_amount, difference, amount, opened_on, closed_on, first_seen
FROM read_parquet({{.Prev}}) WHERE status = 'open';
{{- else}}
SELECT CAST(NULL AS VARCHAR) AS break_id, CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS VARCHAR) AS platform_record,
  CAST(NULL AS VARCHAR) AS bank_txn_ids, CAST(NULL AS VARCHAR) AS owner_type, CAST(NULL AS VARCHAR) AS owner_id,
  CAST(NULL AS VARCHAR) AS sub_account, CAST(NULL AS VARCHAR) AS loan_id, CAST(NULL AS DATE) AS platform_date,
  CAST(NULL AS DATE) AS bank_date, CAST(NULL AS DECIMAL(18,2)) AS platform_amount, CAST(NULL AS DECIMAL(18,2)) AS bank_amount,
  CAST(NULL AS DECIMAL(18,2)) AS difference, CAST(NULL AS DECIMAL(18,2)) AS amount, CAST(NULL AS DATE) AS opened_on,
  CAST(NULL AS DATE) AS closed_on, CAST(NULL AS DATE) AS first_seen
WHERE false;
{{- end}}
