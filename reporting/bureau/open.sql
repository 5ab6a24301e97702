-- open.sql: the loan accounts open at the month end, from the performance
-- panel alone (the completeness check of the validation compares them
-- with the accounts reported): every loan whose panel row at the month
-- end is active, and every loan written off at or before the month end
-- whose principal is not yet fully repaid (recoveries included) by then.
-- Reads bureau_ev (month.sql's one pass over the panel: per loan, its
-- first write-off month end and whether it is active at the month end),
-- loans and repayments.
WITH p AS (SELECT * FROM bureau_params),
wo AS (
    SELECT loan_id FROM bureau_ev, p WHERE wo_me <= p.month_end
),
repaid AS (
    SELECT r.loan_id, sum(r.principal_paid) AS principal_repaid
    FROM repayments r SEMI JOIN wo USING (loan_id), p
    WHERE CAST(r.paid_at AS DATE) <= p.month_end
    GROUP BY r.loan_id
)
SELECT loan_id FROM bureau_ev WHERE panel_active
UNION
SELECT w.loan_id FROM wo w JOIN loans l USING (loan_id) LEFT JOIN repaid r USING (loan_id)
WHERE coalesce(r.principal_repaid, 0) < l.principal
ORDER BY loan_id
