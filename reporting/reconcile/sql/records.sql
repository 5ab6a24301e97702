-- records.sql: the two sides to match, as of the run's last day {{.To}},
-- read once and written as Parquet in {{.Buckets}} buckets by a hash of
-- (kind, ref) under the run's temp dir, so that matching by reference
-- (bucket.sql) joins one bucket at a time, in memory at any book size:
-- a reference and every line quoting it are in the same bucket.
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
CREATE OR REPLACE TEMP VIEW plat AS
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
CREATE OR REPLACE TEMP VIEW bank AS
SELECT bank_txn_id, sub_account, owner_type, owner_id, txn_type AS kind, loan_id,
  coalesce(reference, '') AS ref, CAST(txn_time AS DATE) AS bdate, txn_time, amount
FROM ct
WHERE CAST(txn_time AS DATE) <= DATE '{{.To}}'
  AND ((txn_type IN ('disbursement', 'repayment') AND owner_type = 'borrower' AND direction = 'in')
    OR (txn_type = 'investment' AND owner_type = 'lender' AND direction = 'out'));

-- plat0, bank0: no rows, the two sides' columns: what a bucket reads
-- when it has no file on one side.
CREATE OR REPLACE TEMP TABLE plat0 AS FROM plat LIMIT 0;
CREATE OR REPLACE TEMP TABLE bank0 AS FROM bank LIMIT 0;

-- plat/bucket=<k>/: the records of bucket k.
COPY (SELECT *, hash(kind, ref) % {{.Buckets}} AS bucket FROM plat)
TO {{.PlatDir}} (FORMAT parquet, PARTITION_BY (bucket));

-- bank/bucket=<k>/: the lines of bucket k; bucket {{.Buckets}}
-- holds the lines quoting no reference, which only passes 2 and 3 can
-- match (they start b_left).
COPY (SELECT *, CASE WHEN ref = '' THEN {{.Buckets}} ELSE hash(kind, ref) % {{.Buckets}} END AS bucket FROM bank)
TO {{.BankDir}} (FORMAT parquet, PARTITION_BY (bucket));
