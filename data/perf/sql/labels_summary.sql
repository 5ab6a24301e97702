-- labels/summary: A-card labels per vintage (issue month): loans, goods,
-- bads, indeterminates, immature loans, and the bad rate among goods and
-- bads.
-- reads: labels/acard
SELECT issue_month,
       count(*) AS loans,
       count(*) FILTER (WHERE label = 'good') AS goods,
       count(*) FILTER (WHERE label = 'bad') AS bads,
       count(*) FILTER (WHERE label = 'indeterminate') AS indeterminates,
       count(*) FILTER (WHERE label = 'immature') AS immature,
       count(*) FILTER (WHERE label = 'bad')
           / nullif(count(*) FILTER (WHERE label IN ('good', 'bad')), 0) AS bad_rate
FROM out_labels_acard
GROUP BY issue_month
ORDER BY issue_month
