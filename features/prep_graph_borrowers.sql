-- Borrower nodes of the link graph: every borrower of an A-card
-- application or with a known outcome, numbered 0..B-1.
-- reads: (none)
-- uses: borrower_outcomes, spine_acard
SELECT borrower_id, CAST(row_number() OVER (ORDER BY borrower_id) - 1 AS INTEGER) AS node
FROM (SELECT DISTINCT borrower_id FROM spine_acard
      UNION SELECT borrower_id FROM borrower_outcomes)
