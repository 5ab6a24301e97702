-- month.sql: the accounts and terms one credit-bureau month reports.
--
-- Reads the views loans, applications, repayment_schedule, repayments and
-- panel (perf/panel) of the lake (all but applications restricted by the
-- caller to one range of loan ids: a large book is computed a range at a
-- time, the results appended) and the one-row table bureau_params
-- (month_start, month_end, and the five-level classification's minimum
-- DPD of each class: sm_from, sub_from, doubt_from, loss_from). Writes
-- temporary tables, each lake table read once: bureau_ev (per loan, one
-- pass over the panel; open.sql reads it too), bureau_cand (the loans
-- that may be reported), bureau_paid (per installment of those, one pass
-- over the repayments), bureau_loan (the loans reported), bureau_acct
-- (one row per account reported) and bureau_terms (one row per
-- installment due or paid in the month), these two each joining the
-- schedule of the loans reported with what was paid on each installment
-- (a 7-million-row join at 1,000,000 loans costs less twice than
-- materialized once). The joins and aggregations are proportional to the
-- loans reported, not to the whole book: the loans closed before the
-- month are dropped before the repayments and the schedule are joined.
--
-- Which accounts: every loan issued by the month end and not closed before
-- the month starts. Closing events come from the performance panel: the
-- month of a settlement (its 'settled' row) and of a write-off (its
-- 'written_off' row). A settled loan is reported in its settling month
-- (AcctStatus 3, RpyStatus C) and then no more. A written-off loan is
-- reported every month from its write-off month (AcctStatus 4, RpyStatus
-- B) until it is recovered: the month its principal repaid (recoveries
-- included) reaches its principal is reported as closed (AcctStatus 3,
-- RpyStatus Z when collateral was held, else C), and no month after.
--
-- Amounts are recomputed here from the schedule and the repayments at the
-- month end (payments after it do not count), not copied from the panel,
-- so that the validation can compare the two: DPD is the month end minus
-- the earliest due date <= month end whose installment is not fully paid
-- (principal + interest) by then (DESIGN.md); balance is principal minus
-- principal repaid; overdue principal is the unpaid principal of those
-- installments (at most the balance), split by each installment's own
-- days overdue. A loan
-- settling in the month has its installments due after its settlement
-- date cancelled (as perf does).
--
-- Codes (DESIGN.md): AcctStatus 1 normal, 2 overdue, 3 settled, 4 bad
-- debt. RpyStatus N normal, 1..7 overdue 1-30 .. over 180 days, * no
-- payment due this month (and none overdue), C settled, Z settled by
-- asset, B bad debt. Five-level class by DPD with bureau_params' bounds; 5
-- for a written-off account (open or recovered).
-- bureau_ev: per loan, the panel's closing months (the first month end
-- of a settlement, of a write-off) and its DPD and status at this month
-- end.
CREATE OR REPLACE TEMP TABLE bureau_ev AS
WITH p AS (SELECT * FROM bureau_params)
SELECT x.loan_id,
       min(x.month_end) FILTER (WHERE x.settled) AS settle_me,
       min(x.month_end) FILTER (WHERE x.written_off) AS wo_me,
       max(x.dpd) FILTER (WHERE x.month_end = p.month_end) AS panel_dpd,
       max(x.status) FILTER (WHERE x.month_end = p.month_end) AS panel_status,
       -- the panel has the loan active at the month end (open.sql)
       coalesce(bool_or(x.status = 'active') FILTER (WHERE x.month_end = p.month_end), false) AS panel_active
FROM panel x, p
WHERE x.month_end <= p.month_end AND (x.settled OR x.written_off OR x.month_end = p.month_end)
GROUP BY x.loan_id;

-- bureau_cand: the loans issued by the month end and not settled before
-- it, and every loan written off by then (a written-off loan recovered
-- before the month is dropped below, once its repayments are known). A
-- written-off loan the panel also calls settled (its unpaid installments
-- missing from the lake, quarantined by ingest, so the rest look paid
-- off) stays open while principal is unpaid, as open.sql counts it.
CREATE OR REPLACE TEMP TABLE bureau_cand AS
WITH p AS (SELECT * FROM bureau_params)
SELECT l.loan_id, l.application_id, l.issue_date, l.principal, l.term_months, l.repay_method,
       l.collateral_type, l.purpose, e.settle_me, e.wo_me, e.panel_dpd, e.panel_status
