-- validate.sql: one pass over a table's raw text rows (the framed files,
-- each line prefixed with its physical line number). Every value is
-- trimmed (empty = missing), parsed by the normalize macros and checked.
-- A row gets the first failing check as qd_reason ('<reason>:<column>'),
-- in this precedence: missing_value, parse errors (bad_date, bad_amount,
-- bad_number, in column order), bad_enum, negative_amount, out_of_range.
-- dedup.sql and parents.sql then add duplicate_row, duplicate_key, orphan
-- and date_order to rows that pass. Raw PII never leaves this statement:
-- only its tokens and derived attributes are stored.
CREATE OR REPLACE TEMP TABLE stage AS
WITH raw AS (
{{- range $i, $f := .Files}}
  {{if $i}}UNION ALL
  {{end}}SELECT {{$f.ID}} AS qd_fid, "__line" AS qd_line{{range $.Columns}}, qd_trim({{.Ident}}) AS {{.Raw}}{{end}}
  FROM {{$f.Read}}
{{- end}}
), typed AS MATERIALIZED (
  SELECT *{{range .Columns}}, {{.Parse}} AS {{.Ident}}{{end}}
  FROM raw
)
SELECT qd_fid, qd_line,
  {{- range .Lake}}
  {{.Expr}} AS {{.Ident}},
  {{- end}}
  CASE
{{- range .Columns}}{{if .Required}}
    WHEN {{.Raw}} IS NULL THEN 'missing_value:{{.Name}}'{{end}}{{end}}
{{- range .Columns}}{{if and .ParseReason (not .Enum)}}
    WHEN {{.Raw}} IS NOT NULL AND {{.Ident}} IS NULL THEN '{{.ParseReason}}:{{.Name}}'{{end}}{{end}}
{{- range .Columns}}{{if .Enum}}
    WHEN {{.Raw}} IS NOT NULL AND {{.Ident}} IS NULL THEN 'bad_enum:{{.Name}}'{{end}}{{end}}
{{- range .Columns}}{{if .NonNeg}}
    WHEN {{.Ident}} < 0 THEN 'negative_amount:{{.Name}}'{{end}}{{end}}
{{- range .Columns}}{{if .Range}}
    WHEN NOT ({{.Range}}) THEN 'out_of_range:{{.Name}}'{{end}}{{end}}
  END AS qd_reason,
  CAST({{.Thousands}} AS USMALLINT) AS qd_n_thousands,
  CAST({{.DateForm}} AS USMALLINT) AS qd_n_date_form,
  CAST({{.Chinese}} AS USMALLINT) AS qd_n_chinese
FROM typed;
