-- perf/delinquency: the active book at each month end by bucket: loans,
-- outstanding principal, overdue principal+interest, and the bucket's share
-- of the month's loans and outstanding principal. Loans that settled or were
-- written off in the month are not in the active book. Shares are divided
-- once from exact totals (see roll_rates.sql), so runs agree bit for bit.
-- reads: perf/panel
WITH agg AS (
    SELECT month_end, bucket, count(*) AS n,
           sum(outstanding_principal) AS balance,
           sum(overdue_principal + overdue_interest) AS overdue_amount
    FROM panel WHERE status = 'active'
    GROUP BY month_end, bucket
)
SELECT month_end, bucket, n,
       CAST(balance AS DECIMAL(18,2)) AS balance,
       CAST(overdue_amount AS DECIMAL(18,2)) AS overdue_amount,
       n / sum(n) OVER m AS share_n,
       CAST(balance AS DOUBLE) / nullif(CAST(sum(balance) OVER m AS DOUBLE), 0) AS share_balance
FROM agg
WINDOW m AS (PARTITION BY month_end)
ORDER BY month_end, bucket
