-- records.sql: the two sides to match, as of the run's last day {{.To}}.
--
-- plat: the platform's records of money through custody, dated on or
-- before {{.To}}:
--   kind       disbursement (a loan, on its issue date), repayment (a
--              repayment row: principal + interest + penalty), investment
--   ref        the platform's id the custodian quotes as its reference:
--              loan_id, txn_id, investment_id
--   owner_type, owner_id  whose sub-account the money goes into or out of
--              (the borrower's; the lender's for an investment)
--   loan_id    the loan
--   pdate      the record's date (Beijing local)
--   amount     DECIMAL(18,2)
CREATE OR REPLACE TEMP TABLE plat AS
SELECT 'disbursement' AS kind, loan_id AS ref, 'borrower' AS owner_type, borrower_id AS owner_id, loan_id,
  issue_date AS pdate, principal AS amount
FROM loans WHERE issue_date <= DATE '{{.To}}'
UNION ALL
SELECT 'repayment', r.txn_id, 'borrower', l.borrower_id, r.loan_id, CAST(r.paid_at AS DATE),
  r.principal_paid + r.interest_paid + r.penalty_paid
FROM repayments r JOIN loans l USING (loan_id) WHERE CAST(r.paid_at AS DATE) <= DATE '{{.To}}'
UNION ALL
SELECT 'investment', investment_id, 'lender', lender_id, loan_id, CAST(invest_time AS DATE), amount
FROM investments WHERE CAST(invest_time AS DATE) <= DATE '{{.To}}';

-- bank: the custodian's statement lines that answer a platform record,
-- dated on or before {{.To}}: a disbursement or a repayment into a
-- borrower's sub-account, an investment out of a lender's.
--   kind       the line's txn_type (disbursement, repayment, investment)
--   ref        the reference it quotes ('' when none: an offline payment)
--   bdate      the posting date
--   (the other columns are the statement's)
CREATE OR REPLACE TEMP TABLE bank AS
SELECT bank_txn_id, sub_account, owner_type, owner_id, txn_type AS kind, loan_id,
  coalesce(reference, '') AS ref, CAST(txn_time AS DATE) AS bdate, txn_time, amount
FROM ct
WHERE CAST(txn_time AS DATE) <= DATE '{{.To}}'
  AND ((txn_type IN ('disbursement', 'repayment') AND owner_type = 'borrower' AND direction = 'in')
    OR (txn_type = 'investment' AND owner_type = 'lender' AND direction = 'out'));
