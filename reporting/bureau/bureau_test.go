package bureau

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"qiandun/data/ingest"
	"qiandun/data/ingest/pii"
	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/internal/durable"
)

var testKey = []byte("bureau-test-key-0123456789abcdef")

// handLoan is one hand-made loan: 12 monthly installments of 100.00
// principal (no interest) due on the 10th from the month after issue,
// the installments paid on their due dates, and other payments.
type handLoan struct {
	id, issue, status, collateral string
	paidOnTime                    int      // installments 1..n paid on their due dates
	extra                         []string // "installment_no,paid_at,principal" payments
}

// The hand-made book. Reported month 2024-06 (month end 06-30); each
// loan's comment says what it must report.
var handBook = []handLoan{
	{id: "L01", issue: "2024-01-05", status: "active", paidOnTime: 5}, // N: paid to date
	{id: "L02", issue: "2024-06-03", status: "active"},                // *: opened in June, first due in July
	{id: "L03", issue: "2024-01-05", status: "active", paidOnTime: 4}, // 1: June 10 unpaid, 20 days
	{id: "L04", issue: "2024-01-05", status: "active", paidOnTime: 3}, // 2: May 10 unpaid, 51 days
	{id: "L05", issue: "2024-01-05", status: "active", paidOnTime: 2}, // 3: Apr 10, 81 days
	{id: "L06", issue: "2024-01-05", status: "active", paidOnTime: 1}, // 4: Mar 10, 112 days, substandard
	{id: "L07", issue: "2024-01-05", status: "active"},                // 5: Feb 10, 141 days
	{id: "L08", issue: "2023-12-05", status: "active"},                // 6: Jan 10, 172 days
	{id: "L09", issue: "2023-11-05", status: "active"},                // 7: Dec 10, 203 days, doubtful
	{id: "L10", issue: "2023-05-05", status: "active"},                // 7: 2023-06-10, 386 days, loss by DPD
	{id: "L11", issue: "2024-01-05", status: "settled", paidOnTime: 4, // C: the rest paid 06-15
		extra: []string{"5,2024-06-15 10:00:00,100.00", "6,2024-06-15 10:00:00,100.00", "7,2024-06-15 10:00:00,100.00",
			"8,2024-06-15 10:00:00,100.00", "9,2024-06-15 10:00:00,100.00", "10,2024-06-15 10:00:00,100.00",
			"11,2024-06-15 10:00:00,100.00", "12,2024-06-15 10:00:00,100.00"}},
	{id: "L12", issue: "2023-01-05", status: "settled", paidOnTime: 12}, // settled 2024-01: not reported
	{id: "L13", issue: "2023-01-05", status: "written_off"},             // B: written off 2023-08, nothing recovered
	{id: "L14", issue: "2023-01-05", status: "written_off", collateral: "car", // Z: car sold, recovered 06-20
		extra: []string{"1,2024-06-20 10:00:00,1200.00"}},
	{id: "L15", issue: "2023-01-05", status: "written_off", // recovered 2024-03-20: C in March, not reported in June
		extra: []string{"1,2024-03-20 10:00:00,1200.00"}},
}

// want2024_06 is accounts.csv for June, worked out by hand from the
// comments above (DPD = 06-30 minus the oldest unpaid due date; balance =
// 1200 less principal repaid; due in month = the June 10 installment).
const want2024_06 = `loan_id,month,acct_status,rpy_status,overdue_days,overdue_principal,total_overdue,balance,remaining_terms,five_class,paid_in_month,due_in_month,close_date
L01,2024-06,1,N,0,0.00,0.00,700.00,7,1,100.00,100.00,
L02,2024-06,1,*,0,0.00,0.00,1200.00,12,1,0.00,0.00,
L03,2024-06,2,1,20,100.00,100.00,800.00,7,2,0.00,100.00,
L04,2024-06,2,2,51,200.00,200.00,900.00,7,2,0.00,100.00,
L05,2024-06,2,3,81,300.00,300.00,1000.00,7,2,0.00,100.00,
L06,2024-06,2,4,112,400.00,400.00,1100.00,7,3,0.00,100.00,
L07,2024-06,2,5,141,500.00,500.00,1200.00,7,3,0.00,100.00,
L08,2024-06,2,6,172,600.00,600.00,1200.00,6,3,0.00,100.00,
L09,2024-06,2,7,203,700.00,700.00,1200.00,5,4,0.00,100.00,
L10,2024-06,2,7,386,1200.00,1200.00,1200.00,0,5,0.00,0.00,
L11,2024-06,3,C,0,0.00,0.00,0.00,0,1,800.00,100.00,2024-06-15
L13,2024-06,4,B,506,1200.00,1200.00,1200.00,0,5,0.00,0.00,
L14,2024-06,3,Z,0,0.00,0.00,0.00,0,5,1200.00,0.00,2024-06-20
`

