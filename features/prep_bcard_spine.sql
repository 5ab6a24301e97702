-- Spine of the B-card set: loans active at the as-of date d (a month end):
-- issued before d, not settled before d and not written off before d,
-- matching perf/panel's loan population:
--   settled      every installment paid off before d; or, for a loan
--                exported as 'settled' (early settlement, the schedule may
--                not be cancelled in the export), its last payment is
--                before d
--   written off  exported as 'written_off' and 180+ DPD at d (the export
--                has no write-off date; 180 DPD is the charge-off point)
-- dpd is the DPD on day d from payments strictly before d. Payoff times
-- come from perf/installment_payoff and the last payment from
-- perf/loan_closure, both computed once from all payments: only times
-- before d are used (an installment with something due is open at d when
-- it was not paid off before d).
-- reads: loans, perf/installment_payoff, perf/loan_closure
WITH state AS (
    SELECT i.loan_id,
           count(*) FILTER (WHERE i.amount_due > 0 AND (i.paid_off_at IS NULL OR i.paid_off_at >= getvariable('as_of'))) AS n_open,
           max(getvariable('as_of') - i.due_date)
               FILTER (WHERE i.amount_due > 0 AND (i.paid_off_at IS NULL OR i.paid_off_at >= getvariable('as_of'))
                         AND i.due_date < getvariable('as_of')) AS dpd
    FROM installment_payoff i
    SEMI JOIN loans l ON l.loan_id = i.loan_id AND l.issue_date < getvariable('as_of')
    GROUP BY i.loan_id
)
SELECT l.loan_id, l.borrower_id, getvariable('as_of') AS as_of, l.application_id,
       l.issue_date, l.principal, CAST(coalesce(st.dpd, 0) AS INTEGER) AS dpd
FROM loans l
JOIN state st USING (loan_id)
LEFT JOIN loan_closure c USING (loan_id)
WHERE l.issue_date < getvariable('as_of')
  AND st.n_open > 0
  AND NOT (l.status = 'settled' AND c.last_paid_at < getvariable('as_of'))
  AND NOT (l.status = 'written_off' AND coalesce(st.dpd, 0) >= 180)