FROM loans l LEFT JOIN bureau_ev e USING (loan_id), p
WHERE l.issue_date <= p.month_end
  AND (e.settle_me IS NULL OR e.settle_me >= p.month_end OR e.wo_me <= p.month_end);

-- bureau_paid: what was paid on each installment of a candidate loan by
-- the month end, from one pass over the repayments that the tables below
-- read (principal, interest; principal before the month; principal +
-- interest + penalty in the month; the last payment day; the first
-- payment day in the month).
CREATE OR REPLACE TEMP TABLE bureau_paid AS
WITH p AS (SELECT * FROM bureau_params),
pay AS (
    SELECT r.loan_id, r.installment_no, CAST(r.paid_at AS DATE) AS d,
           r.principal_paid AS pp, r.interest_paid AS ip, r.penalty_paid AS pen
    FROM repayments r SEMI JOIN bureau_cand c USING (loan_id), p
    WHERE CAST(r.paid_at AS DATE) <= p.month_end
)
SELECT pay.loan_id, pay.installment_no,
       sum(pp) AS pp, sum(ip) AS ip,
       coalesce(sum(pp) FILTER (WHERE d < p.month_start), 0) AS pp_before,
       coalesce(sum(pp + ip + pen) FILTER (WHERE d >= p.month_start), 0) AS paid_month,
       max(d) AS last_d,
       min(d) FILTER (WHERE d >= p.month_start) AS first_d_month
FROM pay, p GROUP BY pay.loan_id, pay.installment_no;

-- bureau_loan: the loans reported, with what was repaid on each.
CREATE OR REPLACE TEMP TABLE bureau_loan AS
WITH
p AS (SELECT * FROM bureau_params),
paid AS (
    SELECT loan_id,
           sum(pp) AS principal_repaid,
           sum(pp_before) AS principal_repaid_before,
           sum(paid_month) AS paid_in_month,
           max(last_d) AS last_paid
    FROM bureau_paid GROUP BY loan_id
)
SELECT c.*,
       coalesce(pd.principal_repaid, 0) AS principal_repaid,
       coalesce(pd.principal_repaid_before, 0) AS principal_repaid_before,
       coalesce(pd.paid_in_month, 0) AS paid_in_month,
       pd.last_paid,
       -- the settlement date of a loan settling this month: its last payment
       CASE WHEN c.settle_me = p.month_end THEN coalesce(pd.last_paid, c.issue_date) END AS settle_date
FROM bureau_cand c LEFT JOIN paid pd USING (loan_id), p
-- a written-off loan recovered before this month is closed
-- (as written: a NULL test drops the row, as a WHERE does)
WHERE NOT (c.wo_me < p.month_start AND coalesce(pd.principal_repaid_before, 0) >= c.principal);

