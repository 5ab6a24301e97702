-- A synthetic book for BenchmarkPanel, built directly in DuckDB so the
-- benchmark does not depend on the generator: {{N}} loans issued over the
-- first 24 months of 2022-01..2024-12 (as-of 2024-12-31) with 24- or
-- 36-month terms, hash-based pseudo-randomness (deterministic):
--   80% pay every installment 0-2 days before the due date,
--   10% pay on time except roughly one installment in eight paid 5-64
--       days late, in two parts,
--    8% stop paying at a random installment (60% of them written off),
--    2% settle early at a random installment (remaining principal at once).
-- Payments after the as-of date do not exist yet.
CREATE TABLE bl AS
SELECT i,
       printf('L%08d', i) AS loan_id,
       CAST(DATE '2022-01-01' + to_months(CAST(hash(i, 1) % 24 AS INTEGER)) + to_days(CAST(hash(i, 2) % 28 AS INTEGER)) AS DATE) AS issue_date,
       CASE WHEN hash(i, 3) % 10 < 7 THEN 36 ELSE 24 END AS term,
       CAST(1000 + hash(i, 4) % 49000 AS DECIMAL(18,2)) AS principal,
       CAST(hash(i, 5) % 100 AS INTEGER) AS cls,
       CAST(2 + hash(i, 6) % 20 AS INTEGER) AS stop_no
FROM range({{N}}) t(i);

CREATE TABLE bs AS
SELECT bl.i, bl.loan_id, bl.issue_date, bl.cls, bl.stop_no, bl.term, no AS installment_no,
       CAST(bl.issue_date + to_months(CAST(no AS INTEGER)) AS DATE) AS due_date,
       CAST(CASE WHEN no < bl.term THEN round(bl.principal / bl.term, 2)
                 ELSE bl.principal - round(bl.principal / bl.term, 2) * (bl.term - 1) END AS DECIMAL(18,2)) AS principal_due,
       CAST(round(bl.principal * 0.012, 2) AS DECIMAL(18,2)) AS interest_due
FROM bl, LATERAL (SELECT unnest(range(1, bl.term + 1)) AS no);

CREATE TABLE loans AS
SELECT loan_id, printf('A%08d', i) AS application_id, printf('B%08d', hash(i, 7) % 700000) AS borrower_id,
       'cash' AS product, issue_date, principal, CAST(0.144 AS DECIMAL(9,6)) AS annual_rate, CAST(term AS INTEGER) AS term_months,
       'equal_principal' AS repay_method, NULL::VARCHAR AS purpose,
       CASE WHEN hash(i, 8) % 10 = 0 THEN 'car' ELSE 'none' END AS collateral_type, NULL::DECIMAL(18,2) AS collateral_value,
       NULL::VARCHAR AS region,
       CASE WHEN cls BETWEEN 90 AND 97 THEN CASE WHEN hash(i, 9) % 10 < 6 THEN 'written_off' ELSE 'active' END
            WHEN cls >= 98 THEN 'settled'
            WHEN CAST(issue_date + to_months(term) AS DATE) <= DATE '2024-12-31' THEN 'settled'
            ELSE 'active' END AS status
FROM bl;

CREATE TABLE repayment_schedule AS
SELECT loan_id, CAST(installment_no AS INTEGER) AS installment_no, due_date, principal_due, interest_due FROM bs;

CREATE TABLE repayments AS
WITH p AS (
    -- on time / late in two parts
    SELECT loan_id, installment_no, 1 AS part,
           CASE WHEN cls BETWEEN 80 AND 89 AND hash(i, installment_no) % 8 = 0
                THEN due_date + to_days(CAST(5 + hash(i, installment_no, 1) % 60 AS INTEGER))
                ELSE due_date - to_days(CAST(hash(i, installment_no, 2) % 3 AS INTEGER)) END AS paid_at,
           CASE WHEN cls BETWEEN 80 AND 89 AND hash(i, installment_no) % 8 = 0 THEN round(principal_due / 2, 2) ELSE principal_due END AS principal_paid,
           interest_due AS interest_paid
    FROM bs
    WHERE cls < 90 OR installment_no < stop_no
    UNION ALL
    SELECT loan_id, installment_no, 2,
           due_date + to_days(CAST(5 + hash(i, installment_no, 1) % 60 AS INTEGER)) + INTERVAL 3 DAY,
           principal_due - round(principal_due / 2, 2), 0
    FROM bs WHERE cls BETWEEN 80 AND 89 AND hash(i, installment_no) % 8 = 0
    UNION ALL
    -- early settlement: remaining principal on one day, interest waived
    SELECT loan_id, installment_no, 3,
           issue_date + to_months(stop_no - 1) + INTERVAL 10 DAY, principal_due, 0
    FROM bs WHERE cls >= 98 AND installment_no >= stop_no
)
SELECT printf('T%s-%d-%d', loan_id, installment_no, part) AS txn_id, loan_id, CAST(installment_no AS INTEGER) AS installment_no,
       CAST(paid_at AS TIMESTAMP) + INTERVAL 10 HOUR AS paid_at,
       CAST(principal_paid AS DECIMAL(18,2)) AS principal_paid, CAST(interest_paid AS DECIMAL(18,2)) AS interest_paid,
       CAST(0 AS DECIMAL(18,2)) AS penalty_paid
FROM p WHERE CAST(paid_at AS DATE) <= DATE '2024-12-31';
