package features

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"qiandun/data/lake"
	"qiandun/data/schema"
	"qiandun/internal/benchutil"
)

// benchAsOf is the as-of date of the synthetic benchmark lake.
const benchAsOf = "2025-01-01"

// synthLake writes a synthetic lake of n applications directly with
// DuckDB SQL (range() and hash-based randomness, so it is the same on
// every run): 0.8n borrowers, devices and phones mostly unique with 5%
// drawn from small shared pools, applications in 2024-02-01..2024-12-27,
// one 12-month loan per application issued the next day (so all n loans
// are on book at the as-of date 2025-01-01), its schedule, payments
// within a few days of the due date for 98% of due installments and 20-80
// days late for 2% (0.5% of those due in the last 150 days never paid, so
// no loan is written off), three bureau inquiries and one report per
// application, and two collection events per late installment.
func synthLake(tb testing.TB, root string, n int) {
	tb.Helper()
	ctx := context.Background()
	spill := filepath.Join(root, "_tmp", "gen")
	if err := os.MkdirAll(spill, 0o755); err != nil {
		tb.Fatal(err)
	}
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "2GB", TempDir: spill})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	nb := max(n*8/10, 1)
	pool := max(n/50, 1)
	stmts := []string{
		fmt.Sprintf(`INSERT INTO applications BY NAME
SELECT 'A' || lpad(i::VARCHAR, 9, '0') AS application_id,
       'B' || (hash(i, 'b') %% %[2]d) AS borrower_id,
       TIMESTAMP '2024-02-01' + to_seconds(CAST(hash(i, 't') %% (330 * 86400) AS BIGINT)) AS apply_time,
       ['cash', 'car', 'edu'][CAST(1 + hash(i, 'p') %% 3 AS INTEGER)] AS product,
       ['app', 'web', 'partner'][CAST(1 + hash(i, 'c') %% 3 AS INTEGER)] AS channel,
       CAST(1000 + hash(i, 'a') %% 49000 AS DECIMAL(18,2)) AS requested_amount,
       12 AS term_months,
       md5('id' || (hash(i, 'b') %% %[2]d)) AS id_number_token,
       md5('nm' || (hash(i, 'b') %% %[2]d)) AS name_token,
       'P' || CASE WHEN hash(i, 'ps') %% 20 = 0 THEN 'S' || (hash(i, 'pp') %% %[3]d) ELSE i::VARCHAR END AS phone_token,
       CASE WHEN hash(i, 'g') %% 2 = 0 THEN 'male' ELSE 'female' END AS gender,
       ['本科', '大专', '高中'][CAST(1 + hash(i, 'e') %% 3 AS INTEGER)] AS education,
       ['married', 'single'][CAST(1 + hash(i, 'm') %% 2 AS INTEGER)] AS marital_status,
       CAST(2000 + hash(i, 'inc') %% 30000 AS DECIMAL(18,2)) AS monthly_income,
       CAST((hash(i, 'emp') %% 300) / 10 AS DECIMAL(9,6)) AS employment_years,
       ['北京', '上海', '成都', '武汉'][CAST(1 + hash(i, 'city') %% 4 AS INTEGER)] AS city,
       'D' || CASE WHEN hash(i, 'ds') %% 20 = 0 THEN 'S' || (hash(i, 'dp') %% %[3]d) ELSE i::VARCHAR END AS device_id_token,
       'IP' || (hash(i, 'ip') %% %[4]d) AS ip_token,
       'approved' AS decision,
       CAST(18 + hash(i, 'age') %% 50 AS INTEGER) AS age,
       CASE WHEN hash(i, 'g') %% 17 = 0 THEN 'female' WHEN hash(i, 'g') %% 2 = 0 THEN 'male' ELSE 'female' END AS id_gender,
       '北京' AS birth_province,
       hash(i, 'ck') %% 100 <> 0 AS id_checksum_ok
FROM range(%[1]d) r(i)`, n, nb, pool, max(n/4, 1)),
		`INSERT INTO loans BY NAME
SELECT 'L' || substr(application_id, 2) AS loan_id, application_id, borrower_id, product,
       CAST(apply_time AS DATE) + 1 AS issue_date, requested_amount AS principal,
       CAST(0.10 + (hash(application_id, 'r') % 15) / 100 AS DECIMAL(9,6)) AS annual_rate,
       12 AS term_months, 'equal_principal' AS repay_method, '消费' AS purpose,
       CASE WHEN hash(application_id, 'col') % 10 = 0 THEN 'car' ELSE 'none' END AS collateral_type,
       CASE WHEN hash(application_id, 'col') % 10 = 0 THEN requested_amount * 2 END AS collateral_value,
       '华北' AS region, 'active' AS status
FROM applications`,
		`INSERT INTO repayment_schedule BY NAME
SELECT loan_id, CAST(k AS INTEGER) AS installment_no, CAST(issue_date + to_months(CAST(k AS INTEGER)) AS DATE) AS due_date,
       CAST(round(principal / 12, 2) AS DECIMAL(18,2)) AS principal_due,
       CAST(round(principal * annual_rate / 12, 2) AS DECIMAL(18,2)) AS interest_due
FROM loans, range(1, 13) s(k)`,
		`INSERT INTO repayments BY NAME
SELECT 'T' || substr(loan_id, 2) || '-' || installment_no AS txn_id, loan_id, installment_no,
       CAST(due_date AS TIMESTAMP) + to_days(CASE WHEN hash(loan_id, installment_no, 'miss') % 50 = 0
           THEN CAST(20 + hash(loan_id, installment_no) % 60 AS INTEGER)
           ELSE CAST(hash(loan_id, installment_no) % 7 AS INTEGER) - 4 END) + INTERVAL 10 HOUR AS paid_at,
       principal_due AS principal_paid, interest_due AS interest_paid, CAST(0 AS DECIMAL(18,2)) AS penalty_paid
FROM repayment_schedule
WHERE due_date < DATE '` + benchAsOf + `' - 3
  AND NOT (hash(loan_id, installment_no, 'miss') % 200 = 0 AND due_date >= DATE '` + benchAsOf + `' - 150)`,
		`INSERT INTO bureau_inquiries BY NAME
SELECT borrower_id, CAST(apply_time AS DATE) - CAST(hash(application_id, k) % 200 AS INTEGER) AS query_date,
       ['bank', 'consumer_finance', 'p2p', 'microloan'][CAST(1 + hash(application_id, k, 'it') % 4 AS INTEGER)] AS institution_type,
       ['loan_approval', 'post_loan', 'guarantee'][CAST(1 + hash(application_id, k, 'rs') % 3 AS INTEGER)] AS reason
FROM applications, range(3) s(k)`,
		`INSERT INTO bureau_reports BY NAME
SELECT borrower_id, CAST(apply_time AS DATE) - 1 - CAST(hash(application_id, 'rep') % 60 AS INTEGER) AS report_date,
       CAST(hash(application_id, 'oa') % 8 AS INTEGER) AS open_accounts,
       CAST(hash(application_id, 'to') % 200000 AS DECIMAL(18,2)) AS total_outstanding,
       CAST(hash(application_id, 'od') % 3 AS INTEGER) AS overdue_accounts,
       ['N', '1', '2', '3', '4', '5', '6', '7'][CAST(1 + hash(application_id, 'ws') % 8 AS INTEGER)] AS worst_status_24m,
       CAST(hash(application_id, 'ws') % 8 AS INTEGER) AS worst_overdue_band
FROM applications
QUALIFY row_number() OVER (PARTITION BY borrower_id, report_date) = 1`,
		`INSERT INTO collection_events BY NAME
SELECT s.loan_id, CAST(s.due_date AS TIMESTAMP) + to_days(CAST(5 + 10 * k AS INTEGER)) + INTERVAL 14 HOUR AS event_time,
       ['sms', 'call', 'field', 'legal'][CAST(1 + hash(s.loan_id, s.installment_no, k) % 4 AS INTEGER)] AS channel,
       ['promise_to_pay', 'no_answer', 'wrong_number', 'lost_contact', 'contact_repaired', 'paid'][CAST(1 + hash(s.loan_id, s.installment_no, k, 'o') % 6 AS INTEGER)] AS outcome
FROM repayment_schedule s, range(2) r(k)
WHERE s.due_date < DATE '` + benchAsOf + `' - 3 AND hash(s.loan_id, s.installment_no, 'miss') % 50 = 0`,
	}
	for _, t := range schema.Tables() {
		mustExec(tb, db, schema.LakeDDL(t, t.Name))
	}
	for _, q := range stmts {
		mustExec(tb, db, q)
	}
	for _, t := range schema.Tables() {
		dir := filepath.Join(root, t.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		mustExec(tb, db, fmt.Sprintf("COPY %s TO %s (FORMAT parquet, COMPRESSION zstd)", t.Name, lake.Quote(filepath.Join(dir, "part-0.parquet"))))
	}
}

