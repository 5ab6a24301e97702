-- perf/panel: one row per loan and month end, from the issue month end
-- (mob 0) to the earlier of the as-of date and the month the loan closed
-- (settled or written off). Reads the views chunk_loans, chunk_repayments,
-- chunk_payoff and chunk_closure (one hash partition of the loans with
-- their repayments, perf/installment_payoff and perf/loan_closure rows, so
-- that a large book is built in chunks that fit in memory) and the one-row
-- table perf_params. The stage runs this query once per chunk inside
-- COPY (...) TO '<dir>/part-<chunk>.parquet'.
-- reads: loans, repayments, perf/installment_payoff, perf/loan_closure
-- uses: perf_params
--
-- Months are handled as integers mi = year*12 + month-1 so that month-end
-- arithmetic never drifts (Jan 31 + 1 month is not Feb 28 + 1 month).
--
-- DPD at month end d (DESIGN.md): d minus the earliest due date <= d whose
-- installment is not fully paid by d. An installment is fully paid on the
-- first day on which the running sum of principal_paid + interest_paid
-- booked against its installment_no reaches principal_due + interest_due;
-- payments before the due date count (the day of
-- perf/installment_payoff.paid_off_at when it is <= the as-of date). So an installment is open (past due)
-- at month end d exactly when mi(due_date) <= mi(d) < mi(full_date); we
-- expand only those (installment, month) pairs, which are few in a healthy
-- book, and take the minimum due date per loan-month.
--
-- Settlement: a loan whose status is 'settled' is dated by its last payment
-- (early settlement); installments due after that date are cancelled. Any
-- other loan whose every installment is fully paid is settled on the last
-- full-payment date whatever its exported status says (exports lag).
-- Write-off: a loan whose status is 'written_off' is dated by the first
-- month end at which DPD reaches 180 (perf/loan_closure.wo180_month_end); if it never does, by its last panel
-- month when the as-of date is the end of the data (perf_params.data_end,
-- the default as-of), and not at all (still active) for an earlier as-of. The row of the closing month carries status
-- 'settled' / 'written_off' and the panel stops there.
--
-- Columns: mob (issue month = 0), dpd, bucket (the dpd_bucket macro: C 0,
-- M1 1-30, M2 31-60, M3 61-90, M4+ >90), worst_dpd so far, outstanding_principal (principal
-- minus all principal paid by d, also against cancelled installments),
-- overdue_principal / overdue_interest (unpaid parts of past-due
-- installments), due_in_month (principal+interest due in the month),
-- paid_in_month (principal+interest+penalty paid in the month).
WITH
p AS (SELECT as_of, year(as_of) * 12 + month(as_of) - 1 AS as_of_mi,
              year(data_end) * 12 + month(data_end) - 1 AS data_end_mi FROM perf_params),
