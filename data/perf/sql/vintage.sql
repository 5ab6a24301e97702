-- perf/vintage: vintage curves. For each issue month (vintage, first day of
-- the month) and each mob from 0 to the as-of month: the vintage's loans and
-- principal, and the cumulative count and principal of its loans that have
-- ever been 30+ DPD (DPD >= 30) and 90+ DPD (DPD >= 90, or written off) by
-- that mob, with their shares. DPD is read at month ends; a loan that closed
-- earlier keeps its worst state.
-- reads: loans, perf/panel
-- uses: perf_params
WITH
p AS (SELECT * FROM perf_params),
lw AS (
    SELECT loan_id,
           min(mob) FILTER (WHERE dpd >= 30) AS mob30,
           min(mob) FILTER (WHERE dpd >= 90 OR written_off) AS mob90
    FROM panel GROUP BY loan_id
),
lv AS (
    SELECT CAST(date_trunc('month', l.issue_date) AS DATE) AS issue_month, l.principal, lw.mob30, lw.mob90
    FROM loans l JOIN lw USING (loan_id)
),
v AS (SELECT issue_month, count(*) AS loans, sum(principal) AS principal FROM lv GROUP BY issue_month),
grid AS (
    SELECT v.*, unnest(range(0, datediff('month', v.issue_month, p.as_of) + 1)) AS mob FROM v, p
),
ev AS (
    SELECT issue_month, mob, sum(n30) AS n30, sum(a30) AS a30, sum(n90) AS n90, sum(a90) AS a90 FROM (
        SELECT issue_month, mob30 AS mob, 1 AS n30, principal AS a30, 0 AS n90, 0 AS a90 FROM lv WHERE mob30 IS NOT NULL
        UNION ALL
        SELECT issue_month, mob90, 0, 0, 1, principal FROM lv WHERE mob90 IS NOT NULL
    ) GROUP BY issue_month, mob
),
cum AS (
    SELECT g.issue_month, g.mob, g.loans, g.principal,
           sum(coalesce(e.n30, 0)) OVER w AS ever30_loans,
           sum(coalesce(e.a30, 0)) OVER w AS ever30_principal,
           sum(coalesce(e.n90, 0)) OVER w AS ever90_loans,
           sum(coalesce(e.a90, 0)) OVER w AS ever90_principal
    FROM grid g LEFT JOIN ev e USING (issue_month, mob)
    WINDOW w AS (PARTITION BY g.issue_month ORDER BY g.mob)
)
SELECT issue_month, CAST(mob AS INTEGER) AS mob, loans,
       CAST(principal AS DECIMAL(18,2)) AS principal,
       CAST(ever30_loans AS BIGINT) AS ever30_loans,
       CAST(ever30_principal AS DECIMAL(18,2)) AS ever30_principal,
       ever30_loans / loans AS ever30_share_loans,
       CAST(ever30_principal AS DOUBLE) / CAST(principal AS DOUBLE) AS ever30_share_principal,
       CAST(ever90_loans AS BIGINT) AS ever90_loans,
       CAST(ever90_principal AS DECIMAL(18,2)) AS ever90_principal,
       ever90_loans / loans AS ever90_share_loans,
       CAST(ever90_principal AS DOUBLE) / CAST(principal AS DOUBLE) AS ever90_share_principal
FROM cum
ORDER BY issue_month, mob
