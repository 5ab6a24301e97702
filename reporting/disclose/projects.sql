-- projects.sql: the project-disclosure facts (2017 guideline, 项目信息) of
-- every loan issued in the month, one row per loan, ordered by loan_id.
--
-- Reads the views loans, applications, bureau_reports, bureau_inquiries,
-- repayment_schedule, repayments, panel (perf/panel) and investments, and
-- the one-row table disclose_params (month_start, month_end, and data_end:
-- the panel's last month end, the "to date" of the repayment status).
-- The three identity tokens leave this query only to be revealed and
-- masked in Go; they are never published. Money is integer fen.
WITH
p AS (SELECT * FROM disclose_params),
loan AS (
    SELECT l.*, a.name_token, a.id_number_token, a.phone_token, a.age,
           coalesce(a.id_gender, a.gender) AS sex, a.monthly_income
    FROM loans l JOIN applications a USING (application_id), p
    WHERE l.issue_date BETWEEN p.month_start AND p.month_end
),
-- bureau reports dated in the 6 months before the issue date
rep AS (
    SELECT l.loan_id, r.report_date, r.open_accounts, r.total_outstanding, r.overdue_accounts, r.worst_status_24m,
           row_number() OVER (PARTITION BY l.loan_id ORDER BY r.report_date DESC, r.total_outstanding DESC,
                              r.open_accounts DESC, r.overdue_accounts DESC, r.worst_status_24m) AS rk
    FROM loan l JOIN bureau_reports r ON r.borrower_id = l.borrower_id
     AND r.report_date >= l.issue_date - INTERVAL 6 MONTH AND r.report_date < l.issue_date
),
rep_sum AS (
    SELECT loan_id, count(*) AS reports, count(*) FILTER (WHERE overdue_accounts > 0) AS overdue_reports
    FROM rep GROUP BY loan_id
),
-- loan-approval inquiries of other P2P platforms and microlenders in the 6
-- months before the issue date: the borrower's other-platform borrowing
inq AS (
    SELECT l.loan_id,
           count(*) FILTER (WHERE q.institution_type = 'p2p') AS p2p,
           count(*) FILTER (WHERE q.institution_type = 'microloan') AS microloan
    FROM loan l JOIN bureau_inquiries q ON q.borrower_id = l.borrower_id
     AND q.reason = 'loan_approval'
     AND q.query_date >= l.issue_date - INTERVAL 6 MONTH AND q.query_date < l.issue_date
    GROUP BY l.loan_id
),
-- the lenders who funded the loan and the amount they put in
inv AS (
    SELECT loan_id, count(DISTINCT lender_id) AS lenders, sum(amount) AS funded
    FROM investments WHERE loan_id IN (SELECT loan_id FROM loan) GROUP BY loan_id
),
-- the loan's latest panel row: its status, DPD and balances to date
last AS (
    SELECT x.loan_id, x.month_end, x.status, x.dpd, x.outstanding_principal,
           x.overdue_principal + x.overdue_interest AS overdue
    FROM panel x, p
    WHERE x.loan_id IN (SELECT loan_id FROM loan) AND x.month_end <= p.data_end
    QUALIFY row_number() OVER (PARTITION BY x.loan_id ORDER BY x.month_end DESC) = 1
),
-- installments due by data_end and those fully paid (principal + interest)
-- by then (the repayments of the month's loans only are summed: the whole
-- book's would be a hash table of every installment)
inst AS (
    SELECT s.loan_id,
           count(*) FILTER (WHERE s.due_date <= p.data_end) AS due,
           count(*) FILTER (WHERE coalesce(pd.paid, 0) >= s.principal_due + s.interest_due) AS paid
    FROM repayment_schedule s
    LEFT JOIN (SELECT r.loan_id, r.installment_no, sum(r.principal_paid + r.interest_paid) AS paid
               FROM repayments r, p
               WHERE CAST(r.paid_at AS DATE) <= p.data_end AND r.loan_id IN (SELECT loan_id FROM loan)
               GROUP BY ALL) pd
      USING (loan_id, installment_no), p
    WHERE s.loan_id IN (SELECT loan_id FROM loan)
    GROUP BY s.loan_id
),
repaid AS (
    SELECT r.loan_id, sum(r.principal_paid) AS principal
    FROM repayments r, p WHERE CAST(r.paid_at AS DATE) <= p.data_end AND r.loan_id IN (SELECT loan_id FROM loan)
    GROUP BY r.loan_id
)
SELECT
    l.loan_id,
    strftime(l.issue_date, '%Y-%m-%d') AS issue_date,
    coalesce(l.name_token, '') AS name_token,
    coalesce(l.id_number_token, '') AS id_number_token,
    coalesce(l.phone_token, '') AS phone_token,
    -- age at application in bands of ten years (from the ID's birth date)
    CASE WHEN l.age IS NULL THEN 'unknown' WHEN l.age < 25 THEN '18-24' WHEN l.age < 35 THEN '25-34'
         WHEN l.age < 45 THEN '35-44' WHEN l.age < 55 THEN '45-54' ELSE '55+' END AS age_band,
    -- gender from the ID number, else as declared
    coalesce(l.sex, 'unknown') AS gender,
    coalesce(l.region, '') AS region,
    -- declared monthly income in bands, CNY
    CASE WHEN l.monthly_income IS NULL THEN 'unknown' WHEN l.monthly_income < 3000 THEN '<3000'
         WHEN l.monthly_income < 5000 THEN '3000-4999' WHEN l.monthly_income < 10000 THEN '5000-9999'
         WHEN l.monthly_income < 20000 THEN '10000-19999' ELSE '20000+' END AS income_band,
    -- the latest bureau report of the 6 months before issue ('' when none)
    coalesce(strftime(r.report_date, '%Y-%m-%d'), '') AS bureau_report_date,
    coalesce(r.open_accounts, 0) AS bureau_open_accounts,
    CAST(round(coalesce(r.total_outstanding, 0) * 100) AS BIGINT) AS bureau_debt_fen,
    coalesce(r.overdue_accounts, 0) AS bureau_overdue_accounts,
    coalesce(r.worst_status_24m, '') AS bureau_worst_status_24m,
    coalesce(rs.reports, 0) AS bureau_reports_6m,
    coalesce(rs.overdue_reports, 0) AS bureau_overdue_reports_6m,
    coalesce(q.p2p, 0) AS inquiries_p2p_6m,
    coalesce(q.microloan, 0) AS inquiries_microloan_6m,
    coalesce(l.purpose, '') AS purpose,
    CAST(round(l.principal * 100) AS BIGINT) AS principal_fen,
    l.term_months,
    CAST(l.annual_rate AS VARCHAR) AS annual_rate,
    l.repay_method,
    l.collateral_type,
    -- collateral valuation; -1 when none is recorded
    coalesce(CAST(round(l.collateral_value * 100) AS BIGINT), -1) AS collateral_value_fen,
    coalesce(i.lenders, 0) AS lenders,
    CAST(round(coalesce(i.funded, 0) * 100) AS BIGINT) AS funded_fen,
    -- repayment status to date (data_end)
    strftime(p.data_end, '%Y-%m-%d') AS status_as_of,
    coalesce(t.status, 'active') AS status,
    CASE WHEN t.status = 'active' THEN coalesce(t.dpd, 0) ELSE 0 END AS dpd,
    coalesce(n.due, 0) AS installments_due,
    coalesce(n.paid, 0) AS installments_paid,
    CAST(round(coalesce(rp.principal, 0) * 100) AS BIGINT) AS principal_repaid_fen,
    CAST(round(coalesce(t.outstanding_principal, l.principal) * 100) AS BIGINT) AS outstanding_fen,
    CAST(round(CASE WHEN t.status = 'active' THEN coalesce(t.overdue, 0) ELSE 0 END * 100) AS BIGINT) AS overdue_fen
FROM loan l
LEFT JOIN rep r ON r.loan_id = l.loan_id AND r.rk = 1
LEFT JOIN rep_sum rs ON rs.loan_id = l.loan_id
LEFT JOIN inq q ON q.loan_id = l.loan_id
LEFT JOIN inv i ON i.loan_id = l.loan_id
LEFT JOIN last t ON t.loan_id = l.loan_id
LEFT JOIN inst n ON n.loan_id = l.loan_id
LEFT JOIN repaid rp ON rp.loan_id = l.loan_id, p
ORDER BY l.loan_id
