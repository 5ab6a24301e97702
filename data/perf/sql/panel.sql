-- perf/panel: one row per loan and month end, from the issue month end
-- (mob 0) to the earlier of the as-of date and the month the loan closed
-- (settled or written off). Reads the views loans, repayment_schedule and
-- repayments and the one-row table perf_params (as_of). The stage runs
-- this query inside COPY (...) TO '<dir>/part-0.parquet'.
--
-- Months are handled as integers mi = year*12 + month-1 so that month-end
-- arithmetic never drifts (Jan 31 + 1 month is not Feb 28 + 1 month).
--
-- DPD at month end d (DESIGN.md): d minus the earliest due date <= d whose
-- installment is not fully paid by d. An installment is fully paid on the
-- first day on which the running sum of principal_paid + interest_paid
-- booked against its installment_no reaches principal_due + interest_due;
-- payments before the due date count. So an installment is open (past due)
-- at month end d exactly when mi(due_date) <= mi(d) < mi(full_date); we
-- expand only those (installment, month) pairs, which are few in a healthy
-- book, and take the minimum due date per loan-month.
--
-- Settlement: a loan whose status is 'settled' is dated by its last payment
-- (early settlement); installments due after that date are cancelled. Any
-- other loan whose every installment is fully paid is settled on the last
-- full-payment date whatever its exported status says (exports lag).
-- Write-off: a loan whose status is 'written_off' is dated by the first
-- month end at which DPD reaches 180; if it never does, by its last panel
-- month when the as-of date is the end of the data (perf_params.data_end,
-- the default as-of), and not at all (still active) for an earlier as-of. The row of the closing month carries status
-- 'settled' / 'written_off' and the panel stops there.
--
-- Columns: mob (issue month = 0), dpd, bucket (C 0, M1 1-30, M2 31-60,
-- M3 61-90, M4+ >90), worst_dpd so far, outstanding_principal (principal
-- minus all principal paid by d, also against cancelled installments),
-- overdue_principal / overdue_interest (unpaid parts of past-due
-- installments), due_in_month (principal+interest due in the month),
-- paid_in_month (principal+interest+penalty paid in the month).
WITH
p AS (SELECT as_of, year(as_of) * 12 + month(as_of) - 1 AS as_of_mi,
              year(data_end) * 12 + month(data_end) - 1 AS data_end_mi FROM perf_params),