// want2024_03: in March L15 is recovered (C, closed), L13 and L14 are
// bad debts (DPD 03-31 minus 2023-02-10 = 415).
var want2024_03 = map[string]string{
	"L13": "L13,2024-03,4,B,415,1200.00,1200.00,1200.00,0,5,0.00,0.00,",
	"L14": "L14,2024-03,4,B,415,1200.00,1200.00,1200.00,0,5,0.00,0.00,",
	"L15": "L15,2024-03,3,C,0,0.00,0.00,0.00,0,5,1200.00,0.00,2024-03-20",
}

func dueDate(issue string, k int) string {
	t, _ := time.Parse(time.DateOnly, issue)
	return time.Date(t.Year(), t.Month()+time.Month(k), 10, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// idNumber returns a valid 18-character ID number for borrower n.
func idNumber(n int) string {
	first := fmt.Sprintf("1101011990030%04d", n)
	c, _ := pii.CheckDigit(first)
	return first + string(c)
}

func phone(n int) string { return fmt.Sprintf("138%08d", n) }

// writeBook writes the raw exports of loans under raw.
func writeBook(t *testing.T, raw string, loans []handLoan) {
	t.Helper()
	files := map[string]*strings.Builder{}
	w := func(name, header string) *strings.Builder {
		if files[name] == nil {
			files[name] = &strings.Builder{}
			files[name].WriteString(header + "\n")
		}
		return files[name]
	}
	for i, l := range loans {
		n := i + 1
		fmt.Fprintf(w("applications", "application_id,borrower_id,apply_time,product,channel,requested_amount,term_months,id_number,name,phone,gender,education,marital_status,monthly_income,employment_years,city,device_id,ip,decision"),
			"A%s,B%s,%s 09:00:00,cash,app,1200.00,12,%s,借款人%d,%s,male,本科,married,8000.00,3,北京,D%d,10.0.0.%d,approved\n",
			l.id, l.id, l.issue, idNumber(n), n, phone(n), n, n)
		coll, value := "none", ""
		if l.collateral != "" {
			coll, value = l.collateral, "5000.00"
		}
		fmt.Fprintf(w("loans", "loan_id,application_id,borrower_id,product,issue_date,principal,annual_rate,term_months,repay_method,purpose,collateral_type,collateral_value,region,status"),
			"%s,A%s,B%s,cash,%s,1200.00,0,12,equal_principal,消费,%s,%s,华北,%s\n", l.id, l.id, l.id, l.issue, coll, value, l.status)
		for k := 1; k <= 12; k++ {
			fmt.Fprintf(w("repayment_schedule", "loan_id,installment_no,due_date,principal_due,interest_due"), "%s,%d,%s,100.00,0.00\n", l.id, k, dueDate(l.issue, k))
		}
		rp := w("repayments", "txn_id,loan_id,installment_no,paid_at,principal_paid,interest_paid,penalty_paid")
		for k := 1; k <= l.paidOnTime; k++ {
			fmt.Fprintf(rp, "T%s%02d,%s,%d,%s 08:00:00,100.00,0.00,0.00\n", l.id, k, l.id, k, dueDate(l.issue, k))
		}
		for j, e := range l.extra {
			fmt.Fprintf(rp, "X%s%02d,%s,%s,0.00,0.00\n", l.id, j, l.id, e)
		}
	}
	w("bureau_inquiries", "borrower_id,query_date,institution_type,reason").WriteString("BL01,2023-12-01,bank,loan_approval\n")
	w("bureau_reports", "borrower_id,report_date,open_accounts,total_outstanding,overdue_accounts,worst_status_24m").WriteString("BL01,2023-12-01,1,100.00,0,N\n")
	w("collection_events", "loan_id,event_time,channel,outcome").WriteString("L03,2024-06-20 10:00:00,sms,no_answer\n")
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(raw, name+".csv"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// buildLake ingests raw into lk and builds the panel as of asOf.
func buildLake(t *testing.T, raw, lk, asOf string) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	_, err := ingest.Run(ctx, ingest.Options{Raw: raw, Lake: lk, MaxRejectRate: 0, Key: testKey, Log: log,
		DB: lake.DBOptions{MemoryLimit: "500MB", Threads: 2}})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	cfg := perf.DefaultConfig()
	cfg.AsOf, _ = time.Parse(time.DateOnly, asOf)
	cfg.MemoryLimit, cfg.Threads = "500MB", 2
	if _, err := perf.Run(ctx, lake.New(lk), cfg, log); err != nil {
		t.Fatalf("perf: %v", err)
	}
}

// fakeVault reveals the hand-made book's identities by their tokens.
type fakeVault map[string]string

func (f fakeVault) Reveal(_ context.Context, toks []string) (map[string]string, error) {
	out := map[string]string{}
	for _, t := range toks {
		v, ok := f[t]
		if !ok {
			return nil, fmt.Errorf("token %.8s… not in the vault", t)
		}
		out[t] = v
	}
	return out, nil
}

func (fakeVault) Clear() bool { return true }

func vaultOf(loans []handLoan) fakeVault {
	f := fakeVault{}
	for i := range loans {
		n := i + 1
		for _, v := range []string{idNumber(n), fmt.Sprintf("借款人%d", n), phone(n)} {
			f[pii.Token(testKey, v)] = v
		}
	}
	return f
}

// handLake is the hand-made book's lake, as of 2024-06-30.
func handLake(t *testing.T) string {
	t.Helper()
	raw, lk := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	writeBook(t, raw, handBook)
	buildLake(t, raw, lk, "2024-06-30")
	return lk
}

// readMonth reads the whole month as one range.
func readMonth(ctx context.Context, o Options) ([]Account, []Term, []string, error) {
	mo, err := openMonth(ctx, o)
	if err != nil {
		return nil, nil, nil, err
	}
	defer mo.Close()
	var c chunk
	err = mo.read(ctx, span{}, &c)
	return c.accts, c.terms, c.open, err
}

// publishMonth publishes the accounts as one range.
func publishMonth(ctx context.Context, o Options, accts []Account, terms []Term, withheld []Failure) (*Manifest, string, error) {
	p, err := startPublication(o)
	if err != nil {
		return nil, "", err
	}
	defer p.close()
	if err := p.write(accts, terms); err != nil {
		return nil, "", err
	}
	return p.finish(ctx, withheld)
}

func testOpts(lk, out, month, format string) Options {
	return Options{Lake: lk, Out: out, Month: month, Format: format, Config: DefaultConfig(),
		Identities: vaultOf(handBook), MemoryLimit: "500MB"}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonLines(t *testing.T, p string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, p)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, m)
	}
	return out
}

// TestHandBook reports June 2024 of the hand-made book in both formats:
// every RpyStatus the lender's data can produce (N, 1-7, *, C, Z, B),
// AcctStatus 1-4 and five-level classes 1-5, against values worked out by
// hand; the settled-before and recovered-before loans are absent; the PBOC
// and Baihang records carry the clear identities and the right counts;
// files are 0600 and the manifest's hashes match.
func TestHandBook(t *testing.T) {
	lk := handLake(t)
	out := t.TempDir()
	ctx := context.Background()
	m, dir, err := Run(ctx, testOpts(lk, out, "2024-06", FormatPBOC))
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "accounts.csv")); got != want2024_06 {
		t.Errorf("accounts.csv:\n%s\nwant:\n%s", got, want2024_06)
	}
	recs := jsonLines(t, filepath.Join(dir, "pboc_210.jsonl"))
	if len(recs) != 13 || m.Records["210"] != 13 || m.Accounts != 13 {
		t.Fatalf("%d PBOC records, manifest %+v", len(recs), m)
	}
	for _, r := range recs {
		bs := r["BsSgmt"].(map[string]any)
		code := strings.TrimPrefix(bs["AcctCode"].(string), DefaultConfig().OrgCode)
		n := int(code[1]-'0')*10 + int(code[2]-'0')
		if bs["InfRecType"] != "210" || bs["IDNum"] != idNumber(n) || bs["Name"] != fmt.Sprintf("借款人%d", n) || bs["RptDate"] != "2024-06-30" {
			t.Errorf("%s base segment %v", code, bs)
		}
		_, basic := r["AcctBsInfSgmt"]
		if basic != (code == "L02") {
			t.Errorf("%s: basic-info segment %v, want only for the account opened in June", code, basic)
		}
		if code == "L02" {
			b := r["AcctBsInfSgmt"].(map[string]any)
			if b["OpenDate"] != "2024-06-03" || b["LoanAmt"] != "1200.00" || b["DueDate"] != "2025-06-10" || b["RepayPrd"] != 12.0 || b["GuarMode"] != "4" {
				t.Errorf("L02 basic info %v", b)
			}
		}
		if code == "L06" {
			mo := r["AcctMthlyBlgInfSgmt"].(map[string]any)
			// March..June unpaid: 112, 81, 51, 20 days: 91-180 one, 61-90 one, 31-60 one.
			if mo["Oved91_180Princ"] != "100.00" || mo["Oved61_90Princ"] != "100.00" || mo["Oved31_60Princ"] != "100.00" || mo["OverdPrd"] != 4.0 {
				t.Errorf("L06 monthly %v", mo)
			}
		}
	}
	for _, f := range m.Files {
		p := filepath.Join(dir, f.Name)
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v", f.Name, st.Mode().Perm(), err)
		}
		sum, _ := durable.SHA256(p)
		if sum != f.SHA256 {
			t.Errorf("%s: sha256 %s, manifest %s", f.Name, sum, f.SHA256)
		}
	}

	// Baihang: a loan record for L02 only; a repayment record per term due
	// or paid in June: one each for L01, L03-L09 and L14, eight for L11.
	bm, bdir, err := Run(ctx, testOpts(lk, out, "2024-06", FormatBaihang))
	if err != nil {
		t.Fatal(err)
	}
	if readFile(t, filepath.Join(bdir, "accounts.csv")) != want2024_06 {
		t.Error("baihang accounts.csv differs from pboc's")
	}
	loans := jsonLines(t, filepath.Join(bdir, "baihang_loans.jsonl"))
	if len(loans) != 1 || loans[0]["loanId"] != "L02" || loans[0]["opCode"] != "A" || loans[0]["pid"] != idNumber(2) ||
		loans[0]["mobile"] != phone(2) || loans[0]["firstRepaymentDate"] != "2024-07-10" {
		t.Errorf("baihang loan records %v", loans)
	}
	reps := jsonLines(t, filepath.Join(bdir, "baihang_repayments.jsonl"))
	per := map[string]int{}
	for _, r := range reps {
		per[r["loanId"].(string)]++
		if r["loanId"] == "L03" && (r["termStatus"] != "overdue" || r["overdueStatus"] != "1" || r["loanStatus"] != 2.0 || r["remainingAmount"] != "800.00") {
			t.Errorf("L03 repayment record %v", r)
		}
		if r["loanId"] == "L01" && (r["termStatus"] != "normal" || r["realRepaymentDate"] != "2024-06-10" || r["realRepayment"] != "100.00") {
			t.Errorf("L01 repayment record %v", r)
		}
	}
	want := map[string]int{"L01": 1, "L03": 1, "L04": 1, "L05": 1, "L06": 1, "L07": 1, "L08": 1, "L09": 1, "L11": 8, "L14": 1}
	if fmt.Sprint(per) != fmt.Sprint(want) || bm.Records["repayment_A"] != 17 || bm.Records["loan_A"] != 1 {
		t.Errorf("repayment records per loan %v, want %v; manifest %v", per, want, bm.Records)
	}
}

