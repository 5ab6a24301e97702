-- labels/acard: the application-scorecard label of every loan issued by the
-- as-of date (DESIGN.md, with perf_params' window and thresholds).
-- reads: loans, perf/panel
-- uses: perf_params
--
-- The performance window is the month ends with mob 0..acard_window (the
-- first acard_window months on book); DPD is read at month ends.
--   bad           DPD reaches acard_bad_dpd (>=) or the loan is written
--                 off within the window
--   immature      not bad, the window is not fully observed yet and the
--                 loan has not closed (a settled loan has finished its
--                 performance and is labelled on what was observed)
--   good          DPD never exceeds acard_good_max_dpd in the window
--   indeterminate in between (excluded from training)
-- bad is 1 for bad, 0 for good and NULL otherwise.
WITH
p AS (SELECT * FROM perf_params),
perf AS (
    SELECT loan_id,
           max(mob) AS last_mob,
           bool_or(settled OR written_off) AS closed,
           max(dpd) FILTER (WHERE mob <= p.acard_window) AS max_dpd_w,
           bool_or(written_off) FILTER (WHERE mob <= p.acard_window) AS wo_w
    FROM panel, p
    GROUP BY loan_id
),
lab AS (
    SELECT l.loan_id, l.application_id, l.borrower_id,
           CAST(date_trunc('month', l.issue_date) AS DATE) AS issue_month,
           CASE WHEN f.max_dpd_w >= p.acard_bad_dpd OR f.wo_w THEN 'bad'
                WHEN f.last_mob < p.acard_window AND NOT f.closed THEN 'immature'
                WHEN f.max_dpd_w <= p.acard_good_max_dpd THEN 'good'
                ELSE 'indeterminate' END AS label
    FROM loans l JOIN perf f USING (loan_id), p
)
SELECT loan_id, application_id, borrower_id, issue_month, label,
       CAST(CASE label WHEN 'bad' THEN 1 WHEN 'good' THEN 0 END AS INTEGER) AS bad
FROM lab
ORDER BY loan_id