func benchSet(b *testing.B, set string) {
	n := benchutil.Scale(1_000_000, 20_000)
	root := b.TempDir()
	start := time.Now()
	synthLake(b, root, n)
	b.Logf("synthetic lake of %d applications/loans written in %.1fs", n, time.Since(start).Seconds())
	asOf, _ := time.Parse(time.DateOnly, benchAsOf)
	var log *slog.Logger // QIANDUN_LOG=debug shows the time of each step
	if os.Getenv("QIANDUN_LOG") == "debug" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var rows int64
	b.ResetTimer()
	for b.Loop() {
		snaps, err := Run(context.Background(), lake.New(root), set, []time.Time{asOf}, lake.DBOptions{}, log)
		if err != nil {
			b.Fatal(err)
		}
		rows = snaps[0].Rows
	}
	b.StopTimer()
	b.Logf("%s: %d rows as of %s", set, rows, benchAsOf)
	benchutil.Report(b, int(rows))
}

// BenchmarkACard computes the A-card snapshot for every application of a
// synthetic lake (1,000,000 under make bench; floor: under 60 s).
func BenchmarkACard(b *testing.B) { benchSet(b, SetACard) }

// BenchmarkBCard computes one B-card month-end snapshot for the loans of
// the same synthetic lake, all on book at the as-of date (1,000,000
// under make bench; floor: under 60 s).
func BenchmarkBCard(b *testing.B) { benchSet(b, SetBCard) }