// TestRecoveredAndWrittenOffMonths: in March 2024 the loan recovered that
// month is reported closed (C) and the written-off ones as bad debts; in
// June the March recovery is gone (checked by TestHandBook's full file).
func TestRecoveredAndWrittenOffMonths(t *testing.T) {
	lk := handLake(t)
	_, dir, err := Run(context.Background(), testOpts(lk, t.TempDir(), "2024-03", FormatPBOC))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "accounts.csv"))), "\n")[1:] {
		rows[l[:3]] = l
	}
	for id, w := range want2024_03 {
		if rows[id] != w {
			t.Errorf("%s: %q, want %q", id, rows[id], w)
		}
	}
	if _, ok := rows["L02"]; ok {
		t.Error("L02 (issued in June) reported in March")
	}
}

// TestValidationRules breaks each rule in turn on June's accounts and
// checks Validate names the account and the rule; the accounts as read
// pass.
func TestValidationRules(t *testing.T) {
	lk := handLake(t)
	o := testOpts(lk, t.TempDir(), "2024-06", FormatPBOC)
	accts, _, open, err := readMonth(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := reveal(context.Background(), o.Identities, accts); err != nil {
		t.Fatal(err)
	}
	if f := Validate(accts, open, true); len(f) != 0 {
		t.Fatalf("clean month fails: %v", f)
	}
	at := func(as []Account, id string) *Account {
		for i := range as {
			if as[i].LoanID == id {
				return &as[i]
			}
		}
		t.Fatalf("no account %s", id)
		return nil
	}
	for _, tc := range []struct {
		name, loan, rule string
		breakIt          func([]Account) []Account
	}{
		{"status disagrees with the panel", "L03", RuleStatusDPD, func(a []Account) []Account { at(a, "L03").RpyStatus = "N"; return a }},
		{"overdue days disagree with the panel", "L05", RuleStatusDPD, func(a []Account) []Account { at(a, "L05").OverdueDays = 80; return a }},
		{"balance not principal less repaid", "L01", RuleBalance, func(a []Account) []Account { at(a, "L01").Balance += 1; return a }},
		{"overdue principal above balance", "L04", RuleOverdueLEBalance, func(a []Account) []Account {
			x := at(a, "L04")
			x.OverduePrincipal = x.Balance + 1
			return a
		}},
		{"overdue age bands above the overdue principal", "L06", RuleOverdueLEBalance, func(a []Account) []Account {
			at(a, "L06").Overdue31to60 += 400_00
			return a
		}},
		{"settled without close date", "L11", RuleSettled, func(a []Account) []Account { at(a, "L11").CloseDate = ""; return a }},
		{"settled with a balance", "L14", RuleSettled, func(a []Account) []Account {
			x := at(a, "L14")
			x.Balance, x.PrincipalRepaid = 100, x.Principal-100
			return a
		}},
		{"open account missing", "L13", RuleOpenOnce, func(a []Account) []Account {
			var out []Account
			for _, x := range a {
				if x.LoanID != "L13" {
					out = append(out, x)
				}
			}
			return out
		}},
		{"account twice", "L07", RuleOpenOnce, func(a []Account) []Account { return append(a, *at(a, "L07")) }},
		{"empty name", "L08", RuleIdentity, func(a []Account) []Account { at(a, "L08").Identity.Name = ""; return a }},
		{"bad ID check digit", "L09", RuleIdentity, func(a []Account) []Account {
			x := at(a, "L09")
			id := []byte(x.Identity.IDNumber)
			id[17] = "10X98765432"[(strings.IndexByte("10X98765432", id[17])+1)%11]
			x.Identity.IDNumber = string(id)
			return a
		}},
		{"bad phone", "L10", RuleIdentity, func(a []Account) []Account { at(a, "L10").Identity.Phone = "12345"; return a }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := tc.breakIt(append([]Account(nil), accts...))
			f := Validate(as, open, true)
			if len(f) != 1 || f[0].LoanID != tc.loan || f[0].Rule != tc.rule {
				t.Fatalf("failures %v, want one %s on %s", f, tc.rule, tc.loan)
			}
			if strings.Contains(f[0].Detail, at(accts, tc.loan).Identity.IDNumber) {
				t.Errorf("failure quotes the ID number: %s", f[0].Detail)
			}
		})
	}
	// Tokens in place of identities (--identities none) pass the presence
	// check but would fail the real one.
	if err := reveal(context.Background(), Tokens{}, accts); err != nil {
		t.Fatal(err)
	}
	if f := Validate(accts, open, false); len(f) != 0 {
		t.Errorf("tokens, unchecked: %v", f)
	}
	if f := Validate(accts, open, true); len(f) != len(accts) {
		t.Errorf("tokens checked as identities: %d failures, want %d", len(f), len(accts))
	}
}