pay_all AS (
    SELECT loan_id, installment_no, CAST(paid_at AS DATE) AS paid_date,
           principal_paid, interest_paid, penalty_paid
    FROM repayments
),
last_pay AS (
    SELECT loan_id, max(paid_date) AS last_paid FROM pay_all GROUP BY loan_id
),
loan AS (
    SELECT l.loan_id, l.issue_date, l.principal, l.status,
           year(l.issue_date) * 12 + month(l.issue_date) - 1 AS issue_mi,
           CASE WHEN l.status = 'settled' THEN coalesce(lp.last_paid, l.issue_date) END AS status_settle_date
    FROM loans l LEFT JOIN last_pay lp USING (loan_id), p
    WHERE l.issue_date <= p.as_of
),
-- payments known at the as-of date
pay AS (
    SELECT pa.*, year(pa.paid_date) * 12 + month(pa.paid_date) - 1 AS paid_mi
    FROM pay_all pa, p WHERE pa.paid_date <= p.as_of
),
-- the schedule, without installments cancelled by an early settlement
inst AS (
    SELECT s.loan_id, s.installment_no, s.due_date, s.principal_due, s.interest_due,
           s.principal_due + s.interest_due AS amount_due,
           year(s.due_date) * 12 + month(s.due_date) - 1 AS due_mi
    FROM repayment_schedule s JOIN loan USING (loan_id)
    WHERE loan.status_settle_date IS NULL OR s.due_date <= loan.status_settle_date
),
-- running amount paid against each installment, per payment day
inst_pay_day AS (
    SELECT loan_id, installment_no, paid_date,
           sum(sum(principal_paid + interest_paid)) OVER (
               PARTITION BY loan_id, installment_no ORDER BY paid_date) AS cum_paid
    FROM pay GROUP BY loan_id, installment_no, paid_date
),
full_paid AS (
    SELECT i.loan_id, i.installment_no, min(d.paid_date) AS full_date
    FROM inst i JOIN inst_pay_day d USING (loan_id, installment_no)
    WHERE d.cum_paid >= i.amount_due
    GROUP BY i.loan_id, i.installment_no
),
inst_state AS (
    SELECT i.*, f.full_date,
           CASE WHEN i.amount_due <= 0 THEN i.due_date ELSE f.full_date END AS done_date
    FROM inst i LEFT JOIN full_paid f USING (loan_id, installment_no)
),
settle AS (
    SELECT loan.loan_id,
           coalesce(loan.status_settle_date,
                 CASE WHEN count(s.installment_no) > 0 AND count(s.done_date) = count(s.installment_no)
                      THEN max(s.done_date) END) AS settle_date
    FROM loan LEFT JOIN inst_state s USING (loan_id)
    GROUP BY loan.loan_id, loan.status_settle_date
),
loan_span AS (
    SELECT loan.loan_id, loan.principal, loan.status, loan.issue_mi,
           CASE WHEN st.settle_date <= p.as_of
                THEN year(st.settle_date) * 12 + month(st.settle_date) - 1 END AS settle_mi,
           least(p.as_of_mi, CASE WHEN st.settle_date <= p.as_of
                THEN year(st.settle_date) * 12 + month(st.settle_date) - 1 END) AS end_mi
    FROM loan JOIN settle st USING (loan_id), p
),
-- cumulative principal and interest paid per installment by month, for
-- the unpaid part of open installments
inst_pay_month AS (
    SELECT loan_id, installment_no, paid_mi,
           sum(sum(principal_paid)) OVER w AS cum_principal,
           sum(sum(interest_paid)) OVER w AS cum_interest
    FROM pay GROUP BY loan_id, installment_no, paid_mi
    WINDOW w AS (PARTITION BY loan_id, installment_no ORDER BY paid_mi)
),
-- (installment, month end) pairs at which the installment is past due
open_inst AS (
    SELECT s.loan_id, s.installment_no, s.due_date, s.principal_due, s.interest_due,
           unnest(range(s.due_mi,
                 least(ls.end_mi + 1,
                       coalesce(year(s.done_date) * 12 + month(s.done_date) - 1, ls.end_mi + 1)))) AS mi
    FROM inst_state s JOIN loan_span ls USING (loan_id)
    WHERE s.done_date IS NULL OR s.done_date > last_day(s.due_date)
),
open_month AS (
    SELECT o.loan_id, o.mi,
           min(o.due_date) AS oldest_due,
           sum(greatest(o.principal_due - coalesce(c.cum_principal, 0), 0)) AS overdue_principal,
           sum(greatest(o.interest_due - coalesce(c.cum_interest, 0), 0)) AS overdue_interest
    FROM open_inst o ASOF LEFT JOIN inst_pay_month c
      ON o.loan_id = c.loan_id AND o.installment_no = c.installment_no AND o.mi >= c.paid_mi
    GROUP BY o.loan_id, o.mi
),
-- money due and paid per loan-month
flows AS (
    SELECT loan_id, mi, sum(due) AS due, sum(paid) AS paid, sum(principal_paid) AS principal_paid
    FROM (
        SELECT loan_id, due_mi AS mi, amount_due AS due, 0 AS paid, 0 AS principal_paid FROM inst
        UNION ALL
        SELECT loan_id, paid_mi, 0, principal_paid + interest_paid + penalty_paid, principal_paid FROM pay
    ) GROUP BY loan_id, mi
),
grid AS (
    SELECT loan_id, principal, status, issue_mi, settle_mi, unnest(range(issue_mi, end_mi + 1)) AS mi
    FROM loan_span
),
rows AS (
    SELECT g.loan_id, g.mi, g.mi - g.issue_mi AS mob, g.status, g.settle_mi,
           last_day(make_date(g.mi // 12, g.mi % 12 + 1, 1)) AS month_end,
           o.oldest_due,
           coalesce(o.overdue_principal, 0) AS overdue_principal,
           coalesce(o.overdue_interest, 0) AS overdue_interest,
           coalesce(f.due, 0) AS due_in_month,
           coalesce(f.paid, 0) AS paid_in_month,
           greatest(g.principal - sum(coalesce(f.principal_paid, 0)) OVER (
               PARTITION BY g.loan_id ORDER BY g.mi), 0) AS outstanding_principal
    FROM grid g
    LEFT JOIN flows f ON f.loan_id = g.loan_id AND f.mi = g.mi
    LEFT JOIN open_month o ON o.loan_id = g.loan_id AND o.mi = g.mi
),
dpd AS (
    SELECT *, coalesce(CAST(month_end - oldest_due AS INTEGER), 0) AS dpd FROM rows
),
writeoff AS (
    SELECT loan_id,
           coalesce(min(mi) FILTER (WHERE dpd >= 180),
                    CASE WHEN any_value(p.data_end_mi) <= any_value(p.as_of_mi) THEN max(mi) END) AS wo_mi
    FROM dpd, p WHERE status = 'written_off' GROUP BY loan_id
)
SELECT d.loan_id,
       d.month_end,
       CAST(d.mob AS INTEGER) AS mob,
       CASE WHEN d.mi = w.wo_mi THEN 'written_off'
            WHEN d.mi = d.settle_mi THEN 'settled'
            ELSE 'active' END AS status,
       d.dpd,
       CASE WHEN d.dpd = 0 THEN 'C' WHEN d.dpd <= 30 THEN 'M1' WHEN d.dpd <= 60 THEN 'M2'
            WHEN d.dpd <= 90 THEN 'M3' ELSE 'M4+' END AS bucket,
       CAST(max(d.dpd) OVER (PARTITION BY d.loan_id ORDER BY d.mi) AS INTEGER) AS worst_dpd,
       CAST(d.outstanding_principal AS DECIMAL(18,2)) AS outstanding_principal,
       CAST(d.overdue_principal AS DECIMAL(18,2)) AS overdue_principal,
       CAST(d.overdue_interest AS DECIMAL(18,2)) AS overdue_interest,
       CAST(d.due_in_month AS DECIMAL(18,2)) AS due_in_month,
       CAST(d.paid_in_month AS DECIMAL(18,2)) AS paid_in_month,
       coalesce(d.mi = d.settle_mi, false) AS settled,
       coalesce(d.mi = w.wo_mi, false) AS written_off
FROM dpd d LEFT JOIN writeoff w USING (loan_id)
WHERE w.wo_mi IS NULL OR d.mi <= w.wo_mi
ORDER BY d.loan_id, d.month_end
