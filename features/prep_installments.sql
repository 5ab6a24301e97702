-- Installments of every loan issued before the as-of date d, with what is
-- known of their payment strictly before d, read from perf's intermediate
-- model perf/installment_payoff (computed once from all payments; see
-- data/perf/sql/installment_payoff.sql). Payoff only moves forward in
-- time, so keeping a time only when it is before d gives exactly what the
-- payments before d alone would give (amounts are never negative).
--   due                     principal_due + interest_due
--   principal_due           principal due
--   first_paid_at           time of the first payment before d, NULL if none
--   first_principal_paid_at time of the first payment with principal before
--                           d, NULL if none (so principal was paid before d
--                           exactly when it is not NULL)
--   paid_off_at             time of the payment that brought the paid
--                           amount up to the amount due, NULL if not fully
--                           paid before d; an installment with nothing due
--                           counts as paid off on its due date (00:00)
-- Only installments due before the variable installments_due_before are
-- kept: the A-card sets it to d (its borrower outcomes need only
-- installments already due), the B-card keeps them all (and only those of
-- its spine's loans, see build.go).
-- reads: loans, perf/installment_payoff
SELECT i.loan_id, i.installment_no, i.due_date, i.amount_due AS due, i.principal_due,
       CASE WHEN i.first_paid_at < getvariable('as_of') THEN i.first_paid_at END AS first_paid_at,
       CASE WHEN i.first_principal_paid_at < getvariable('as_of') THEN i.first_principal_paid_at END AS first_principal_paid_at,
       CASE WHEN i.amount_due <= 0 OR i.paid_off_at < getvariable('as_of') THEN i.paid_off_at END AS paid_off_at
FROM installment_payoff i
SEMI JOIN loans l ON l.loan_id = i.loan_id AND l.issue_date < getvariable('as_of')
WHERE i.due_date < getvariable('installments_due_before')