// TestValidationStopsRun: a borrower whose ID number fails its check
// digit stops the run, naming the account and rule, and nothing is
// written.
func TestValidationStopsRun(t *testing.T) {
	lk := handLake(t)
	out := t.TempDir()
	o := testOpts(lk, out, "2024-06", FormatPBOC)
	v := vaultOf(handBook)
	bad := idNumber(4)
	v[pii.Token(testKey, bad)] = bad[:17] + "Y"
	o.Identities = v
	_, _, err := Run(context.Background(), o)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Failures) != 1 || ve.Failures[0].LoanID != "L04" || ve.Failures[0].Rule != RuleIdentity {
		t.Fatalf("err %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(out, "pboc")); len(ents) != 0 {
		t.Errorf("files written despite the failure: %v", ents)
	}
}

// TestValidationWithholds: below MaxWithheld, the failing account is
// withheld (in withheld.csv with its rule, absent from every submitted
// file) and the others are sent; Strict refuses the month instead.
func TestValidationWithholds(t *testing.T) {
	lk := handLake(t)
	v := vaultOf(handBook)
	bad := idNumber(4)
	v[pii.Token(testKey, bad)] = bad[:17] + "Y"
	strict := testOpts(lk, t.TempDir(), "2024-06", FormatPBOC)
	strict.Identities, strict.MaxWithheld, strict.Strict = v, 0.5, true
	var ve *ValidationError
	if _, _, err := Run(context.Background(), strict); !errors.As(err, &ve) {
		t.Fatalf("strict: err %v, want the validation error", err)
	}
	out := t.TempDir()
	o := testOpts(lk, out, "2024-06", FormatPBOC)
	o.Identities, o.MaxWithheld = v, 0.5
	m, dir, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if m.Withheld != 1 {
		t.Errorf("manifest withheld %d, want 1", m.Withheld)
	}
	wh := readFile(t, filepath.Join(dir, "withheld.csv"))
	if !strings.Contains(wh, "L04,"+RuleIdentity) || strings.Count(wh, "\n") != 2 {
		t.Errorf("withheld.csv:\n%s", wh)
	}
	for _, f := range []string{"accounts.csv", "pboc_210.jsonl"} {
		if body := readFile(t, filepath.Join(dir, f)); strings.Contains(body, "L04") {
			t.Errorf("%s carries the withheld account L04", f)
		}
	}
}

