package reconcile

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"qiandun/data/lake"
	"qiandun/data/schema"
)

// A hand-made book: borrower B1's loan L1 (1,000.00 issued 2022-03-10)
// funded by lenders P1 (600.00) and P2 (400.00), repaid 90.00 on
// 2022-04-10 (T1) and 2022-05-10 (T2), each repayment distributed 54.00
// and 36.00; the custody moves from 贵州银行 to 新网银行 on 2022-05-01.
// Each case changes it and says which breaks reconcile must find.

// stLine is a statement line; its balance_after is computed along its
// sub-account's chain unless fixed.
type stLine struct {
	id, bank, acct, otype, owner, time, dir, typ, loan, ref string
	amount                                                  int64 // fen
	fixed                                                   *int64
	bal                                                     int64
}

const (
	gz = "贵州银行"
	xw = "新网银行"
)

func baseLines() []stLine {
	var ls []stLine
	n := 0
	add := func(bank, otype, owner, tm, dir, typ, loan, ref string, amount int64) {
		n++
		code, acct := "GZ", "8101"
		if bank == xw {
			code, acct = "XW", "6236"
		}
		ls = append(ls, stLine{id: fmt.Sprintf("%s%04d", code, n), bank: bank, acct: acct + owner, otype: otype, owner: owner,
			time: tm, dir: dir, typ: typ, loan: loan, ref: ref, amount: amount})
	}
	add(gz, "lender", "P1", "2022-03-09 09:00:00", "in", "recharge", "", "", 60000)
	add(gz, "lender", "P1", "2022-03-09 10:00:00", "out", "investment", "L1", "I1", 60000)
	add(gz, "lender", "P2", "2022-03-09 09:30:00", "in", "recharge", "", "", 40000)
	add(gz, "lender", "P2", "2022-03-09 11:00:00", "out", "investment", "L1", "I2", 40000)
	add(gz, "borrower", "B1", "2022-03-10 10:00:00", "in", "disbursement", "L1", "L1", 100000)
	add(gz, "borrower", "B1", "2022-03-10 11:00:00", "out", "withdrawal", "", "", 100000)
	add(gz, "borrower", "B1", "2022-04-10 09:00:00", "in", "repayment", "L1", "T1", 9000)
	add(gz, "borrower", "B1", "2022-04-10 09:00:01", "out", "repayment", "L1", "", 9000)
	add(gz, "lender", "P1", "2022-04-10 09:00:01", "in", "repayment", "L1", "", 5400)
	add(gz, "lender", "P2", "2022-04-10 09:00:01", "in", "repayment", "L1", "", 3600)
	for _, o := range []struct {
		otype, owner string
		amt          int64
	}{{"lender", "P1", 5400}, {"lender", "P2", 3600}, {"borrower", "B1", 0}} {
		add(gz, o.otype, o.owner, "2022-05-01 00:00:00", "out", "migration_out", "", "", o.amt)
		add(xw, o.otype, o.owner, "2022-05-01 00:00:00", "in", "migration_in", "", "", o.amt)
	}
	add(xw, "borrower", "B1", "2022-05-10 09:00:00", "in", "repayment", "L1", "T2", 9000)
	add(xw, "borrower", "B1", "2022-05-10 09:00:01", "out", "repayment", "L1", "", 9000)
	add(xw, "lender", "P1", "2022-05-10 09:00:01", "in", "repayment", "L1", "", 5400)
	add(xw, "lender", "P2", "2022-05-10 09:00:01", "in", "repayment", "L1", "", 3600)
	return ls
}

// find returns the index of the line with id.
func find(ls []stLine, id string) int {
	i := slices.IndexFunc(ls, func(l stLine) bool { return l.id == id })
	if i < 0 {
		panic("no line " + id)
	}
	return i
}

func without(ls []stLine, ids ...string) []stLine {
	return slices.DeleteFunc(ls, func(l stLine) bool { return slices.Contains(ids, l.id) })
}

// balances fills balance_after along each sub-account's chain.
func balances(ls []stLine) {
	idx := make([]int, len(ls))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := ls[idx[a]], ls[idx[b]]
		if x.time != y.time {
			return x.time < y.time
		}
		return x.id < y.id
	})
	bal := map[string]int64{}
	for _, i := range idx {
		l := &ls[i]
		k := l.bank + l.acct
		if l.dir == "in" {
			bal[k] += l.amount
		} else {
			bal[k] -= l.amount
		}
		l.bal = bal[k]
		if l.fixed != nil {
			l.bal = *l.fixed
		}
	}
}

