-- perf/disclosure: platform disclosure metrics as of the as-of month end,
-- each with its written definition. "Active" means a loan issued by the
-- as-of date that has not settled or been written off by then (its panel row
-- at the as-of month end has status 'active'). Money is CNY; ratios are
-- fractions rounded to 6 decimals; value is DECIMAL(24,6), never float.
-- reads: loans, repayment_schedule, repayments, perf/panel
-- uses: perf_params
WITH
p AS (SELECT * FROM perf_params),
cur AS (
    SELECT pn.*, l.borrower_id
    FROM panel pn JOIN loans l USING (loan_id), p
    WHERE pn.month_end = p.as_of AND pn.status = 'active'
),
lent AS (
    SELECT count(*) AS n, coalesce(sum(principal), 0) AS amount, count(DISTINCT borrower_id) AS borrowers
    FROM loans, p WHERE issue_date <= p.as_of
),
book AS (
    SELECT count(*) AS n, coalesce(sum(outstanding_principal), 0) AS outstanding,
           count(DISTINCT borrower_id) AS borrowers,
           count(*) FILTER (WHERE dpd >= 1) AS od_n,
           coalesce(sum(outstanding_principal) FILTER (WHERE dpd >= 1), 0) AS od_amount,
           coalesce(sum(overdue_principal + overdue_interest), 0) AS od_due,
           count(*) FILTER (WHERE dpd > 90) AS od90_n,
           coalesce(sum(outstanding_principal) FILTER (WHERE dpd > 90), 0) AS od90_amount
    FROM cur
),
interest AS (
    SELECT coalesce(sum(greatest(s.interest_due - coalesce(pd.interest_paid, 0), 0)), 0) AS outstanding
    FROM (SELECT loan_id, sum(interest_due) AS interest_due FROM repayment_schedule
          WHERE loan_id IN (SELECT loan_id FROM cur) GROUP BY loan_id) s
    LEFT JOIN (SELECT r.loan_id, sum(r.interest_paid) AS interest_paid FROM repayments r, p
               WHERE CAST(r.paid_at AS DATE) <= p.as_of GROUP BY r.loan_id) pd USING (loan_id)
),
by_borrower AS (
    SELECT borrower_id, sum(outstanding_principal) AS o,
           row_number() OVER (ORDER BY sum(outstanding_principal) DESC, borrower_id) AS rk
    FROM cur GROUP BY borrower_id
),
conc AS (
    SELECT coalesce(sum(o) FILTER (WHERE rk = 1), 0) AS top1,
           coalesce(sum(o) FILTER (WHERE rk <= 10), 0) AS top10
    FROM by_borrower
),
m(ord, metric, value, unit, definition) AS (
    SELECT 1, 'cumulative_lent_amount', CAST(lent.amount AS DECIMAL(24,6)), 'CNY',
           'Sum of the principal of all loans issued on or before the as-of date.' FROM lent
    UNION ALL SELECT 2, 'cumulative_lent_count', CAST(lent.n AS DECIMAL(24,6)), 'loans',
           'Number of loans issued on or before the as-of date.' FROM lent
    UNION ALL SELECT 3, 'outstanding_principal', CAST(book.outstanding AS DECIMAL(24,6)), 'CNY',
           'Principal not yet repaid of active loans at the as-of month end (loan balance).' FROM book
    UNION ALL SELECT 4, 'outstanding_count', CAST(book.n AS DECIMAL(24,6)), 'loans',
           'Number of active loans at the as-of month end.' FROM book
    UNION ALL SELECT 5, 'interest_outstanding', CAST(interest.outstanding AS DECIMAL(24,6)), 'CNY',
           'Scheduled interest of active loans not yet paid by the as-of date, due or not yet due (interest balance).' FROM interest
    UNION ALL SELECT 6, 'current_borrowers', CAST(book.borrowers AS DECIMAL(24,6)), 'borrowers',
           'Distinct borrowers with at least one active loan at the as-of month end.' FROM book
    UNION ALL SELECT 7, 'cumulative_borrowers', CAST(lent.borrowers AS DECIMAL(24,6)), 'borrowers',
           'Distinct borrowers of all loans issued on or before the as-of date.' FROM lent
    UNION ALL SELECT 8, 'largest_borrower_share', CAST(round(CAST(conc.top1 AS DOUBLE) / nullif(CAST(book.outstanding AS DOUBLE), 0), 6) AS DECIMAL(24,6)), 'ratio',
           'Outstanding principal of the single borrower with the most outstanding, divided by total outstanding principal.' FROM conc, book
    UNION ALL SELECT 9, 'top10_borrowers_share', CAST(round(CAST(conc.top10 AS DOUBLE) / nullif(CAST(book.outstanding AS DOUBLE), 0), 6) AS DECIMAL(24,6)), 'ratio',
           'Outstanding principal of the ten borrowers with the most outstanding, divided by total outstanding principal.' FROM conc, book
    UNION ALL SELECT 10, 'overdue_amount', CAST(book.od_amount AS DECIMAL(24,6)), 'CNY',
           'Outstanding principal of active loans past due (DPD >= 1) at the as-of month end: the whole remaining principal of an overdue loan, as platform disclosure counts it.' FROM book
    UNION ALL SELECT 11, 'overdue_count', CAST(book.od_n AS DECIMAL(24,6)), 'loans',
           'Number of active loans past due (DPD >= 1) at the as-of month end.' FROM book
    UNION ALL SELECT 12, 'overdue_due_amount', CAST(book.od_due AS DECIMAL(24,6)), 'CNY',
           'Principal and interest due and not paid on past-due installments of active loans at the as-of month end.' FROM book
    UNION ALL SELECT 13, 'overdue_90_amount', CAST(book.od90_amount AS DECIMAL(24,6)), 'CNY',
           'Outstanding principal of active loans more than 90 days past due (DPD > 90) at the as-of month end.' FROM book
    UNION ALL SELECT 14, 'overdue_90_count', CAST(book.od90_n AS DECIMAL(24,6)), 'loans',
           'Number of active loans more than 90 days past due (DPD > 90) at the as-of month end.' FROM book
    UNION ALL SELECT 15, 'project_overdue_rate', CAST(round(book.od_n / nullif(book.n, 0), 6) AS DECIMAL(24,6)), 'ratio',
           'overdue_count / outstanding_count.' FROM book
    UNION ALL SELECT 16, 'amount_overdue_rate', CAST(round(CAST(book.od_amount AS DOUBLE) / nullif(CAST(book.outstanding AS DOUBLE), 0), 6) AS DECIMAL(24,6)), 'ratio',
           'overdue_amount / outstanding_principal.' FROM book
)
SELECT m.ord, p.as_of, m.metric, m.value, m.unit, m.definition
FROM m, p
ORDER BY m.ord