// TestCorrections: a month reported, then a late-booked payment changes
// one account: the run without --correct is refused, with it a second
// submission holds a 212 record for that account only, and the first
// submission is kept; a re-run of the unchanged month writes nothing; an
// account dropped from the month becomes a 213 deletion (Baihang D).
func TestCorrections(t *testing.T) {
	raw, lk := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	writeBook(t, raw, handBook)
	buildLake(t, raw, lk, "2024-06-30")
	out := t.TempDir()
	ctx := context.Background()
	o := testOpts(lk, out, "2024-06", FormatPBOC)
	if _, _, err := Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	first := readFile(t, filepath.Join(out, "pboc", "2024-06", "001", "pboc_210.jsonl"))
	// Unchanged: nothing new.
	if m, _, err := Run(ctx, o); err != nil || m.Submission != "001" {
		t.Fatalf("unchanged re-run: %v %+v", err, m)
	}
	// L03 paid its June installment on 06-25, booked late.
	late := "txn_id,loan_id,installment_no,paid_at,principal_paid,interest_paid,penalty_paid\nLATE1,L03,5,2024-06-25 09:00:00,100.00,0.00,0.00\n"
	if err := os.WriteFile(filepath.Join(raw, "repayments-late.csv"), []byte(late), 0o644); err != nil {
		t.Fatal(err)
	}
	buildLake(t, raw, lk, "2024-06-30")
	if _, _, err := Run(ctx, o); !errors.Is(err, ErrAlreadyReported) || !strings.Contains(err.Error(), "--correct") {
		t.Fatalf("without --correct: %v", err)
	}
	o.Correct = true
	m, dir, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if m.Submission != "002" || m.Kind != "correction" || m.Corrects != "001" || *m.Changes != (Changes{Changed: 1}) {
		t.Fatalf("correction manifest %+v %+v", m, m.Changes)
	}
	recs := jsonLines(t, filepath.Join(dir, "pboc_212.jsonl"))
	mo := recs[0]["AcctMthlyBlgInfSgmt"].(map[string]any)
	if len(recs) != 1 || recs[0]["BsSgmt"].(map[string]any)["AcctCode"] != DefaultConfig().OrgCode+"L03" ||
		mo["RpyStatus"] != "N" || mo["AcctBal"] != "700.00" || mo["ActRpyAmt"] != "100.00" {
		t.Fatalf("212 records %v", recs)
	}
	if got := readFile(t, filepath.Join(out, "pboc", "2024-06", "001", "pboc_210.jsonl")); got != first {
		t.Error("the first submission changed")
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "accounts.csv")), "L03,2024-06,1,N,0,0.00,0.00,700.00,7,1,100.00,100.00,\n") {
		t.Error("correction's accounts.csv does not hold L03's corrected row")
	}

	// A dropped account: the diff against the latest submission deletes it.
	for _, format := range []string{FormatPBOC, FormatBaihang} {
		o := testOpts(lk, t.TempDir(), "2024-06", format)
		accts, terms, _, err := readMonth(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		reveal(ctx, o.Identities, accts)
		if _, _, err := publishMonth(ctx, o, accts, terms, nil); err != nil {
			t.Fatal(err)
		}
		o.Correct = true
		m, dir, err := publishMonth(ctx, o, accts[:len(accts)-1], terms, nil)
		if err != nil {
			t.Fatal(err)
		}
		name, kind := "pboc_213.jsonl", "213"
		if format == FormatBaihang {
			name, kind = "baihang_loans.jsonl", "loan_D"
		}
		recs := jsonLines(t, filepath.Join(dir, name))
		id, _ := recs[0]["AcctCode"].(string)
		if format == FormatBaihang {
			id, _ = recs[0]["loanId"].(string)
		}
		if *m.Changes != (Changes{Deleted: 1}) || m.Records[kind] != 1 || len(recs) != 1 || !strings.HasSuffix(id, "L14") {
			t.Errorf("%s deletion: %+v %v", format, m.Changes, recs)
		}
	}
}

