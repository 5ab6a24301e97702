-- perf/installment_payoff: one row per schedule row (loan_id,
-- installment_no) of the lake, with what all the payments in the lake say
-- about it. It is computed once by perf and read by the panel, the feature
-- snapshots and the early-warning list instead of each re-deriving it.
-- (the stage runs it per hash partition of the loans: on the views
-- chunk_schedule and chunk_repayments, as the panel)
-- reads: repayment_schedule, repayments
--
-- Point in time: payoff only moves forward in time. A reader as of d
-- keeps first_paid_at / first_principal_paid_at / paid_off_at when they
-- are before d (a timestamp reader: `< d`, a day reader: `<= d` on the
-- date) and reads NULL otherwise; that gives exactly what payments before
-- d alone would give, because amounts are never negative (ingest rejects
-- them), so the running sum that decides paid_off_at is monotone and its
-- first crossing of the amount due does not depend on later payments.
-- last_paid_at and settled see every payment: never read them as of d.
--
-- An installment is paid off by the payment (in paid_at, txn_id order)
-- that brings the running sum of principal_paid + interest_paid booked
-- against it up to principal_due + interest_due; penalties do not count,
-- payments before the due date do. An installment with nothing due is paid
-- off on its due date (00:00). Most installments are paid in one payment;
-- only those with several need the running sum (a window), which keeps this
-- fast at scale.
--
-- Columns:
--   loan_id, installment_no  the schedule row
--   due_date                 its due date
--   principal_due            principal due, DECIMAL(18,2)
--   interest_due             interest due, DECIMAL(18,2)
--   amount_due               principal_due + interest_due, DECIMAL(18,2)
--   first_paid_at            time of the first payment booked against it (NULL if none)
--   first_principal_paid_at  time of the first payment with principal_paid > 0 (NULL if none)
--   last_paid_at             time of the last payment booked against it (NULL if none)
--   paid_off_at              time it was paid off (see above), NULL if never
--   settled                  paid_off_at IS NOT NULL: paid off by all payments in the lake
WITH pay AS (
    SELECT loan_id, installment_no, paid_at, txn_id, principal_paid,
           principal_paid + interest_paid AS amount
    FROM chunk_repayments
),
agg AS (
    SELECT loan_id, installment_no, count(*) AS n, sum(amount) AS paid,
           min(paid_at) AS first_paid_at,
           min(paid_at) FILTER (WHERE principal_paid > 0) AS first_principal_paid_at,
           max(paid_at) AS last_paid_at
    FROM pay
    GROUP BY loan_id, installment_no
),
multi AS (
    -- running sums for installments paid in several payments
    SELECT p.loan_id, p.installment_no, p.paid_at,
           sum(p.amount) OVER (PARTITION BY p.loan_id, p.installment_no
                               ORDER BY p.paid_at, p.txn_id
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
    FROM pay p
    SEMI JOIN agg a ON a.loan_id = p.loan_id AND a.installment_no = p.installment_no AND a.n > 1
),
multi_done AS (
    SELECT m.loan_id, m.installment_no, min(m.paid_at) AS paid_off_at
    FROM multi m
    JOIN chunk_schedule s USING (loan_id, installment_no)
    WHERE m.cum >= s.principal_due + s.interest_due
    GROUP BY m.loan_id, m.installment_no
),
inst AS (
    SELECT s.loan_id, s.installment_no, s.due_date, s.principal_due, s.interest_due,
           CAST(s.principal_due + s.interest_due AS DECIMAL(18,2)) AS amount_due,
           a.first_paid_at, a.first_principal_paid_at, a.last_paid_at,
           CASE WHEN s.principal_due + s.interest_due <= 0 THEN CAST(s.due_date AS TIMESTAMP)
                WHEN a.n = 1 AND a.paid >= s.principal_due + s.interest_due THEN a.first_paid_at
                WHEN a.n > 1 THEN md.paid_off_at
           END AS paid_off_at
    FROM chunk_schedule s
    LEFT JOIN agg a USING (loan_id, installment_no)
    LEFT JOIN multi_done md USING (loan_id, installment_no)
)
SELECT loan_id, installment_no, due_date, principal_due, interest_due, amount_due,
       first_paid_at, first_principal_paid_at, last_paid_at, paid_off_at,
       paid_off_at IS NOT NULL AS settled
FROM inst
ORDER BY loan_id, installment_no
