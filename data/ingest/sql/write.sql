-- write.sql: the table's new contents, the lake's rows plus this run's
-- accepted ones, sorted by the table's key, as one zstd Parquet file.
COPY (
  SELECT {{.Cols}} FROM (
    {{- if .LakeScan}}
    SELECT {{.Cols}} FROM {{.LakeScan}}
    UNION ALL
    {{- end}}
    SELECT {{.Cols}} FROM stage WHERE qd_reason IS NULL
  ) ORDER BY {{.Sort}}
) TO {{.Out}} (FORMAT parquet, COMPRESSION zstd);