// TestConfig: the five-level bounds come from the config and move the
// classes; bad bounds are refused.
func TestConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("five_class: {special_mention: 1, substandard: 31, doubtful: 61, loss: 91}\norg_code: X1\n"), 0o644)
	c, err := LoadConfig(p)
	if err != nil || c.FiveClass.Substandard != 31 || c.OrgCode != "X1" {
		t.Fatalf("%+v %v", c, err)
	}
	lk := handLake(t)
	o := testOpts(lk, t.TempDir(), "2024-06", FormatPBOC)
	o.Config = c
	_, dir, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	got := readFile(t, filepath.Join(dir, "accounts.csv"))
	// L04 51 days: substandard from 31; L05 81: doubtful from 61; L06 112: loss from 91.
	for _, w := range []string{"L03,2024-06,2,1,20,100.00,100.00,800.00,7,2,", "L04,2024-06,2,2,51,200.00,200.00,900.00,7,3,",
		"L05,2024-06,2,3,81,300.00,300.00,1000.00,7,4,", "L06,2024-06,2,4,112,400.00,400.00,1100.00,7,5,"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %s in\n%s", w, got)
		}
	}
	os.WriteFile(p, []byte("five_class: {special_mention: 1, substandard: 91, doubtful: 90, loss: 361}\n"), 0o644)
	if _, err := LoadConfig(p); err == nil {
		t.Error("decreasing bounds accepted")
	}
	os.WriteFile(p, []byte("five_clas: {}\n"), 0o644)
	if _, err := LoadConfig(p); err == nil {
		t.Error("unknown key accepted")
	}
}

