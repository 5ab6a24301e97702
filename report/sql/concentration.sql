-- Concentration of the active book: the share of outstanding principal by
-- region, product and collateral type, and the share held by the ten
-- largest borrowers and by the largest one. {{active}} is the active book
-- (borrower_id, region, product, collateral_type, principal): the loans
-- active at the last month end of perf/panel with their outstanding
-- principal, or, without a panel, the loans whose status is active with
-- their issued principal. Columns: dimension, key, loans, share (0..1).
WITH active AS ({{active}}),
total AS (SELECT sum(principal) AS p FROM active),
by_dim AS (
    SELECT 'region' AS dimension, region AS key, count(*) AS loans, sum(principal) AS principal FROM active GROUP BY ALL
    UNION ALL
    SELECT 'product', product, count(*), sum(principal) FROM active GROUP BY ALL
    UNION ALL
    SELECT 'collateral_type', collateral_type, count(*), sum(principal) FROM active GROUP BY ALL
),
borrowers AS (
    SELECT borrower_id, count(*) AS loans, sum(principal) AS principal,
           row_number() OVER (ORDER BY sum(principal) DESC, borrower_id) AS rk
    FROM active GROUP BY borrower_id
),
top AS (
    SELECT 'top_borrowers' AS dimension, 'largest 10 borrowers' AS key, sum(loans) AS loans, sum(principal) AS principal FROM borrowers WHERE rk <= 10
    UNION ALL
    SELECT 'top_borrowers', 'largest borrower', sum(loans), sum(principal) FROM borrowers WHERE rk = 1
)
SELECT dimension, coalesce(key, '(missing)') AS key, loans, principal / nullif((SELECT p FROM total), 0) AS share
FROM (SELECT * FROM by_dim UNION ALL SELECT * FROM top)
ORDER BY dimension, share DESC, key
