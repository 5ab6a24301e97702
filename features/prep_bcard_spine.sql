-- Spine of the B-card set: loans active at the as-of date d (a month end):
-- issued before d, with an installment not paid off before d (so not
-- settled), and not written off before d. The export has no write-off
-- date, so a loan counts as written off once it is more than 180 DPD (the
-- usual charge-off point); the loan's current status is not used, as it
-- is known only at export time. dpd is the DPD on day d.
WITH state AS (
    SELECT loan_id,
           count(*) FILTER (WHERE paid_off_at IS NULL) AS n_open,
           max(getvariable('as_of') - due_date)
               FILTER (WHERE paid_off_at IS NULL AND due_date < getvariable('as_of')) AS dpd
    FROM installments
    GROUP BY loan_id
)
SELECT l.loan_id, l.borrower_id, getvariable('as_of') AS as_of, l.application_id,
       l.issue_date, l.principal, CAST(coalesce(st.dpd, 0) AS INTEGER) AS dpd
FROM loans l
JOIN state st USING (loan_id)
WHERE l.issue_date < getvariable('as_of')
  AND st.n_open > 0
  AND coalesce(st.dpd, 0) <= 180
