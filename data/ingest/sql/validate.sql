-- validate.sql: one pass over a table's raw text rows (the framed files,
-- each line prefixed with its physical line number). Every value is
-- trimmed (empty = missing), parsed by the normalize macros and checked.
-- (Framing notes which files hold a value with spaces or tabs around it;
-- the others skip the trim: DuckDB already reads an empty field as NULL.)
--
-- Each check is a condition on the typed projection (so each parse runs
-- once, there); the row's reason is that of the first check that fails,
-- in the precedence order missing_value, parse errors (bad_date,
-- bad_amount, bad_number, in column order), bad_enum, negative_amount,
-- out_of_range. (A CASE evaluates each condition only on the rows that
-- passed the ones before.)
-- dedup.sql and parents.sql then add duplicate_row, duplicate_key, orphan
-- and date_order to rows that pass. Raw PII never leaves this statement:
-- only its tokens and derived attributes are stored.
CREATE OR REPLACE TEMP TABLE stage AS
WITH raw AS (
{{- range $i, $f := .Files}}
  {{if $i}}UNION ALL
  {{end}}SELECT {{$f.ID}} AS qd_fid, "__line" AS qd_line{{range $.Columns}}, {{if $f.Trim}}qd_trim({{.Ident}}){{else}}{{.Ident}}{{end}} AS {{.Raw}}{{end}}
  FROM {{$f.Read}}
{{- end}}
), typed AS (
  SELECT *{{range .Columns}}, {{.Parse}} AS {{.Ident}}{{end}}
  FROM raw
), checked AS (
  SELECT qd_fid, qd_line,
    {{- range .Lake}}
    {{.Expr}} AS {{.Ident}},
    {{- end}}
    CASE{{range .Checks}}
      WHEN {{.Cond}} THEN '{{.Reason}}'{{end}}
    END AS qd_reason,
    CAST({{.Thousands}} AS USMALLINT) AS qd_n_thousands,
    CAST({{.DateForm}} AS USMALLINT) AS qd_n_date_form,
    CAST({{.Chinese}} AS USMALLINT) AS qd_n_chinese
  FROM typed
)
SELECT * FROM checked;
