-- labels/bcard: the behaviour-scorecard label at each month end (obs_date)
-- of each loan that is active at that month end with mob >= bcard_min_mob.
--   bad       within the next bcard_window month ends DPD reaches
--             bcard_bad_dpd (>=) or the loan is written off
--   immature  not bad, and the next bcard_window month ends are not all
--             observed (as-of too close) while the loan is still open
--   good      otherwise (including loans that settle within the window)
-- bad is 1 for bad, 0 for good and NULL for immature. DPD is read at month
-- ends, as everywhere in the panel.
-- reads: perf/panel
-- uses: perf_params
WITH
p AS (SELECT * FROM perf_params),
ev AS (
    SELECT loan_id, month_end, mob, status,
           -- the next mob at which the loan is bad, strictly after this one
           min(CASE WHEN dpd >= p.bcard_bad_dpd OR written_off THEN mob END) OVER (
               PARTITION BY loan_id ORDER BY mob
               ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_bad_mob,
           max(mob) OVER (PARTITION BY loan_id) AS last_mob,
           bool_or(settled OR written_off) OVER (PARTITION BY loan_id) AS closed
    FROM panel, p
),
lab AS (
    SELECT loan_id, month_end AS obs_date,
           CASE WHEN next_bad_mob <= mob + p.bcard_window THEN 'bad'
                WHEN last_mob < mob + p.bcard_window AND NOT closed THEN 'immature'
                ELSE 'good' END AS label
    FROM ev, p
    WHERE status = 'active' AND mob >= p.bcard_min_mob
)
SELECT loan_id, obs_date, label,
       CAST(CASE label WHEN 'bad' THEN 1 WHEN 'good' THEN 0 END AS INTEGER) AS bad
FROM lab
ORDER BY loan_id, obs_date
