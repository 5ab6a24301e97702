-- write.sql: the table's new contents, the lake's rows plus this run's
-- accepted ones, sorted by the table's key, as one zstd Parquet file (level
-- 1: a fifth less CPU than the default 3 for files under 1% larger).
-- (No ORDER BY when the stage is known to hold one file's rows already in
-- that order and insertion order is preserved. A table too large to sort
-- in one piece is written a range of its leading sort columns at a time,
-- Where selecting the range, into a file per range.)
COPY (
  SELECT {{.Cols}} FROM (
    {{- if .LakeScan}}
    SELECT {{.Cols}} FROM {{.LakeScan}}
    UNION ALL
    {{- end}}
    SELECT {{.Cols}} FROM stage WHERE qd_reason IS NULL
  ){{if .Where}} WHERE {{.Where}}{{end}}{{if .Sort}} ORDER BY {{.Sort}}{{end}}
) TO {{.Out}} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1);