-- loans issued by the as-of date, with an integer key (lk) so that the
-- heavy joins, aggregations and windows below work on integers
loan0 AS (
    SELECT l.loan_id, l.issue_date, l.principal, l.status,
           CAST(row_number() OVER (ORDER BY l.loan_id) AS BIGINT) AS lk
    FROM chunk_loans l, p WHERE l.issue_date <= p.as_of
),
pay AS (
    SELECT l.lk, r.installment_no, CAST(r.paid_at AS DATE) AS d,
           r.principal_paid AS pp, r.interest_paid AS ip, r.penalty_paid AS pen
    FROM chunk_repayments r JOIN loan0 l USING (loan_id)
),
-- a loan exported as 'settled' is dated by its last payment (all payments,
-- also after the as-of date), or its issue date without any; the day all
-- its installments were paid off and its 180-DPD month end come from
-- perf/loan_closure (payments after the as-of date are cut off below)
loan AS (
    SELECT l.*, year(l.issue_date) * 12 + month(l.issue_date) - 1 AS issue_mi,
           CASE WHEN l.status = 'settled' THEN coalesce(CAST(c.last_paid_at AS DATE), l.issue_date) END AS status_settle_date,
           CASE WHEN CAST(c.paid_off_at AS DATE) <= p.as_of THEN CAST(c.paid_off_at AS DATE) END AS done_all,
           year(c.wo180_month_end) * 12 + month(c.wo180_month_end) - 1 AS wo180_mi
    FROM loan0 l LEFT JOIN chunk_closure c USING (loan_id), p
),
-- the schedule, without installments cancelled by an early settlement;
-- done_date: the day the installment was paid off by payments up to the
-- as-of date (perf/installment_payoff; nothing due: its due date)
inst AS (
    SELECT l.lk, s.installment_no, s.due_date, s.principal_due, s.interest_due, s.amount_due,
           year(s.due_date) * 12 + month(s.due_date) - 1 AS due_mi,
           CASE WHEN s.amount_due <= 0 THEN s.due_date
                WHEN CAST(s.paid_off_at AS DATE) <= p.as_of THEN CAST(s.paid_off_at AS DATE) END AS done_date
    FROM chunk_payoff s JOIN loan l USING (loan_id), p
    WHERE l.status_settle_date IS NULL OR s.due_date <= l.status_settle_date
),
loan_span0 AS (
    SELECT l.loan_id, l.lk, l.principal, l.status, l.issue_mi, s.settle_mi,
           CASE WHEN l.wo180_mi <= p.as_of_mi THEN l.wo180_mi END AS wo180_mi,
           least(p.as_of_mi, s.settle_mi) AS end0_mi
    FROM loan l, p,
         LATERAL (SELECT CASE WHEN coalesce(l.status_settle_date, l.done_all) <= p.as_of
                              THEN year(coalesce(l.status_settle_date, l.done_all)) * 12
                                   + month(coalesce(l.status_settle_date, l.done_all)) - 1 END AS settle_mi) s
),
-- a written-off loan that never reached 180 DPD is written off at its last
-- month when the as-of date is the end of the data, else not yet
loan_span AS (
    SELECT ls.*,
           CASE WHEN ls.status <> 'written_off' THEN NULL
                WHEN ls.wo180_mi <= ls.end0_mi THEN ls.wo180_mi
                WHEN p.data_end_mi <= p.as_of_mi THEN ls.end0_mi END AS wo_mi,
           least(ls.end0_mi, ls.wo180_mi) AS end_mi
    FROM loan_span0 ls, p
),
-- (installment, month) pairs at which the installment is past due
open_inst AS (
    SELECT i.lk, i.installment_no, i.due_date, i.principal_due, i.interest_due,
           unnest(range(i.due_mi,
                 least(ls.end_mi + 1,
                       coalesce(year(i.done_date) * 12 + month(i.done_date) - 1, ls.end_mi + 1)))) AS mi
    FROM inst i JOIN loan_span ls USING (lk), p
    WHERE i.due_date <= p.as_of AND (i.done_date IS NULL OR i.done_date > last_day(i.due_date))
),
-- running principal and interest paid per open installment by month
open_pay AS (
    SELECT x.lk, x.installment_no, year(x.d) * 12 + month(x.d) - 1 AS paid_mi,
           sum(sum(x.pp)) OVER w AS cum_principal,
           sum(sum(x.ip)) OVER w AS cum_interest
    FROM pay x SEMI JOIN (SELECT DISTINCT lk, installment_no FROM open_inst) o USING (lk, installment_no), p
    WHERE x.d <= p.as_of
    GROUP BY x.lk, x.installment_no, paid_mi
    WINDOW w AS (PARTITION BY x.lk, x.installment_no ORDER BY paid_mi)
),
open_month AS (
    SELECT o.lk, o.mi,
           min(o.due_date) AS oldest_due,
           CAST(sum(greatest(o.principal_due - coalesce(c.cum_principal, 0), 0)) AS DECIMAL(18,2)) AS overdue_principal,
           CAST(sum(greatest(o.interest_due - coalesce(c.cum_interest, 0), 0)) AS DECIMAL(18,2)) AS overdue_interest
    FROM open_inst o ASOF LEFT JOIN open_pay c
      ON o.lk = c.lk AND o.installment_no = c.installment_no AND o.mi >= c.paid_mi
    GROUP BY o.lk, o.mi
),
-- money due and paid per loan-month
flows AS (
    SELECT lk, CAST(mi AS INTEGER) AS mi,
           CAST(sum(due) AS DECIMAL(18,2)) AS due,
           CAST(sum(paid) AS DECIMAL(18,2)) AS paid,
           CAST(sum(principal_paid) AS DECIMAL(18,2)) AS principal_paid
    FROM (
        SELECT i.lk, i.due_mi AS mi, i.amount_due AS due, CAST(0 AS DECIMAL(18,2)) AS paid, CAST(0 AS DECIMAL(18,2)) AS principal_paid
        FROM inst i, p WHERE i.due_date <= p.as_of
        UNION ALL
        SELECT x.lk, year(x.d) * 12 + month(x.d) - 1, 0, x.pp + x.ip + x.pen, x.pp
        FROM pay x, p WHERE x.d <= p.as_of
    ) GROUP BY lk, mi
),
grid AS (
    SELECT lk, principal, CAST(wo_mi AS INTEGER) AS wo_mi, CAST(issue_mi AS INTEGER) AS issue_mi,
           CAST(settle_mi AS INTEGER) AS settle_mi, CAST(unnest(range(issue_mi, end_mi + 1)) AS INTEGER) AS mi
    FROM loan_span
),
dpd AS (
    SELECT g.lk, g.mi, g.mi - g.issue_mi AS mob, g.wo_mi, g.settle_mi, g.principal,
           last_day(make_date(CAST(g.mi // 12 AS BIGINT), CAST(g.mi % 12 + 1 AS BIGINT), 1)) AS month_end,
           coalesce(o.overdue_principal, 0) AS overdue_principal,
           coalesce(o.overdue_interest, 0) AS overdue_interest,
           coalesce(f.due, 0) AS due_in_month,
           coalesce(f.paid, 0) AS paid_in_month,
           coalesce(f.principal_paid, 0) AS principal_paid,
           CAST(coalesce(last_day(make_date(CAST(g.mi // 12 AS BIGINT), CAST(g.mi % 12 + 1 AS BIGINT), 1)) - o.oldest_due, 0) AS INTEGER) AS dpd
    FROM grid g
    LEFT JOIN flows f ON f.lk = g.lk AND f.mi = g.mi
    LEFT JOIN open_month o ON o.lk = g.lk AND o.mi = g.mi
),
cum AS (
    SELECT *,
           greatest(principal - sum(principal_paid) OVER w, 0) AS outstanding_principal,
           max(dpd) OVER w AS worst_dpd
    FROM dpd
    WINDOW w AS (PARTITION BY lk ORDER BY mi ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT l.loan_id,
       c.month_end,
       CAST(c.mob AS INTEGER) AS mob,
       CASE WHEN c.mi = c.wo_mi THEN 'written_off'
            WHEN c.mi = c.settle_mi THEN 'settled'
            ELSE 'active' END AS status,
       c.dpd,
       dpd_bucket(c.dpd) AS bucket,
       CAST(c.worst_dpd AS INTEGER) AS worst_dpd,
       CAST(c.outstanding_principal AS DECIMAL(18,2)) AS outstanding_principal,
       CAST(c.overdue_principal AS DECIMAL(18,2)) AS overdue_principal,
       CAST(c.overdue_interest AS DECIMAL(18,2)) AS overdue_interest,
       CAST(c.due_in_month AS DECIMAL(18,2)) AS due_in_month,
       CAST(c.paid_in_month AS DECIMAL(18,2)) AS paid_in_month,
       coalesce(c.mi = c.settle_mi, false) AS settled,
       coalesce(c.mi = c.wo_mi, false) AS written_off
FROM cum c JOIN loan0 l USING (lk)
ORDER BY c.lk, c.mi
