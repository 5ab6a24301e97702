-- Installments of every loan issued before the as-of date d, with what is
-- known of their payment strictly before d:
--   due             principal_due + interest_due
--   paid            principal + interest paid before d
--   principal_paid  principal paid before d
--   first_paid_at   time of the first payment before d, NULL if none
--   paid_off_at     time of the payment that brought the paid amount up to
--                   the amount due, NULL if not fully paid before d
-- An installment with nothing due counts as paid off on its due date.
-- Only installments due before the variable installments_due_before are
-- kept: the A-card sets it to d (its borrower outcomes need only
-- installments already due), the B-card keeps them all.
-- Penalties do not count towards paying an installment off. Most
-- installments are paid in one payment; only those with several need the
-- running sum (window), which keeps this fast at scale.
WITH sched AS (
    SELECT s.loan_id, s.installment_no, s.due_date,
           s.principal_due, s.principal_due + s.interest_due AS due
    FROM repayment_schedule s
    SEMI JOIN loans l ON l.loan_id = s.loan_id AND l.issue_date < getvariable('as_of')
    WHERE s.due_date < getvariable('installments_due_before')
),
pay AS (
    SELECT loan_id, installment_no, paid_at, txn_id,
           principal_paid, principal_paid + interest_paid AS amount
    FROM repayments
    WHERE paid_at < getvariable('as_of')
),
agg AS (
    SELECT loan_id, installment_no, count(*) AS n,
           sum(amount) AS paid, sum(principal_paid) AS principal_paid, min(paid_at) AS first_paid_at
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
    JOIN sched s USING (loan_id, installment_no)
    WHERE m.cum >= s.due
    GROUP BY m.loan_id, m.installment_no
)
SELECT s.loan_id, s.installment_no, s.due_date, s.due, s.principal_due,
       a.first_paid_at,
       coalesce(a.paid, 0) AS paid,
       coalesce(a.principal_paid, 0) AS principal_paid,
       CASE WHEN s.due <= 0 THEN CAST(s.due_date AS TIMESTAMP)
            WHEN a.n = 1 AND a.paid >= s.due THEN a.first_paid_at
            WHEN a.n > 1 THEN md.paid_off_at
       END AS paid_off_at
FROM sched s
LEFT JOIN agg a USING (loan_id, installment_no)
LEFT JOIN multi_done md USING (loan_id, installment_no)