// TestWithholdReason: a refused month says why — strict mode, an open
// account missing (which withholding cannot mend; its failure listed
// first), or more failing accounts than MaxWithheld — and below the
// share the failing accounts are withheld and the others kept.
func TestWithholdReason(t *testing.T) {
	accts := make([]Account, 200)
	for i := range accts {
		accts[i].LoanID = fmt.Sprintf("L%03d", i)
	}
	id := func(n int) []Failure {
		var f []Failure
		for i := range n {
			f = append(f, Failure{LoanID: accts[i].LoanID, Rule: RuleIdentity, Detail: "check digit"})
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		o      Options
		fails  []Failure
		reason string // "" : withheld, not refused
	}{
		{"below the share", Options{MaxWithheld: 0.02}, id(4), ""},
		{"default share 1%", Options{}, id(2), ""},
		{"above the share", Options{MaxWithheld: 0.02}, id(5), "5 of 200 accounts fail (2.50%), more than max_withheld 2.00%"},
		{"strict", Options{Strict: true, MaxWithheld: 0.5}, id(1), "strict"},
		{"open account missing", Options{MaxWithheld: 0.5}, append(id(3), Failure{LoanID: "L150", Rule: RuleOpenOnce, Detail: "open at the month end but not reported"}),
			"1 failures of " + RuleOpenOnce},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := withhold(tc.o, len(accts), tc.fails)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("err %v, want the reason %q", err, tc.reason)
			}
			if strings.Contains(tc.reason, RuleOpenOnce) && ve.Failures[0].Rule != RuleOpenOnce {
				t.Errorf("the unmendable failure is not listed first: %v", ve.Failures[0])
			}
		})
	}
}

