-- Installments of every loan issued before the as-of date d, with what is
-- known of their payment strictly before d:
--   due          principal_due + interest_due
--   paid         principal + interest paid before d
--   paid_off_at  time of the payment that brought the paid amount up to
--                the amount due, NULL if not fully paid before d
-- An installment with nothing due counts as paid off on its due date.
-- Penalties do not count towards paying an installment off.
WITH sched AS (
    SELECT s.loan_id, s.installment_no, s.due_date,
           s.principal_due, s.principal_due + s.interest_due AS due
    FROM repayment_schedule s
    SEMI JOIN loans l ON l.loan_id = s.loan_id AND l.issue_date < getvariable('as_of')
),
pay AS (
    SELECT r.loan_id, r.installment_no, r.paid_at,
           r.principal_paid, r.principal_paid + r.interest_paid AS amount,
           sum(r.principal_paid + r.interest_paid) OVER (
               PARTITION BY r.loan_id, r.installment_no
               ORDER BY r.paid_at, r.txn_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum
    FROM repayments r
    WHERE r.paid_at < getvariable('as_of')
),
paid AS (
    SELECT p.loan_id, p.installment_no,
           sum(p.amount) AS paid,
           sum(p.principal_paid) AS principal_paid,
           min(p.paid_at) FILTER (WHERE p.cum >= s.due) AS paid_off_at
    FROM pay p
    JOIN sched s USING (loan_id, installment_no)
    GROUP BY p.loan_id, p.installment_no
)
SELECT s.loan_id, s.installment_no, s.due_date, s.due, s.principal_due,
       coalesce(p.paid, 0) AS paid,
       coalesce(p.principal_paid, 0) AS principal_paid,
       CASE WHEN s.due <= 0 THEN CAST(s.due_date AS TIMESTAMP) ELSE p.paid_off_at END AS paid_off_at
FROM sched s
LEFT JOIN paid p USING (loan_id, installment_no)
