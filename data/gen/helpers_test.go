package gen

import (
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// A book shared by the read-only tests, generated once.
var (
	bookOnce sync.Once
	bookDir  string
	bookErr  error
)

const bookLoans = 20000

func testBook(t *testing.T) string {
	t.Helper()
	bookOnce.Do(func() {
		dir, err := os.MkdirTemp("", "qiandun-gen-test-")
		if err != nil {
			bookErr = err
			return
		}
		bookDir = dir
		cfg := DefaultConfig()
		cfg.Loans = bookLoans
		_, bookErr = Generate(context.Background(), cfg, dir, nil)
	})
	if bookErr != nil {
		t.Fatal(bookErr)
	}
	return bookDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bookDir != "" {
		os.RemoveAll(bookDir)
	}
	os.Exit(code)
}

// readCSV reads a whole CSV file with its header.
func readCSV(t testing.TB, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = false
	header, err = r.Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, rec)
	}
	return header, rows
}

// table reads <dir>/<name>.csv as maps keyed by column name.
func table(t testing.TB, dir, name string) []map[string]string {
	t.Helper()
	h, rows := readCSV(t, filepath.Join(dir, name))
	out := make([]map[string]string, len(rows))
	for i, r := range rows {
		m := make(map[string]string, len(h))
		for j, c := range h {
			m[c] = r[j]
		}
		out[i] = m
	}
	return out
}

func mustDate(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// mustFen parses a plain amount into fen.
func mustFen(t testing.TB, s string) int64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	if f < 0 {
		return -int64(-f*100 + 0.5)
	}
	return int64(f*100 + 0.5)
}

// addMonthsClamped is an independent due-date rule on time.Time: the same
// day of month n months later, clamped to the month's last day.
func addMonthsClamped(d time.Time, n int) time.Time {
	first := time.Date(d.Year(), d.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	day := d.Day()
	if day > last {
		day = last
	}
	return time.Date(first.Year(), first.Month(), day, 0, 0, 0, 0, time.UTC)
}

// loanFacts is what the tests reconstruct about a loan from the exports.
type loanFacts struct {
	id, borrower, status string
	issue                time.Time
	principal            int64
	rateMicro            int64
	term                 int
	method               string
	due                  []time.Time
	owed                 []int64 // principal + interest due
	paid                 []int64 // paid so far while replaying
	fullyPaid            []time.Time
	truePD               float64
	bad12                bool
	ring                 string
}

// replay reads loans, schedules, repayments and truth of a book and
// computes, independently of the generator, when each installment became
// fully paid.
func replay(t testing.TB, dir string) (map[string]*loanFacts, []*loanFacts) {
	t.Helper()
	byID := map[string]*loanFacts{}
	var order []*loanFacts
	for _, r := range table(t, dir, "loans.csv") {
		rate, _ := strconv.ParseFloat(r["annual_rate"], 64)
		term, _ := strconv.Atoi(r["term_months"])
		l := &loanFacts{id: r["loan_id"], borrower: r["borrower_id"], status: r["status"],
			issue: mustDate(t, r["issue_date"]), principal: mustFen(t, r["principal"]),
			rateMicro: int64(rate*1e6 + 0.5), term: term, method: r["repay_method"]}
		byID[l.id] = l
		order = append(order, l)
	}
	for _, r := range table(t, dir, "repayment_schedule.csv") {
		l := byID[r["loan_id"]]
		n, _ := strconv.Atoi(r["installment_no"])
		if n != len(l.due)+1 {
			t.Fatalf("loan %s: installment %d out of order", l.id, n)
		}
		l.due = append(l.due, mustDate(t, r["due_date"]))
		l.owed = append(l.owed, mustFen(t, r["principal_due"])+mustFen(t, r["interest_due"]))
	}
	for _, l := range order {
		l.paid = make([]int64, len(l.due))
		l.fullyPaid = make([]time.Time, len(l.due))
	}
	type pay struct {
		loan *loanFacts
		inst int
		at   time.Time
		amt  int64
	}
	var pays []pay
	for _, r := range table(t, dir, "repayments.csv") {
		l := byID[r["loan_id"]]
		n, _ := strconv.Atoi(r["installment_no"])
		pays = append(pays, pay{l, n, mustTime(t, r["paid_at"]), mustFen(t, r["principal_paid"]) + mustFen(t, r["interest_paid"])})
	}
	sort.SliceStable(pays, func(i, j int) bool { return pays[i].at.Before(pays[j].at) })
	for _, p := range pays {
		i := p.inst - 1
		p.loan.paid[i] += p.amt
		if p.loan.fullyPaid[i].IsZero() && p.loan.paid[i] >= p.loan.owed[i] {
			p.loan.fullyPaid[i] = p.at
		}
	}
	for _, r := range table(t, dir, "_truth/loans.csv") {
		l := byID[r["loan_id"]]
		l.truePD, _ = strconv.ParseFloat(r["true_pd"], 64)
		l.bad12 = r["ever_90dpd_12m"] == "1"
		l.ring = r["fraud_ring_id"]
	}
	return byID, order
}

// reached90 reports whether the loan was 90+ days past due (DPD as the
// design defines it: days since the earliest unpaid due date) at some day
// up to horizon.
func (l *loanFacts) reached90(horizon time.Time) bool {
	for i, due := range l.due {
		at90 := due.AddDate(0, 0, 90)
		if at90.After(horizon) {
			continue
		}
		// Unpaid at the end of day at90 (paid on a later day).
		if l.fullyPaid[i].IsZero() || !l.fullyPaid[i].Before(at90.AddDate(0, 0, 1)) {
			return true
		}
	}
	return false
}

// auc is the Mann-Whitney AUC of score against binary outcome (ties count half).
func auc(score []float64, bad []bool) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var nb, ng float64
	rankSum := 0.0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if bad[idx[k]] {
				rankSum += avg
				nb++
			}
		}
		i = j
	}
	ng = float64(len(score)) - nb
	return (rankSum - nb*(nb+1)/2) / (nb * ng)
}