// TestWrittenOffScheduleQuarantined: a loan exported as written off
// whose unpaid installments ingest quarantined looks paid off to the
// panel, which closes it settled and written off in the same month (the
// 1M-loan book had one). It is still open — written off with principal
// unpaid — so it is reported as a bad debt with its balance, as the
// completeness check expects, instead of missing (which refused the
// month: open account not reported).
func TestWrittenOffScheduleQuarantined(t *testing.T) {
	raw, lk := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	book := slices.Clone(handBook)
	for i := range book {
		if book[i].id == "L13" {
			book[i].paidOnTime = 6
		}
	}
	writeBook(t, raw, book)
	sched := filepath.Join(raw, "repayment_schedule.csv")
	var kept []string
	for _, l := range strings.SplitAfter(readFile(t, sched), "\n") {
		var no int
		if _, err := fmt.Sscanf(l, "L13,%d,", &no); err == nil && no > 6 {
			continue // quarantined
		}
		kept = append(kept, l)
	}
	if err := os.WriteFile(sched, []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	buildLake(t, raw, lk, "2024-06-30")
	o := testOpts(lk, t.TempDir(), "2024-06", FormatPBOC)
	o.Strict = true
	_, dir, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var l13 string
	for _, l := range strings.Split(readFile(t, filepath.Join(dir, "accounts.csv")), "\n") {
		if strings.HasPrefix(l, "L13,") {
			l13 = l
		}
	}
	// written off (4, B), 600.00 of the 1,200.00 principal unpaid, loss
	if f := strings.Split(l13, ","); len(f) < 10 || f[2] != "4" || f[3] != "B" || f[7] != "600.00" || f[9] != "5" {
		t.Errorf("L13: %q, want written off (4, B) with balance 600.00, class 5", l13)
	}
}

// TestValidationByRange: the failures gathered range by range come in the
// order Validate gives for the whole month (the accounts reported twice
// and the open ones missing in different ranges), and each range keeps
// the accounts that pass.
func TestValidationByRange(t *testing.T) {
	var accts []Account
	for i := range 20 {
		a := Account{LoanID: fmt.Sprintf("L%02d", i), Identity: Identity{Name: "n", IDNumber: "i", Phone: "p"}}
		switch i {
		case 5:
			a.Balance = 1
		case 15:
			a.Identity.Name = ""
		}
		accts = append(accts, a)
		if i == 3 || i == 12 {
			accts = append(accts, a) // reported twice
		}
	}
	var open []string
	for _, a := range accts {
		open = append(open, a.LoanID)
		if a.LoanID == "L07" || a.LoanID == "L16" {
			open = append(open, a.LoanID+"a") // open, not reported
		}
	}
	open = slices.Compact(open)
	want := Validate(accts, open, false)
	if len(want) != 6 {
		t.Fatalf("the whole month: %d failures, want 6: %v", len(want), want)
	}
	var v validation
	var kept []string
	for _, s := range []span{{hi: "L06"}, {lo: "L06", hi: "L13"}, {lo: "L13"}} {
		in := func(id string) bool { return id >= s.lo && (s.hi == "" || id < s.hi) }
		var as []Account
		for _, a := range accts {
			if in(a.LoanID) {
				as = append(as, a)
			}
		}
		var op []string
		for _, id := range open {
			if in(id) {
				op = append(op, id)
			}
		}
		for _, a := range v.check(as, op, false) {
			kept = append(kept, a.LoanID)
		}
	}
	if got := v.failures(); !slices.Equal(got, want) {
		t.Errorf("by range:\n%v\nwant:\n%v", got, want)
	}
	if v.accounts != len(accts) || len(kept) != 16 || slices.ContainsFunc(kept, func(id string) bool {
		return id == "L03" || id == "L05" || id == "L12" || id == "L15"
	}) {
		t.Errorf("%d accounts, kept %v", v.accounts, kept)
	}
}

// TestRangesSameFiles: the month computed a few loans at a time, and
// read, validated and written a few accounts at a time, gives the same
// files, manifests and errors as in one range, in both formats: an original withholding two accounts in
// different ranges, a correction adding them and changing accounts of
// every range, one deleting them again, an unchanged re-run and a month
// refused.
func TestRangesSameFiles(t *testing.T) {
	lk := handLake(t)
	ctx := context.Background()
	bad := vaultOf(handBook) // L04 and L10 fail their ID check digit
	for _, n := range []int{4, 10} {
		id := idNumber(n)
		bad[pii.Token(testKey, id)] = id[:17] + "Y"
	}
	moved := DefaultConfig()
	moved.FiveClass = FiveClass{SpecialMention: 1, Substandard: 31, Doubtful: 61, Loss: 91}
	steps := []struct {
		ids            IdentitySource
		config         Config
		correct, stric bool
	}{
		{ids: bad, config: DefaultConfig()},
		{ids: vaultOf(handBook), config: moved, correct: true},
		{ids: bad, config: DefaultConfig(), correct: true},
		{ids: bad, config: DefaultConfig(), correct: true},
		{ids: bad, config: moved, stric: true},
	}
	run := func(format string, size, part int) (map[string]string, []string) {
		out := t.TempDir()
		var results []string
		for _, st := range steps {
			o := testOpts(lk, out, "2024-06", format)
			o.Identities, o.Config, o.Correct, o.Strict, o.MaxWithheld, o.chunk, o.part = st.ids, st.config, st.correct, st.stric, 0.5, size, part
			m, dir, err := Run(ctx, o)
			mj, _ := json.Marshal(m)
			rel, _ := filepath.Rel(out, dir)
			results = append(results, fmt.Sprintf("%s %s %v", mj, rel, err))
		}
		return tree(t, out), results
	}
	for _, format := range []string{FormatPBOC, FormatBaihang} {
		wantFiles, want := run(format, 0, 0)
		for i, w := range []string{`"withheld":2`, `"Added":2,"Changed":5,"Deleted":0`, `"Added":0,"Changed":5,"Deleted":2`, `"submission":"003"`, "strict"} {
			if !strings.Contains(want[i], w) {
				t.Fatalf("%s step %d: %s, want %s", format, i+1, want[i], w)
			}
		}
		for _, r := range []struct{ size, part int }{{1, 0}, {7, 0}, {0, 1}, {0, 4}, {7, 3}} {
			files, got := run(format, r.size, r.part)
			at := fmt.Sprintf("%d accounts at a time, month.sql on %d loans at a time", r.size, r.part)
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("%s, %s, step %d:\n%s\nwant:\n%s", format, at, i+1, got[i], want[i])
				}
			}
			for name, b := range wantFiles {
				if files[name] != b {
					t.Errorf("%s, %s: %s differs:\n%s\nwant:\n%s", format, at, name, files[name], b)
				}
			}
			if len(files) != len(wantFiles) {
				t.Errorf("%s, %s: %d files, want %d", format, at, len(files), len(wantFiles))
			}
		}
	}
}

// tree returns the files under dir by path, and its symbolic links as
// "-> target".
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			to, err := os.Readlink(p)
			out[rel] = "-> " + to
			return err
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
