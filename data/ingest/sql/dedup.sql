-- dedup.sql: rows seen before. The candidates are the lake's rows
-- (qd_fid -1, first) and this run's rows that passed validate.sql, in file
-- order (file, then line). A row equal in every column to an earlier one
-- is a duplicate_row; of the rows with distinct content, a later one with
-- the key of an earlier one is a duplicate_key. The first occurrence is
-- kept. Only rows whose key may repeat are windowed. cand is NOT
-- MATERIALIZED: DuckDB would otherwise materialise a CTE read twice, every
-- column of every row (on the custody statement, three quarters of the
-- step's CPU), where the key hash needs only the key columns and the
-- windows only the few rows whose key hash repeats.
CREATE OR REPLACE TEMP TABLE dups AS
WITH cand AS NOT MATERIALIZED (
  {{- if .LakeScan}}
  SELECT -1 AS qd_fid, CAST(0 AS BIGINT) AS qd_line, {{.Cols}} FROM {{.LakeScan}}
  UNION ALL
  {{- end}}
  SELECT qd_fid, qd_line, {{.Cols}} FROM stage WHERE qd_reason IS NULL
), multi AS (
  -- Rows whose key hashes like another row's: a superset of the rows
  -- whose key repeats, found with a small hash table; the windows below
  -- compare the real values.
  {{- if .Cands}}
  -- (Framing found the rows in key order: qd_cand lists the rows next
  -- to a row with an equal key.)
  SELECT cand.* FROM cand SEMI JOIN qd_cand USING (qd_fid, qd_line)
  {{- else}}
  SELECT * FROM cand WHERE hash({{.Key}}) IN (
    SELECT hash({{.Key}}) AS h FROM cand GROUP BY h HAVING count(*) > 1
  )
  {{- end}}
), byrow AS (
  SELECT *, row_number() OVER (PARTITION BY {{.Cols}} ORDER BY qd_fid, qd_line) AS qd_rn FROM multi
), bykey AS (
  SELECT qd_fid, qd_line, qd_rn,
    row_number() OVER (PARTITION BY {{.Key}}, qd_rn = 1 ORDER BY qd_fid, qd_line) AS qd_rk
  FROM byrow
)
SELECT qd_fid, qd_line,
  CASE WHEN qd_rn > 1 THEN 'duplicate_row:' ELSE 'duplicate_key:{{.KeyName}}' END AS qd_reason
FROM bykey
WHERE qd_fid >= 0 AND (qd_rn > 1 OR qd_rk > 1);

UPDATE stage SET qd_reason = dups.qd_reason FROM dups
WHERE stage.qd_fid = dups.qd_fid AND stage.qd_line = dups.qd_line;
