-- Outcomes of borrowers as they became known, for the link graph's bad
-- rate. Reads the installments table (payments strictly before the as-of
-- date only). DPD on day x counts an installment due before x that was not
-- paid off before x (00:00 of day x); it is x - due_date.
-- reads: loans
-- uses: installments
--
--   bad_time   00:00 of the first day any loan of the borrower was 90+ DPD,
--              i.e. due_date + 90 for an installment not paid off before
--              that instant. From then on the borrower is a known bad.
--   good_time  00:00 of the day a loan of the borrower completed 12 months
--              on book (issue_date + 12 months) without ever being more
--              than 30 DPD on a day up to and including that day. From
--              then on the borrower is a known good, unless bad_time is
--              reached (bad overrides good).
-- A borrower with neither is unknown and never counted. The loan's final
-- status in the export is not used: it is known only at export time.
-- The installments are read once: each loan's first 90+ DPD instant and
-- whether it was ever 31+ DPD within its first 12 months are one
-- aggregate (two, each with its own scan of every installment, took 30 s
-- of a 10M-loan book's features). Every installment's loan is in
-- loan_end: both are the loans issued before the as-of date.
WITH loan_end AS (
    SELECT loan_id, borrower_id, CAST(issue_date + INTERVAL 12 MONTH AS TIMESTAMP) AS window_end
    FROM loans
    WHERE issue_date < getvariable('as_of')
),
loan_dpd AS (
    SELECT i.loan_id,
           min(CAST(i.due_date + 90 AS TIMESTAMP))
               FILTER (WHERE i.paid_off_at IS NULL OR i.paid_off_at >= CAST(i.due_date + 90 AS TIMESTAMP)) AS bad_time,
           bool_or(CAST(i.due_date + 31 AS TIMESTAMP) <= e.window_end
                   AND (i.paid_off_at IS NULL OR i.paid_off_at >= CAST(i.due_date + 31 AS TIMESTAMP))) AS over30
    FROM installments i
    JOIN loan_end e USING (loan_id)
    GROUP BY i.loan_id
)
SELECT e.borrower_id,
       min(d.bad_time) AS bad_time,
       min(e.window_end) FILTER (WHERE NOT coalesce(d.over30, false)) AS good_time
FROM loan_end e
LEFT JOIN loan_dpd d USING (loan_id)
GROUP BY e.borrower_id
HAVING min(d.bad_time) IS NOT NULL OR min(e.window_end) FILTER (WHERE NOT coalesce(d.over30, false)) IS NOT NULL
