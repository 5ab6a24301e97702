-- Spine of the B-card set: loans active at the as-of date d (a month end):
-- issued before d, not settled before d and not written off before d,
-- matching perf/panel's loan population:
--   settled      every installment paid off before d; or, for a loan
--                exported as 'settled' (early settlement, the schedule may
--                not be cancelled in the export), its last payment is
--                before d
--   written off  exported as 'written_off' and 180+ DPD at d (the export
--                has no write-off date; 180 DPD is the charge-off point)
-- dpd is the DPD on day d from payments strictly before d.
WITH state AS (
    SELECT loan_id,
           count(*) FILTER (WHERE paid_off_at IS NULL) AS n_open,
           max(getvariable('as_of') - due_date)
               FILTER (WHERE paid_off_at IS NULL AND due_date < getvariable('as_of')) AS dpd
    FROM installments
    GROUP BY loan_id
),
last_pay AS (
    SELECT r.loan_id, max(r.paid_at) AS last_paid_at
    FROM repayments r
    JOIN loans l ON l.loan_id = r.loan_id AND l.status = 'settled'
    GROUP BY r.loan_id
)
SELECT l.loan_id, l.borrower_id, getvariable('as_of') AS as_of, l.application_id,
       l.issue_date, l.principal, CAST(coalesce(st.dpd, 0) AS INTEGER) AS dpd
FROM loans l
JOIN state st USING (loan_id)
LEFT JOIN last_pay lp USING (loan_id)
WHERE l.issue_date < getvariable('as_of')
  AND st.n_open > 0
  AND NOT (l.status = 'settled' AND lp.last_paid_at < getvariable('as_of'))
  AND NOT (l.status = 'written_off' AND coalesce(st.dpd, 0) >= 180)
