-- operating.sql: the platform's monthly operating data (2017 P2P
-- information-disclosure guideline, 运营信息) as of a month end, one row
-- per metric with its unit and written definition.
--
-- Reads the views loans, panel (perf/panel), repayment_schedule,
-- repayments, investments, custody_transactions and related_parties
-- (borrower_id: the platform's register of related parties), and the
-- one-row table disclose_params (month_start, month_end). Returns
-- (ord, metric, value, unit, definition), ordered by ord; value is the
-- text of a DECIMAL(24,6).
--
-- "Active" at the month end is perf's definition: a loan issued by then
-- whose panel row at that month end has status 'active' (neither settled
-- nor written off by then). The sixteen metrics perf/disclosure publishes
-- for its as-of date carry its names and definitions and are computed the
-- same way here for any month end the panel reaches (a test checks the two
-- agree); the lender, compensation and related-party metrics are new.
-- Money is CNY (exact DECIMAL sums), ratios fractions rounded to 6
-- decimals.
WITH
p AS (SELECT * FROM disclose_params),
-- active loans at the month end, with the panel's balances and DPD
cur AS (
    SELECT pn.loan_id, pn.dpd, pn.outstanding_principal, pn.overdue_principal, pn.overdue_interest, l.borrower_id
    FROM panel pn JOIN loans l USING (loan_id), p
    WHERE pn.month_end = p.month_end AND pn.status = 'active'
),
-- every loan issued by the month end
lent AS (
    SELECT count(*) AS n, coalesce(sum(principal), 0) AS amount, count(DISTINCT borrower_id) AS borrowers
    FROM loans, p WHERE issue_date <= p.month_end
),
-- the active book: balances, overdue (DPD >= 1) and over 90 days (DPD > 90)
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
-- scheduled interest of active loans not paid by the month end
interest AS (
    SELECT coalesce(sum(greatest(s.interest_due - coalesce(pd.interest_paid, 0), 0)), 0) AS outstanding
    FROM (SELECT loan_id, sum(interest_due) AS interest_due FROM repayment_schedule
          WHERE loan_id IN (SELECT loan_id FROM cur) GROUP BY loan_id) s
    LEFT JOIN (SELECT r.loan_id, sum(r.interest_paid) AS interest_paid FROM repayments r, p
               WHERE CAST(r.paid_at AS DATE) <= p.month_end GROUP BY r.loan_id) pd USING (loan_id)
),
-- borrower concentration of the active book
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
-- lenders: every lender who invested by the month end, and those holding
-- an investment in a loan active at the month end
lenders AS (
    SELECT count(DISTINCT i.lender_id) AS cumulative,
           count(DISTINCT i.lender_id) FILTER (WHERE i.loan_id IN (SELECT loan_id FROM cur)) AS current
    FROM investments i, p WHERE CAST(i.invest_time AS DATE) <= p.month_end
),
-- guarantor compensation of written-off loans: the guarantor's outgoing
-- compensation lines at the custodian by the month end
comp AS (
    SELECT coalesce(sum(c.amount), 0) AS amount, count(DISTINCT c.loan_id) AS n
    FROM custody_transactions c, p
    WHERE c.txn_type = 'compensation' AND c.owner_type = 'guarantor' AND c.direction = 'out'
      AND CAST(c.txn_time AS DATE) <= p.month_end
),
-- active loans of borrowers in the related-party register
related AS (
    SELECT count(*) AS n, coalesce(sum(outstanding_principal), 0) AS amount
    FROM cur WHERE borrower_id IN (SELECT borrower_id FROM related_parties)
),
m(ord, metric, value, unit, definition) AS (
    SELECT 1, 'cumulative_lent_amount', CAST(lent.amount AS DECIMAL(24,6)), 'CNY',
           'Sum of the principal of all loans issued on or before the month end.' FROM lent
    UNION ALL SELECT 2, 'cumulative_lent_count', CAST(lent.n AS DECIMAL(24,6)), 'loans',
           'Number of loans issued on or before the month end.' FROM lent
    UNION ALL SELECT 3, 'outstanding_principal', CAST(book.outstanding AS DECIMAL(24,6)), 'CNY',
           'Principal not yet repaid of active loans at the month end (loan balance).' FROM book
    UNION ALL SELECT 4, 'outstanding_count', CAST(book.n AS DECIMAL(24,6)), 'loans',
           'Number of active loans at the month end.' FROM book
    UNION ALL SELECT 5, 'interest_outstanding', CAST(interest.outstanding AS DECIMAL(24,6)), 'CNY',
           'Scheduled interest of active loans not yet paid by the month end, due or not yet due (interest balance).' FROM interest
    UNION ALL SELECT 6, 'current_borrowers', CAST(book.borrowers AS DECIMAL(24,6)), 'borrowers',
           'Distinct borrowers with at least one active loan at the month end.' FROM book
    UNION ALL SELECT 7, 'cumulative_borrowers', CAST(lent.borrowers AS DECIMAL(24,6)), 'borrowers',
           'Distinct borrowers of all loans issued on or before the month end.' FROM lent
    UNION ALL SELECT 8, 'largest_borrower_share', CAST(round(CAST(conc.top1 AS DOUBLE) / nullif(CAST(book.outstanding AS DOUBLE), 0), 6) AS DECIMAL(24,6)), 'ratio',
           'Outstanding principal of the single borrower with the most outstanding, divided by total outstanding principal.' FROM conc, book
    UNION ALL SELECT 9, 'top10_borrowers_share', CAST(round(CAST(conc.top10 AS DOUBLE) / nullif(CAST(book.outstanding AS DOUBLE), 0), 6) AS DECIMAL(24,6)), 'ratio',
           'Outstanding principal of the ten borrowers with the most outstanding, divided by total outstanding principal.' FROM conc, book
    UNION ALL SELECT 10, 'overdue_amount', CAST(book.od_amount AS DECIMAL(24,6)), 'CNY',
           'Outstanding principal of active loans past due (DPD >= 1) at the month end: the whole remaining principal of an overdue loan, as platform disclosure counts it.' FROM book
    UNION ALL SELECT 11, 'overdue_count', CAST(book.od_n AS DECIMAL(24,6)), 'loans',
           'Number of active loans past due (DPD >= 1) at the month end.' FROM book
    UNION ALL SELECT 12, 'overdue_due_amount', CAST(book.od_due AS DECIMAL(24,6)), 'CNY',
           'Principal and interest due and not paid on past-due installments of active loans at the month end.' FROM book
    UNION ALL SELECT 13, 'overdue_90_amount', CAST(book.od90_amount AS DECIMAL(24,6)), 'CNY',
           'Outstanding principal of active loans more than 90 days past due (DPD > 90) at the month end.' FROM book
    UNION ALL SELECT 14, 'overdue_90_count', CAST(book.od90_n AS DECIMAL(24,6)), 'loans',
           'Number of active loans more than 90 days past due (DPD > 90) at the month end.' FROM book
    UNION ALL SELECT 15, 'project_overdue_rate', CAST(round(book.od_n / nullif(book.n, 0), 6) AS DECIMAL(24,6)), 'ratio',
           'overdue_count / outstanding_count.' FROM book
    UNION ALL SELECT 16, 'amount_overdue_rate', CAST(round(CAST(book.od_amount AS DOUBLE) / nullif(CAST(book.outstanding AS DOUBLE), 0), 6) AS DECIMAL(24,6)), 'ratio',
           'overdue_amount / outstanding_principal.' FROM book
    UNION ALL SELECT 17, 'cumulative_lenders', CAST(lenders.cumulative AS DECIMAL(24,6)), 'lenders',
           'Distinct lenders with at least one investment made on or before the month end.' FROM lenders
    UNION ALL SELECT 18, 'current_lenders', CAST(lenders.current AS DECIMAL(24,6)), 'lenders',
           'Distinct lenders holding an investment in at least one active loan at the month end.' FROM lenders
    UNION ALL SELECT 19, 'cumulative_compensation_amount', CAST(comp.amount AS DECIMAL(24,6)), 'CNY',
           'Sum paid out by the guarantor as compensation (custody lines of type compensation leaving a guarantor sub-account) on or before the month end.' FROM comp
    UNION ALL SELECT 20, 'cumulative_compensation_count', CAST(comp.n AS DECIMAL(24,6)), 'loans',
           'Number of distinct loans the guarantor compensated on or before the month end.' FROM comp
    UNION ALL SELECT 21, 'related_party_amount', CAST(related.amount AS DECIMAL(24,6)), 'CNY',
           'Outstanding principal at the month end of active loans to borrowers in the platform''s related-party register (shareholders, directors, staff and their affiliates).' FROM related
    UNION ALL SELECT 22, 'related_party_count', CAST(related.n AS DECIMAL(24,6)), 'loans',
           'Number of active loans at the month end to borrowers in the platform''s related-party register.' FROM related
)
-- value as text: DECIMAL(24,6) digits, NULL for a ratio of an empty book
SELECT ord, metric, CAST(value AS VARCHAR) AS value, unit, definition FROM m ORDER BY ord