CREATE OR REPLACE TEMP TABLE bureau_acct AS
WITH
p AS (SELECT * FROM bureau_params),
loan AS (SELECT * FROM bureau_loan),
-- installments not cancelled by a settlement, with what was paid on each
-- by the month end
inst AS (
    SELECT loan_id, installment_no, due_date, principal_due, interest_due,
           principal_due + interest_due AS amount_due,
           coalesce(pp, 0) AS principal_paid, coalesce(ip, 0) AS interest_paid,
           coalesce(paid_month, 0) AS paid_month, last_d, first_d_month
    FROM repayment_schedule JOIN bureau_loan USING (loan_id)
    LEFT JOIN bureau_paid USING (loan_id, installment_no)
    WHERE settle_date IS NULL OR due_date <= settle_date
),
-- per loan: the installments past due at the month end and what is due
agg AS (
    SELECT i.loan_id,
           min(i.due_date) FILTER (WHERE open) AS oldest_open_due,
           count(*) FILTER (WHERE open) AS overdue_terms,
           coalesce(sum(greatest(i.principal_due - i.principal_paid, 0)) FILTER (WHERE open), 0) AS overdue_principal,
           coalesce(sum(i.amount_due - i.principal_paid - i.interest_paid) FILTER (WHERE open), 0) AS total_overdue,
           coalesce(sum(greatest(i.principal_due - i.principal_paid, 0)) FILTER (WHERE open AND p.month_end - i.due_date BETWEEN 31 AND 60), 0) AS overdue_31_60,
           coalesce(sum(greatest(i.principal_due - i.principal_paid, 0)) FILTER (WHERE open AND p.month_end - i.due_date BETWEEN 61 AND 90), 0) AS overdue_61_90,
           coalesce(sum(greatest(i.principal_due - i.principal_paid, 0)) FILTER (WHERE open AND p.month_end - i.due_date BETWEEN 91 AND 180), 0) AS overdue_91_180,
           coalesce(sum(greatest(i.principal_due - i.principal_paid, 0)) FILTER (WHERE open AND p.month_end - i.due_date > 180), 0) AS overdue_180,
           coalesce(sum(i.amount_due) FILTER (WHERE i.due_date >= p.month_start AND i.due_date <= p.month_end), 0) AS due_in_month,
           count(*) FILTER (WHERE i.due_date > p.month_end) AS remaining_terms,
           max(i.due_date) AS last_due, min(i.due_date) AS first_due
    FROM (SELECT *, due_date <= (SELECT month_end FROM p) AND amount_due > 0
                    AND principal_paid + interest_paid < amount_due AS open
          FROM inst) i, p
    GROUP BY i.loan_id
),
acct AS (
    SELECT l.*, a.application_id AS app_id, a.apply_time,
           a.name_token, a.id_number_token, a.phone_token,
           coalesce(g.overdue_terms, 0) AS overdue_terms,
           CAST(coalesce(p.month_end - g.oldest_open_due, 0) AS INTEGER) AS dpd,
           coalesce(g.overdue_principal, 0) AS overdue_principal0,
           coalesce(g.total_overdue, 0) AS total_overdue0,
           coalesce(g.overdue_31_60, 0) AS overdue_31_60, coalesce(g.overdue_61_90, 0) AS overdue_61_90,
           coalesce(g.overdue_91_180, 0) AS overdue_91_180, coalesce(g.overdue_180, 0) AS overdue_180,
           coalesce(g.due_in_month, 0) AS due_in_month, coalesce(g.remaining_terms, 0) AS remaining_terms0,
           g.last_due, g.first_due,
           greatest(l.principal - l.principal_repaid, 0) AS balance,
           l.wo_me IS NOT NULL AND l.wo_me <= p.month_end AS written_off,
           l.wo_me IS NOT NULL AND l.wo_me <= p.month_end AND l.principal_repaid >= l.principal AS recovered,
           l.issue_date >= p.month_start AS opened_in_month,
           p.month_start, p.month_end, p.sm_from, p.sub_from, p.doubt_from, p.loss_from
    FROM loan l JOIN applications a USING (application_id) LEFT JOIN agg g USING (loan_id), p
),
st AS (
    SELECT *,
           CASE WHEN recovered THEN 3 WHEN written_off THEN 4 WHEN settle_date IS NOT NULL THEN 3
                WHEN dpd > 0 THEN 2 ELSE 1 END AS acct_status
    FROM acct
),
bands AS (
    SELECT *, CASE WHEN acct_status = 3 THEN 0 ELSE least(overdue_principal0, balance) END AS cap
    FROM st
),
b1 AS (SELECT *, least(overdue_180, cap) AS o181 FROM bands),
b2 AS (SELECT *, least(overdue_91_180, cap - o181) AS o91 FROM b1),
b3 AS (SELECT *, least(overdue_61_90, cap - o181 - o91) AS o61 FROM b2),
b4 AS (SELECT *, least(overdue_31_60, cap - o181 - o91 - o61) AS o31 FROM b3)
SELECT loan_id, application_id, issue_date, principal, term_months, repay_method, collateral_type, purpose,
       apply_time, name_token, id_number_token, phone_token, opened_in_month, written_off,
       strftime(month_end, '%Y-%m') AS month, month_end,
       acct_status,
       CASE WHEN acct_status = 4 THEN 'B'
            WHEN acct_status = 3 AND recovered AND collateral_type <> 'none' THEN 'Z'
            WHEN acct_status = 3 THEN 'C'
            WHEN dpd = 0 AND due_in_month = 0 THEN '*'
            WHEN dpd = 0 THEN 'N'
            WHEN dpd <= 30 THEN '1' WHEN dpd <= 60 THEN '2' WHEN dpd <= 90 THEN '3'
            WHEN dpd <= 120 THEN '4' WHEN dpd <= 150 THEN '5' WHEN dpd <= 180 THEN '6'
            ELSE '7' END AS rpy_status,
       CASE WHEN acct_status = 3 THEN 0 ELSE dpd END AS overdue_days,
       panel_dpd,
       -- payments booked beyond an installment's own due (recoveries after a
       -- write-off, an installment paid ahead) lower the balance but not the
       -- unpaid principal of the other past-due installments: the overdue
       -- principal is the lower of the two
       CAST(CASE WHEN acct_status = 3 THEN 0 ELSE least(overdue_principal0, balance) END AS DECIMAL(18,2)) AS overdue_principal,
       CAST(CASE WHEN acct_status = 3 THEN 0 ELSE total_overdue0 END AS DECIMAL(18,2)) AS total_overdue,
       -- the age bands share the (capped) overdue principal, oldest first
       CAST(o31 AS DECIMAL(18,2)) AS overdue_31_60,
       CAST(o61 AS DECIMAL(18,2)) AS overdue_61_90,
       CAST(o91 AS DECIMAL(18,2)) AS overdue_91_180,
       CAST(o181 AS DECIMAL(18,2)) AS overdue_180,
       CAST(balance AS DECIMAL(18,2)) AS balance,
       CAST(principal_repaid AS DECIMAL(18,2)) AS principal_repaid,
       CAST(CASE WHEN acct_status IN (3, 4) THEN 0 ELSE remaining_terms0 END AS INTEGER) AS remaining_terms,
       CAST(CASE WHEN acct_status = 3 THEN 0 ELSE overdue_terms END AS INTEGER) AS overdue_terms,
       CAST(CASE WHEN written_off THEN 5
                 WHEN acct_status = 3 THEN 1
                 WHEN dpd >= loss_from THEN 5 WHEN dpd >= doubt_from THEN 4
                 WHEN dpd >= sub_from THEN 3 WHEN dpd >= sm_from THEN 2 ELSE 1 END AS INTEGER) AS five_class,
       CAST(paid_in_month AS DECIMAL(18,2)) AS paid_in_month,
       CAST(due_in_month AS DECIMAL(18,2)) AS due_in_month,
       last_paid,
       CASE WHEN acct_status = 3 THEN coalesce(settle_date, last_paid) END AS close_date,
       last_due, first_due
