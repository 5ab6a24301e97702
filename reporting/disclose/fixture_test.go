package disclose

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"qiandun/data/ingest"
	"qiandun/data/ingest/pii"
	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/data/vault"
)

var (
	testKey  = []byte("disclose-test-key-0123456789abcd")
	vaultKey = []byte("disclose-vault-key-0123456789abc")
)

// handLoan is one loan of the hand-made book: 12 monthly installments of
// 100.00 principal and 10.00 interest due on the 10th from the month
// after issue; installments 1..paid paid on their due dates.
type handLoan struct {
	id, issue, status, collateral string
	paid                          int
	extra                         []string // "installment_no,paid_at,principal,interest"
}

// handBook: disclosed months 2024-05 and 2024-06. Each comment says what
// the loan is at the end of June.
var handBook = []handLoan{
	{id: "L01", issue: "2024-01-05", status: "active", paid: 5},                                               // current
	{id: "L02", issue: "2024-06-03", status: "active", extra: []string{"1,2024-06-25 09:00:00,100.00,10.00"}}, // June project, installment 1 prepaid
	{id: "L03", issue: "2024-06-20", status: "active", collateral: "car"},                                     // June project, car 5000.00
	{id: "L04", issue: "2024-01-05", status: "active", paid: 1},                                               // 112 DPD (Mar 10)
	{id: "L05", issue: "2024-01-05", status: "active", paid: 4},                                               // 20 DPD
	{id: "L06", issue: "2023-01-05", status: "written_off"},                                                   // written off 2023-08, compensated
	{id: "L07", issue: "2023-01-05", status: "settled", paid: 12},                                             // settled 2024-01
	{id: "L08", issue: "2024-05-10", status: "active"},                                                        // May project, related party, 20 DPD
}

// The related-party register of the tests.
var related = []string{"BL08"}

var names = []string{"张三丰", "李四", "欧阳娜娜", "王五", "赵六", "钱七", "孙八", "周九"}

// idNumber is a valid ID number of borrower n (born 1990-03-07; odd n male).
func idNumber(n int) string {
	first := fmt.Sprintf("11010119900307%03d", n)
	c, _ := pii.CheckDigit(first)
	return first + string(c)
}

func phone(n int) string { return fmt.Sprintf("139%08d", 1000+n) }

// subAccount is borrower n's custody sub-account number.
func subAccount(n int) string { return fmt.Sprintf("62220200%08d", 7000+n) }

// lender identities (investments carry only their tokens).
func lenderID(n int) string {
	first := fmt.Sprintf("31010119850101%03d", n)
	c, _ := pii.CheckDigit(first)
	return first + string(c)
}

func lenderName(n int) string {
	return []string{"", "陈出借", "林投资", "黄理财", "吴先生", "郑女士", "冯七", "褚八"}[n]
}

func lenderPhone(n int) string { return fmt.Sprintf("137%08d", 2000+n) }