// writeLake writes the hand-made book (loans, repayments, investments
// and the statement ls) as a lake of Parquet tables under dir, the
// statement in the order of ls.
func writeLake(t *testing.T, dir string, ls []stLine) { writeLakeOrdered(t, dir, ls, false) }

// writeLakeOrdered writes the statement sorted as ingestion writes it,
// (bank, sub_account, txn_time, bank_txn_id), when sorted is set.
func writeLakeOrdered(t *testing.T, dir string, ls []stLine, sorted bool) {
	t.Helper()
	balances(ls)
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, name := range []string{"loans", "repayments", "investments", "custody_transactions"} {
		tab, _ := schema.Lookup(name)
		exec(schema.LakeDDL(tab, name))
	}
	exec(`INSERT INTO loans (loan_id, borrower_id, issue_date, principal) VALUES ('L1', 'B1', DATE '2022-03-10', 1000.00)`)
	exec(`INSERT INTO repayments (txn_id, loan_id, installment_no, paid_at, principal_paid, interest_paid, penalty_paid) VALUES
		('T1', 'L1', 1, TIMESTAMP '2022-04-10 09:00:00', 80.00, 10.00, 0),
		('T2', 'L1', 2, TIMESTAMP '2022-05-10 09:00:00', 85.00, 5.00, 0)`)
	exec(`INSERT INTO investments (investment_id, lender_id, loan_id, invest_time, amount) VALUES
		('I1', 'P1', 'L1', TIMESTAMP '2022-03-09 10:00:00', 600.00),
		('I2', 'P2', 'L1', TIMESTAMP '2022-03-09 11:00:00', 400.00)`)
	for _, l := range ls {
		exec(`INSERT INTO custody_transactions VALUES (?, ?, ?, ?, ?, CAST(? AS TIMESTAMP), ?, CAST(? AS DECIMAL(18,2)) / 100, ?, nullif(?, ''), nullif(?, ''), CAST(? AS DECIMAL(18,2)) / 100)`,
			l.id, l.bank, l.acct, l.otype, l.owner, l.time, l.dir, l.amount, l.typ, l.loan, l.ref, l.bal)
	}
	if sorted {
		exec("CREATE TABLE sorted AS SELECT * FROM custody_transactions ORDER BY bank, sub_account, txn_time, bank_txn_id")
		exec("DELETE FROM custody_transactions")
		exec("INSERT INTO custody_transactions SELECT * FROM sorted")
	}
	for _, name := range []string{"loans", "repayments", "investments", "custody_transactions"} {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		exec(fmt.Sprintf("COPY %s TO %s (FORMAT parquet)", name, lake.Quote(filepath.Join(d, "part-0.parquet"))))
	}
}

func mustDay(s string) time.Time {
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return d
}

func runRec(t *testing.T, lk, out, from, to string, max int64) (*Manifest, []map[string]string, error) {
	t.Helper()
	m, dir, err := Run(context.Background(), Options{Lake: lk, Out: out, From: mustDay(from), To: mustDay(to),
		Window: DefaultWindow, Tolerance: DefaultTolerance, MaxOpenAmount: max, MemoryLimit: "500MB"})
	var oe *OverLimitError
	if err != nil && !errors.As(err, &oe) {
		t.Fatalf("Run: %v", err)
	}
	return m, readBreaks(t, filepath.Join(dir, "breaks.csv")), err
}

