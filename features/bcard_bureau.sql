-- B-card group: new credit-bureau inquiries by other lenders since the
-- loan was issued, dated strictly before the as-of date d. Post-loan
-- inquiries (reason post_loan) are the lender's own monitoring and are
-- not counted.
-- reads: bureau_inquiries
-- uses: spine_bcard
WITH q AS (
    SELECT s.loan_id, q.query_date, s.as_of, s.issue_date
    FROM spine_bcard s
    JOIN bureau_inquiries q
      ON q.borrower_id = s.borrower_id
     AND q.query_date < s.as_of
     AND q.query_date >= s.issue_date
     AND q.reason <> 'post_loan'
),
agg AS (
    SELECT loan_id,
           count(*) AS since_issue,
           count(*) FILTER (WHERE query_date >= as_of - 30) AS d30,
           count(*) FILTER (WHERE query_date >= as_of - 90) AS d90
    FROM q
    GROUP BY loan_id
)
SELECT
    s.loan_id,
    -- feature: b_inq_since_issue | int | Bureau inquiries (not post-loan) since the issue date | query_date in [issue_date, as_of)
    coalesce(a.since_issue, 0) AS b_inq_since_issue,
    -- feature: b_inq_30d | int | Bureau inquiries (not post-loan) since issue in the 30 days before as-of | query_date in [max(issue_date, as_of - 30), as_of)
    coalesce(a.d30, 0) AS b_inq_30d,
    -- feature: b_inq_90d | int | Bureau inquiries (not post-loan) since issue in the 90 days before as-of | query_date in [max(issue_date, as_of - 90), as_of)
    coalesce(a.d90, 0) AS b_inq_90d
FROM spine_bcard s
LEFT JOIN agg a USING (loan_id)