func dueDate(issue string, k int) string {
	t, _ := time.Parse(time.DateOnly, issue)
	return time.Date(t.Year(), t.Month()+time.Month(k), 10, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// writeRaw writes the book's raw exports under raw.
func writeRaw(t *testing.T, raw string) {
	t.Helper()
	files := map[string]*strings.Builder{}
	w := func(name, header string) *strings.Builder {
		if files[name] == nil {
			files[name] = &strings.Builder{}
			files[name].WriteString(header + "\n")
		}
		return files[name]
	}
	for i, l := range handBook {
		n := i + 1
		fmt.Fprintf(w("applications", "application_id,borrower_id,apply_time,product,channel,requested_amount,term_months,id_number,name,phone,gender,education,marital_status,monthly_income,employment_years,city,device_id,ip,decision"),
			"A%s,B%s,%s 09:00:00,cash,app,1200.00,12,%s,%s,%s,male,本科,married,%d.00,3,北京,D%d,10.0.0.%d,approved\n",
			l.id, l.id, l.issue, idNumber(n), names[i], phone(n), 2000*n, n, n)
		coll, value := "none", ""
		if l.collateral != "" {
			coll, value = l.collateral, "5000.00"
		}
		fmt.Fprintf(w("loans", "loan_id,application_id,borrower_id,product,issue_date,principal,annual_rate,term_months,repay_method,purpose,collateral_type,collateral_value,region,status"),
			"%s,A%s,B%s,cash,%s,1200.00,0.100000,12,equal_principal,装修,%s,%s,华北,%s\n", l.id, l.id, l.id, l.issue, coll, value, l.status)
		for k := 1; k <= 12; k++ {
			fmt.Fprintf(w("repayment_schedule", "loan_id,installment_no,due_date,principal_due,interest_due"), "%s,%d,%s,100.00,10.00\n", l.id, k, dueDate(l.issue, k))
		}
		rp := w("repayments", "txn_id,loan_id,installment_no,paid_at,principal_paid,interest_paid,penalty_paid")
		for k := 1; k <= l.paid; k++ {
			fmt.Fprintf(rp, "T%s%02d,%s,%d,%s 08:00:00,100.00,10.00,0.00\n", l.id, k, l.id, k, dueDate(l.issue, k))
		}
		for j, e := range l.extra {
			fmt.Fprintf(rp, "X%s%02d,%s,%s,0.00\n", l.id, j, l.id, e)
		}
	}
	// BL02: two reports in the 6 months before 2024-06-03 (the latest,
	// 03-01, shows an overdue account), one before the window; P2P and
	// microloan approval inquiries in the window, a post-loan one, one
	// after issue and one before the window.
	w("bureau_reports", "borrower_id,report_date,open_accounts,total_outstanding,overdue_accounts,worst_status_24m").WriteString(
		"BL02,2024-01-15,1,500.00,0,N\nBL02,2024-03-01,2,3000.00,1,2\nBL02,2023-11-01,9,9999.00,3,5\nBL01,2023-12-01,1,100.00,0,N\n")
	w("bureau_inquiries", "borrower_id,query_date,institution_type,reason").WriteString(
		"BL02,2024-05-01,p2p,loan_approval\nBL02,2024-05-02,microloan,loan_approval\nBL02,2024-05-03,p2p,post_loan\n" +
			"BL02,2024-06-05,p2p,loan_approval\nBL02,2023-10-01,microloan,loan_approval\nBL02,2024-04-01,bank,loan_approval\n")
	w("collection_events", "loan_id,event_time,channel,outcome").WriteString("L04,2024-06-20 10:00:00,sms,no_answer\n")
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(raw, name+".csv"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// investment: lender n put amount into loan at time.
type investment struct {
	lender       int
	loan, amount string
	at           string
}

var investments = []investment{
	{1, "L01", "600.00", "2024-01-04 10:00:00"}, {2, "L01", "600.00", "2024-01-04 11:00:00"},
	{1, "L02", "400.00", "2024-06-02 10:00:00"}, {3, "L02", "800.00", "2024-06-02 10:30:00"},
	{4, "L03", "1200.00", "2024-06-19 10:00:00"},
	{2, "L04", "1200.00", "2024-01-04 10:00:00"},
	{3, "L05", "1200.00", "2024-01-04 10:00:00"},
	{1, "L06", "1200.00", "2023-01-04 10:00:00"},
	{6, "L07", "1200.00", "2023-01-04 10:00:00"}, // lender 6 holds only a settled loan
	{5, "L08", "1200.00", "2024-05-09 10:00:00"},
	{7, "L01", "100.00", "2024-07-02 10:00:00"}, // after June: not yet a lender at the June end
}

// custody lines: disbursements (borrower in), the lenders' investment
// lines, guarantor compensation of L06 (two lines out of the guarantor,
// one in to the lender) and a compensation in July.
func custodyLines() []string {
	var out []string
	add := func(id, owner, ownerID, at, dir, amount, typ, loan, acct string) {
		out = append(out, fmt.Sprintf("%s,贵州银行,%s,%s,%s,%s,%s,%s,%s,%s,ref-%s,0.00", id, acct, owner, ownerID, at, dir, amount, typ, loan, id))
	}
	for i, l := range handBook {
		add("D"+l.id, "borrower", "B"+l.id, l.issue+" 15:00:00", "in", "1200.00", "disbursement", l.id, subAccount(i+1))
		add("O"+l.id, "borrower", "B"+l.id, l.issue+" 16:00:00", "out", "1200.00", "withdrawal", l.id, subAccount(i+1))
	}
	for j, v := range investments {
		add(fmt.Sprintf("I%02d", j), "lender", fmt.Sprintf("P%d", v.lender), v.at, "out", v.amount, "investment", v.loan, fmt.Sprintf("6222030000%06d", v.lender))
	}
	add("C1", "guarantor", "G1", "2023-09-15 10:00:00", "out", "1200.00", "compensation", "L06", "6222040000000001")
	add("C2", "guarantor", "G1", "2023-09-15 10:05:00", "out", "50.00", "compensation", "L06", "6222040000000001")
	add("C3", "lender", "P1", "2023-09-15 10:00:00", "in", "1250.00", "compensation", "L06", "6222030000000001")
	add("C4", "guarantor", "G1", "2024-07-05 10:00:00", "out", "300.00", "compensation", "L04", "6222040000000001")
	return out
}

// writeCustodyRaw adds the raw investments and custody_transactions
// exports (DESIGN.md's columns, lender identities in clear as the loan
// system exports them: ingest tokenises them).
func writeCustodyRaw(t *testing.T, raw string) {
	t.Helper()
	var inv strings.Builder
	inv.WriteString("investment_id,lender_id,loan_id,invest_time,amount,lender_id_number,lender_name,lender_phone\n")
	for j, v := range investments {
		n := v.lender
		fmt.Fprintf(&inv, "V%02d,P%d,%s,%s,%s,%s,%s,%s\n", j, n, v.loan, v.at, v.amount, lenderID(n), lenderName(n), lenderPhone(n))
	}
	ct := "bank_txn_id,bank,sub_account,owner_type,owner_id,txn_time,direction,amount,txn_type,loan_id,reference,balance_after\n" +
		strings.Join(custodyLines(), "\n") + "\n"
	for name, b := range map[string]string{"investments": inv.String(), "custody_transactions": ct} {
		if err := os.WriteFile(filepath.Join(raw, name+".csv"), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runPerf builds the panel and perf/disclosure as of asOf.
func runPerf(t *testing.T, lk, asOf string) {
	t.Helper()
	cfg := perf.DefaultConfig()
	cfg.AsOf, _ = time.Parse(time.DateOnly, asOf)
	cfg.MemoryLimit, cfg.Threads = "500MB", 2
	if _, err := perf.Run(context.Background(), lake.New(lk), cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("perf: %v", err)
	}
}

// fixture is the hand-made lake with its vault, and perf's disclosure
// table as of the end of May (read before perf is re-run to June's end).
type fixture struct {
	lake    string
	perfMay map[string]string // perf/disclosure as of 2024-05-31: metric -> value
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  string
	fixDir  string // removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

// handLake builds the lake once per test binary: ingest of the raw
// exports, the custody tables, the vault, perf as of 2024-05-31 (its
// disclosure kept) and then as of 2024-06-30.
func handLake(t *testing.T) fixture {
	t.Helper()
	fixOnce.Do(func() {
		fixErr = "the hand-made lake failed to build in an earlier test"
		dir, err := os.MkdirTemp("", "qiandun-disclose-")
		if err != nil {
			t.Fatal(err)
		}
		fixDir = dir
		raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
		os.MkdirAll(raw, 0o755)
		writeRaw(t, raw)
		writeCustodyRaw(t, raw)
		log := slog.New(slog.DiscardHandler)
		if _, err := ingest.Run(context.Background(), ingest.Options{Raw: raw, Lake: lk, MaxRejectRate: 0, Key: testKey, Log: log,
			DB: lake.DBOptions{MemoryLimit: "500MB", Threads: 2}}); err != nil {
			t.Fatalf("ingest: %v", err)
		}
		v, err := vault.Open(lk, vaultKey, log)
		if err != nil {
			t.Fatal(err)
		}
		for i := range handBook {
			for _, s := range []string{idNumber(i + 1), names[i], phone(i + 1)} {
				v.Put(pii.Token(testKey, s), s)
			}
		}
		if err := v.Save(); err != nil {
			t.Fatal(err)
		}
		runPerf(t, lk, "2024-05-31")
		fix = fixture{lake: lk, perfMay: perfDisclosure(t, lk)}
		runPerf(t, lk, "2024-06-30")
		fixErr = ""
	})
	if fixErr != "" {
		t.Fatal(fixErr)
	}
	return fix
}

// perfDisclosure reads perf/disclosure: metric -> value.
func perfDisclosure(t *testing.T, lk string) map[string]string {
	t.Helper()
	ctx := context.Background()
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "200MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT metric, coalesce(CAST(value AS VARCHAR), '') FROM read_parquet("+
		lake.Quote(filepath.Join(lk, "perf", "disclosure", "*.parquet"))+")")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var m, v string
		if err := rows.Scan(&m, &v); err != nil {
			t.Fatal(err)
		}
		out[m] = v
	}
	return out
}

// openVault opens the fixture's vault logging its audit lines to buf.
func openVault(t *testing.T, lk string, buf *bytes.Buffer) *vault.Vault {
	t.Helper()
	v, err := vault.Open(lk, vaultKey, slog.New(slog.NewJSONHandler(buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func opts(t *testing.T, lk, out, month string, audit *bytes.Buffer) Options {
	if audit == nil {
		audit = &bytes.Buffer{}
	}
	return Options{Lake: lk, Out: out, Month: month, Config: Config{RelatedParties: related},
		Identities: openVault(t, lk, audit), MemoryLimit: "500MB", Threads: 2}
}
