-- summary.sql: one row per day from {{.From}} to {{.To}}.
--   matched_count, matched_amount   platform records matched by a line
--                                   posted that day (late postings included)
--   open_count, open_amount         breaks open at the end of the day
--   open_<kind>                     of which of each kind
--   open_age_0_3, _4_30, _31_90, _over_90   of which by age in days
CREATE OR REPLACE TEMP TABLE summary AS
WITH days AS (
  SELECT CAST(d AS DATE) AS day FROM range(DATE '{{.From}}', DATE '{{.To}}' + 1, INTERVAL 1 DAY) t(d)
), matched AS (
  SELECT bdate AS day, n, amount AS amt FROM matched_daily WHERE bdate >= DATE '{{.From}}'
), open AS (
  SELECT d.day, b.kind, b.amount, d.day - b.opened_on AS age
  FROM days d JOIN breaks_out b ON b.opened_on <= d.day AND (b.closed_on IS NULL OR b.closed_on > d.day)
)
SELECT d.day AS date, coalesce(any_value(m.n), 0) AS matched_count, coalesce(any_value(m.amt), 0) AS matched_amount,
  count(o.kind) AS open_count, coalesce(sum(o.amount), 0) AS open_amount,
  count(*) FILTER (WHERE o.kind = 'bank_missing') AS open_bank_missing,
  count(*) FILTER (WHERE o.kind = 'platform_missing') AS open_platform_missing,
  count(*) FILTER (WHERE o.kind = 'duplicate') AS open_duplicate,
  count(*) FILTER (WHERE o.kind = 'amount_mismatch') AS open_amount_mismatch,
  count(*) FILTER (WHERE o.kind = 'timing') AS open_timing,
  count(*) FILTER (WHERE o.kind = 'balance_chain') AS open_balance_chain,
  count(*) FILTER (WHERE o.kind = 'migration_mismatch') AS open_migration_mismatch,
  count(*) FILTER (WHERE o.age <= 3) AS open_age_0_3,
  count(*) FILTER (WHERE o.age BETWEEN 4 AND 30) AS open_age_4_30,
  count(*) FILTER (WHERE o.age BETWEEN 31 AND 90) AS open_age_31_90,
  count(*) FILTER (WHERE o.age > 90) AS open_age_over_90
FROM days d LEFT JOIN matched m ON m.day = d.day LEFT JOIN open o ON o.day = d.day
GROUP BY d.day ORDER BY d.day;
