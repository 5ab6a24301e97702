-- parents.sql: referential integrity and date order against a parent
-- table (the lake's rows plus this run's accepted ones, in {{.Keys}}).
-- A row whose reference is not there is an orphan; one whose date is
-- before the parent's (a repayment before issue, a due date not after
-- issue) is date_order.
CREATE OR REPLACE TEMP TABLE late AS
SELECT s.qd_fid, s.qd_line,
  CASE WHEN p.{{.ParentKey}} IS NULL THEN 'orphan:{{.Col}}' ELSE 'date_order:{{.DateCol}}' END AS qd_reason
FROM stage s LEFT JOIN {{.Keys}} p ON s.{{.Col}} = p.{{.ParentKey}}
WHERE s.qd_reason IS NULL AND (p.{{.ParentKey}} IS NULL{{if .DateOrder}} OR NOT ({{.DateOrder}}){{end}});

UPDATE stage SET qd_reason = late.qd_reason FROM late
WHERE stage.qd_fid = late.qd_fid AND stage.qd_line = late.qd_line;