func readBreaks(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range recs[0] {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func TestBreakKinds(t *testing.T) {
	fix := func(v int64) *int64 { return &v }
	cases := []struct {
		name   string
		change func([]stLine) []stLine
		to     string
		want   []string // kind|break_id|status|difference
	}{
		{"clean", func(ls []stLine) []stLine { return ls }, "", nil},
		{"repayment missing at the bank", func(ls []stLine) []stLine {
			return without(ls, "XW0017", "XW0018", "XW0019", "XW0020")
		}, "", []string{"bank_missing|P:repayment:T2|open|-90.00"}},
		{"investment missing at the bank", func(ls []stLine) []stLine {
			return without(ls, "GZ0001", "GZ0002")
		}, "", []string{"bank_missing|P:investment:I1|open|-600.00"}},
		{"a payment the platform never booked", func(ls []stLine) []stLine {
			return append(ls, stLine{id: "XW0099", bank: xw, acct: "6236B1", otype: "borrower", owner: "B1",
				time: "2022-05-20 10:00:00", dir: "in", typ: "repayment", loan: "L1", amount: 5000})
		}, "", []string{"platform_missing|B:XW0099|open|50.00"}},
		{"a line posted twice", func(ls []stLine) []stLine {
			d := ls[find(ls, "XW0017")]
			d.id = "XW0017D"
			return append(ls, d)
		}, "", []string{"duplicate|B:XW0017D|open|90.00"}},
		{"amount off by five fen", func(ls []stLine) []stLine {
			ls[find(ls, "XW0017")].amount = 9005
			return ls
		}, "", []string{"amount_mismatch|P:repayment:T2|open|0.05"}},
		{"no reference, amount off within the tolerance", func(ls []stLine) []stLine {
			i := find(ls, "XW0017")
			ls[i].ref, ls[i].amount = "", 9030
			return ls
		}, "", []string{"amount_mismatch|P:repayment:T2|open|0.30"}},
		{"no reference, same amount: matched", func(ls []stLine) []stLine {
			ls[find(ls, "XW0017")].ref = ""
			return ls
		}, "", nil},
		{"no reference, posted after the window", func(ls []stLine) []stLine {
			i := find(ls, "XW0017")
			ls[i].ref, ls[i].time = "", "2022-05-20 09:00:00"
			ls[find(ls, "XW0018")].time = "2022-05-20 09:00:01"
			return ls
		}, "", []string{"bank_missing|P:repayment:T2|open|-90.00", "platform_missing|B:XW0017|open|90.00"}},
		{"posted T+1", func(ls []stLine) []stLine {
			for _, id := range []string{"XW0017", "XW0018", "XW0019", "XW0020"} {
				ls[find(ls, id)].time = strings.Replace(ls[find(ls, id)].time, "05-10", "05-11", 1)
			}
			return ls
		}, "", []string{"timing|P:repayment:T2|closed|0.00"}},
		{"not posted yet, within the window", func(ls []stLine) []stLine {
			return without(ls, "XW0017", "XW0018", "XW0019", "XW0020")
		}, "2022-05-12", []string{"timing|P:repayment:T2|open|-90.00"}},
		{"balance_after jumps", func(ls []stLine) []stLine {
			ls[find(ls, "XW0019")].fixed = fix(10850)
			return ls
		}, "", []string{"balance_chain|C:XW0019|open|0.50"}},
		{"migrated balance differs", func(ls []stLine) []stLine {
			ls[find(ls, "XW0014")].amount = 4000
			return ls
		}, "", []string{"migration_mismatch|M:lender:P2|open|4.00"}},
		{"old sub-account used after it closed", func(ls []stLine) []stLine {
			return append(ls, stLine{id: "GZ0098", bank: gz, acct: "8101P2", otype: "lender", owner: "P2",
				time: "2022-05-03 10:00:00", dir: "in", typ: "recharge", amount: 500})
		}, "", []string{"migration_mismatch|M:lender:P2|open|-5.00"}},
	}
	for _, c := range cases {
		for _, sorted := range []bool{false, true} {
			name := c.name + map[bool]string{false: " (statement in any order)", true: " (statement in posting order)"}[sorted]
			t.Run(name, func(t *testing.T) { checkCase(t, c.change(baseLines()), sorted, c.to, c.want, c.name == "clean") })
		}
	}
}

// checkCase reconciles the book ls from 2022-03-01 to to (default
// 2022-06-30) and checks the breaks found (kind|break_id|status|difference).
func checkCase(t *testing.T, ls []stLine, sorted bool, to string, want []string, clean bool) {
	lk := t.TempDir()
	writeLakeOrdered(t, lk, ls, sorted)
	if to == "" {
		to = "2022-06-30"
	}
	m, br, _ := runRec(t, lk, t.TempDir(), "2022-03-01", to, -1)
	var got []string
	for _, b := range br {
		got = append(got, b["kind"]+"|"+b["break_id"]+"|"+b["status"]+"|"+b["difference"])
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("breaks:\n got %q\nwant %q", got, want)
	}
	if clean && m.Matched != 5 {
		t.Errorf("clean book: %d records matched, want 5 (the disbursement, two repayments, two investments)", m.Matched)
	}
}