FROM b4;

-- bureau_terms: each installment of a reported account due in the month or
-- paid (in part) in it, with what was paid on it by the month end.
CREATE OR REPLACE TEMP TABLE bureau_terms AS
WITH p AS (SELECT * FROM bureau_params),
x AS (
    SELECT s.loan_id, s.installment_no, s.due_date, s.principal_due, s.interest_due,
           x.paid_month, x.last_d,
           coalesce(x.pp + x.ip, 0) AS paid_by_end, coalesce(x.first_d_month IS NOT NULL, false) AS paid_in_month
    FROM repayment_schedule s SEMI JOIN bureau_loan USING (loan_id)
    LEFT JOIN bureau_paid x USING (loan_id, installment_no)
)
SELECT x.loan_id, x.installment_no, x.due_date,
       CAST(x.principal_due + x.interest_due AS DECIMAL(18,2)) AS amount_due,
       CAST(coalesce(x.paid_month, 0) AS DECIMAL(18,2)) AS paid_month,
       x.paid_by_end >= x.principal_due + x.interest_due AS fully_paid,
       x.last_d,
       CAST(CASE WHEN x.paid_by_end < x.principal_due + x.interest_due AND x.due_date <= p.month_end
                 THEN p.month_end - x.due_date ELSE 0 END AS INTEGER) AS days_overdue
FROM x JOIN bureau_acct a USING (loan_id), p
WHERE ((x.due_date BETWEEN p.month_start AND p.month_end) OR x.paid_in_month)
  AND (a.close_date IS NULL OR a.written_off OR x.due_date <= a.close_date OR x.paid_in_month);
