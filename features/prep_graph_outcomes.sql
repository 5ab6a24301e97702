-- Outcome events for the borrower graph: when each borrower became a
-- known bad or a known good (microseconds since the epoch; NULL if never
-- before the as-of date), with the borrower's node number.
-- reads: (none)
-- uses: borrower_outcomes, graph_borrowers
SELECT b.node AS borrower_node,
       epoch_us(o.bad_time) AS bad_t,
       epoch_us(o.good_time) AS good_t
FROM borrower_outcomes o
JOIN graph_borrowers b USING (borrower_id)
ORDER BY b.node
