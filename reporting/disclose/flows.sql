-- flows.sql: the fund flow of each loan issued in the month — the
-- custodian's disbursement lines crediting the borrower's sub-account —
-- ordered by loan, time and bank line id.
--
-- Reads the views loans and custody_transactions and the one-row table
-- disclose_params (month_start, month_end). The sub-account number leaves
-- this query only to be masked in Go. Money is integer fen.
SELECT
    c.loan_id,
    strftime(c.txn_time, '%Y-%m-%d') AS txn_date,   -- the bank's posting date
    c.bank,                                         -- the custodian bank
    coalesce(c.sub_account, '') AS sub_account,     -- the borrower's sub-account (masked before publishing)
    CAST(round(c.amount * 100) AS BIGINT) AS amount_fen,
    c.bank_txn_id                                   -- the bank's line id, for order only
FROM custody_transactions c, disclose_params p
WHERE c.txn_type = 'disbursement' AND c.owner_type = 'borrower' AND c.direction = 'in'
  AND c.loan_id IN (SELECT loan_id FROM loans WHERE issue_date BETWEEN p.month_start AND p.month_end)
ORDER BY c.loan_id, c.txn_time, c.bank_txn_id
