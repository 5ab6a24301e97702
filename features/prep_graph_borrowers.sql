-- Borrower nodes of the link graph: every borrower of an A-card
-- application or with a known outcome, numbered 0..B-1 in no particular
-- order (the union-find's results do not depend on it; package graph's
-- TestComputeIgnoresNumbering). Numbered in borrower_id order, the 15M
-- ids of a 10M-loan book were sorted for nothing.
-- reads: (none)
-- uses: borrower_outcomes, spine_acard
SELECT borrower_id, CAST(row_number() OVER () - 1 AS INTEGER) AS node
FROM (SELECT borrower_id FROM spine_acard
      UNION SELECT borrower_id FROM borrower_outcomes)
