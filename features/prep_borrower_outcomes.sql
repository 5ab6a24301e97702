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
WITH loan_bad AS (
    SELECT loan_id, min(CAST(due_date + 90 AS TIMESTAMP)) AS bad_time
    FROM installments
    WHERE paid_off_at IS NULL OR paid_off_at >= CAST(due_date + 90 AS TIMESTAMP)
    GROUP BY loan_id
),
loan_end AS (
    SELECT loan_id, borrower_id, CAST(issue_date + INTERVAL 12 MONTH AS TIMESTAMP) AS window_end
    FROM loans
    WHERE issue_date < getvariable('as_of')
),
loan_over30 AS (
    SELECT i.loan_id
    FROM installments i
    JOIN loan_end e USING (loan_id)
    WHERE CAST(i.due_date + 31 AS TIMESTAMP) <= e.window_end
      AND (i.paid_off_at IS NULL OR i.paid_off_at >= CAST(i.due_date + 31 AS TIMESTAMP))
    GROUP BY i.loan_id
)
SELECT e.borrower_id,
       min(b.bad_time) AS bad_time,
       min(e.window_end) FILTER (WHERE o.loan_id IS NULL) AS good_time
FROM loan_end e
LEFT JOIN loan_bad b USING (loan_id)
LEFT JOIN loan_over30 o USING (loan_id)
GROUP BY e.borrower_id
HAVING min(b.bad_time) IS NOT NULL OR min(e.window_end) FILTER (WHERE o.loan_id IS NULL) IS NOT NULL
