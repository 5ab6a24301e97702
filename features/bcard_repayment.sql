-- B-card group: repayment behaviour as of the month end d, from the
-- schedule and the payments made strictly before d (the installments
-- table: perf/installment_payoff as known before d, see
-- prep_installments.sql; and the repayments before d).
-- DPD on day x = x - due_date of the earliest installment due
-- before x and not paid off before x (0 if none). An installment is
-- outstanding on the days due_date+1 .. last_day, where last_day is the
-- day it was paid off, or d if it was not paid off before d; so the most
-- it contributes to DPD within a window [w, d] is last_day - due_date
-- when last_day >= w. "N months" windows start at d - N months.
-- reads: repayments
-- uses: spine_bcard, installments
WITH win AS (
    SELECT getvariable('as_of') AS d,
           CAST(getvariable('as_of') - INTERVAL 3 MONTH AS DATE) AS w3,
           CAST(getvariable('as_of') - INTERVAL 6 MONTH AS DATE) AS w6,
           CAST(getvariable('as_of') - INTERVAL 12 MONTH AS DATE) AS w12
),
inst AS (
    SELECT i.*, win.*,
           CASE WHEN i.paid_off_at IS NULL THEN win.d
                ELSE CAST(i.paid_off_at AS DATE) END AS last_day
    FROM installments i, win
),
per_loan AS (
    SELECT loan_id,
           max(CASE WHEN last_day > due_date AND last_day >= w3 THEN last_day - due_date ELSE 0 END) AS max_dpd_3m,
           max(CASE WHEN last_day > due_date AND last_day >= w6 THEN last_day - due_date ELSE 0 END) AS max_dpd_6m,
           max(CASE WHEN last_day > due_date AND last_day >= w12 THEN last_day - due_date ELSE 0 END) AS max_dpd_12m,
           count(*) FILTER (WHERE due_date < d AND last_day > due_date) AS n_late,
           max(last_day) FILTER (WHERE due_date < d AND last_day > due_date) AS last_delinquent_day,
           sum(due) FILTER (WHERE due_date >= w3 AND due_date < d) AS due_3m,
           sum(due) FILTER (WHERE due_date >= w6 AND due_date < d) AS due_6m,
           sum(principal_due) FILTER (WHERE due_date < d) AS principal_due_so_far,
           -- installments whose first payment came more than 30 days before the due date
           count(*) FILTER (WHERE first_principal_paid_at IS NOT NULL AND CAST(first_paid_at AS DATE) < due_date - 30) AS n_prepay
    FROM inst
    GROUP BY loan_id
),
-- principal paid before d against the loan's schedule rows
principal AS (
    SELECT r.loan_id, sum(r.principal_paid) AS principal_paid
    FROM repayments r
    SEMI JOIN installments i ON i.loan_id = r.loan_id AND i.installment_no = r.installment_no
    WHERE r.paid_at < CAST(getvariable('as_of') AS TIMESTAMP)
    GROUP BY r.loan_id
),
pay AS (
    SELECT r.loan_id,
           sum(r.principal_paid + r.interest_paid) FILTER (WHERE r.paid_at >= CAST(win.w3 AS TIMESTAMP)) AS paid_3m,
           sum(r.principal_paid + r.interest_paid) AS paid_6m
    FROM repayments r, win
    WHERE r.paid_at >= CAST(win.w6 AS TIMESTAMP) AND r.paid_at < CAST(win.d AS TIMESTAMP)
    GROUP BY r.loan_id
)
SELECT
    s.loan_id,
    -- feature: dpd_current | int | Days past due on the as-of date | payments strictly before as_of
    s.dpd AS dpd_current,
    -- feature: dpd_bucket | category | Delinquency bucket on the as-of date: C (0), M1 (1-30), M2 (31-60), M3 (61-90), M4+ (>90) | payments strictly before as_of
    dpd_bucket(s.dpd) AS dpd_bucket,
    -- feature: max_dpd_3m | int | Highest DPD on any day of the 3 months up to the as-of date | days in [as_of - 3 months, as_of], payments strictly before as_of
    p.max_dpd_3m,
    -- feature: max_dpd_6m | int | Highest DPD on any day of the 6 months up to the as-of date | days in [as_of - 6 months, as_of], payments strictly before as_of
    p.max_dpd_6m,
    -- feature: max_dpd_12m | int | Highest DPD on any day of the 12 months up to the as-of date | days in [as_of - 12 months, as_of], payments strictly before as_of
    p.max_dpd_12m,
    -- feature: n_late_installments | int | Installments due before the as-of date that were outstanding at least one day after their due date | payments strictly before as_of
    p.n_late AS n_late_installments,
    -- feature: months_since_delinquency | int | Calendar months from the last day the loan was past due to the as-of date (0 when past due now, NULL if never) | payments strictly before as_of
    date_diff('month', p.last_delinquent_day, s.as_of) AS months_since_delinquency,
    -- feature: paid_to_due_3m | double | Principal and interest paid in the 3 months before as-of / amount due in them (NULL when nothing was due) | payments and due dates in [as_of - 3 months, as_of)
    CASE WHEN p.due_3m > 0 THEN CAST(coalesce(y.paid_3m, 0) AS DOUBLE) / CAST(p.due_3m AS DOUBLE) END AS paid_to_due_3m,
    -- feature: paid_to_due_6m | double | Principal and interest paid in the 6 months before as-of / amount due in them (NULL when nothing was due) | payments and due dates in [as_of - 6 months, as_of)
    CASE WHEN p.due_6m > 0 THEN CAST(coalesce(y.paid_6m, 0) AS DOUBLE) / CAST(p.due_6m AS DOUBLE) END AS paid_to_due_6m,
    -- feature: principal_paid_share | double | Principal repaid before the as-of date / loan principal | payments strictly before as_of
    CASE WHEN s.principal > 0 THEN CAST(coalesce(pr.principal_paid, 0) AS DOUBLE) / CAST(s.principal AS DOUBLE) END AS principal_paid_share,
    -- feature: outstanding_principal | money | Loan principal not yet repaid, CNY | payments strictly before as_of
    s.principal - coalesce(pr.principal_paid, 0) AS outstanding_principal,
    -- feature: principal_ahead | money | Principal repaid beyond the principal due before the as-of date (0 when not ahead), CNY | payments strictly before as_of
    greatest(coalesce(pr.principal_paid, 0) - coalesce(p.principal_due_so_far, 0), 0) AS principal_ahead,
    -- feature: n_prepayments | int | Installments whose first payment (with principal) came more than 30 days before their due date | payments strictly before as_of
    p.n_prepay AS n_prepayments,
    -- feature: months_on_book | int | Calendar months from the issue date to the as-of date | loan issued before as_of
    date_diff('month', s.issue_date, s.as_of) AS months_on_book
FROM spine_bcard s
JOIN per_loan p USING (loan_id)
LEFT JOIN principal pr USING (loan_id)
LEFT JOIN pay y USING (loan_id)
