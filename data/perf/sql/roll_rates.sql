-- perf/roll_rates: month-over-month transitions. For each month end (month)
-- and each loan active at the previous month end: from_bucket is its bucket
-- then, to_bucket its bucket at this month end, or 'settled' /
-- 'written_off' when it closed this month. n counts loans, balance sums
-- their outstanding principal at the previous month end; share_n and
-- share_balance are the row's share of its (month, from_bucket) total, so
-- each from_bucket row of a month's matrix sums to 1. Shares are divided
-- once from exact totals (integer counts, DECIMAL sums): a float sum over
-- a window adds its rows in whatever order the threads deliver them, so
-- its last digit would differ from run to run.
-- reads: perf/panel
WITH t AS (
    SELECT month_end, status, bucket,
           lag(bucket) OVER w AS from_bucket,
           lag(status) OVER w AS from_status,
           lag(outstanding_principal) OVER w AS from_balance
    FROM panel
    WINDOW w AS (PARTITION BY loan_id ORDER BY month_end)
),
agg AS (
    SELECT month_end AS month, from_bucket,
           CASE WHEN status = 'active' THEN bucket ELSE status END AS to_bucket,
           count(*) AS n, sum(from_balance) AS balance
    FROM t WHERE from_status = 'active'
    GROUP BY ALL
)
SELECT month, from_bucket, to_bucket, n,
       CAST(balance AS DECIMAL(18,2)) AS balance,
       n / sum(n) OVER g AS share_n,
       CAST(balance AS DOUBLE) / nullif(CAST(sum(balance) OVER g AS DOUBLE), 0) AS share_balance
FROM agg
WINDOW g AS (PARTITION BY month, from_bucket)
ORDER BY month, from_bucket, to_bucket
