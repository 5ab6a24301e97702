-- Vintage maturation: for the cohort of loans whose vintage is observed for
-- at least {{H}} months, how many A-card bads (DPD >= acard_bad_dpd or
-- written off) have appeared by each mob 0..{{H}}, as a rate and as a share
-- of the bads seen by the A-card window and by mob {{H}}. A curve that is
-- nearly flat after the window justifies the window.
-- reads: loans, perf/panel
-- uses: perf_params
WITH
p AS (SELECT *, year(as_of) * 12 + month(as_of) - 1 AS as_of_mi FROM perf_params),
bad AS (
    SELECT pn.loan_id,
           min(pn.mob) FILTER (WHERE pn.dpd >= p.acard_bad_dpd OR pn.written_off) AS bad_mob
    FROM panel pn JOIN loans l USING (loan_id), p
    WHERE year(l.issue_date) * 12 + month(l.issue_date) - 1 + {{H}} <= p.as_of_mi
    GROUP BY pn.loan_id
),
n AS (SELECT count(*) AS loans FROM bad),
by_mob AS (SELECT bad_mob AS mob, count(*) AS k FROM bad WHERE bad_mob IS NOT NULL GROUP BY 1),
t AS (
    SELECT m.mob, n.loans,
           CAST(sum(coalesce(b.k, 0)) OVER (ORDER BY m.mob) AS BIGINT) AS bads
    FROM (SELECT unnest(range(0, {{H}} + 1)) AS mob) m
    CROSS JOIN n
    LEFT JOIN by_mob b USING (mob)
)
SELECT t.mob, t.loans, t.bads,
       coalesce(t.bads / nullif(t.loans, 0), 0) AS bad_rate,
       t.bads / nullif((SELECT bads FROM t, p WHERE mob = p.acard_window), 0) AS share_of_window,
       t.bads / nullif((SELECT bads FROM t WHERE mob = {{H}}), 0) AS share_of_horizon
FROM t
ORDER BY t.mob
