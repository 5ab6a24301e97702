package gen

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"qiandun/data/schema"
	"qiandun/internal/civil"
)

// windowEnd is the last day of the default 36-month window from 2021-01.
var windowEnd = time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC)

func TestScheduleGolden(t *testing.T) {
	issue := civil.Days(2021, 1, 31)
	// 12,000.00 at 12% a year over 12 months: the annuity is
	// 12000 x 0.01 / (1 - 1.01^-12) = 1066.1854 -> 1066.19 a month.
	tests := []struct {
		name      string
		method    int
		principal int64
		rate      int64
		term      int
		wantPrin  []int64 // first installments' principal
		wantInt   []int64 // first installments' interest
	}{
		{"equal_installment", EqualInstallment, 1200000, 120000, 12, []int64{94619, 95565}, []int64{12000, 11054}},
		{"equal_principal", EqualPrincipal, 1200000, 120000, 12, []int64{100000, 100000}, []int64{12000, 11000}},
		{"interest_first", InterestFirst, 1200000, 120000, 12, []int64{0, 0}, []int64{12000, 12000}},
		{"odd fen residue", EqualPrincipal, 1000001, 240000, 3, []int64{333333, 333333, 333335}, []int64{20000, 13333, 6667}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Schedule(tc.method, tc.principal, tc.rate, tc.term, issue)
			if len(s) != tc.term {
				t.Fatalf("len %d, want %d", len(s), tc.term)
			}
			for i, p := range tc.wantPrin {
				if s[i].Principal != p || s[i].Interest != tc.wantInt[i] {
					t.Errorf("installment %d = %d/%d, want %d/%d", i+1, s[i].Principal, s[i].Interest, p, tc.wantInt[i])
				}
			}
			var sum int64
			for _, in := range s {
				sum += in.Principal
			}
			if sum != tc.principal {
				t.Errorf("principal sums to %d, want %d", sum, tc.principal)
			}
			// Jan 31 clamps to Feb 28 2021, then back to the 31st.
			wantDue := []string{"2021-02-28", "2021-03-31", "2021-04-30"}
			for i, w := range wantDue {
				if got := string(appendDate(nil, s[i].Due)); got != w {
					t.Errorf("due %d = %s, want %s", i+1, got, w)
				}
			}
		})
	}
	s := Schedule(EqualInstallment, 1200000, 120000, 12, issue)
	if got := s[0].Principal + s[0].Interest; got != 106619 {
		t.Errorf("annuity payment %d fen, want 106619", got)
	}
}

func TestDateConversions(t *testing.T) {
	for d := civil.Days(1900, 1, 1); d < civil.Days(2100, 1, 1); d += 17 {
		y, m, dd := civil.Date(d)
		want := time.Unix(int64(d)*secondsPerDay, 0).UTC()
		if y != want.Year() || m != int(want.Month()) || dd != want.Day() {
			t.Fatalf("civil.Date(%d) = %d-%d-%d, want %s", d, y, m, dd, want.Format("2006-01-02"))
		}
		if civil.Days(y, m, dd) != d {
			t.Fatalf("civil.Days(%d-%d-%d) != %d", y, m, dd, d)
		}
	}
}

func TestScheduleInvariantsInBook(t *testing.T) {
	dir := testBook(t)
	byID, loans := replay(t, dir)
	sched := table(t, dir, "repayment_schedule.csv")
	// Recompute each installment's interest from the principal outstanding
	// before it and the loan's rate, independently of the generator.
	outstanding := map[string]int64{}
	last := map[string][2]int64{} // previous installment's principal and total
	for _, r := range sched {
		l := byID[r["loan_id"]]
		if _, ok := outstanding[l.id]; !ok {
			outstanding[l.id] = l.principal
		}
		n, _ := strconv.Atoi(r["installment_no"])
		p, in := mustFen(t, r["principal_due"]), mustFen(t, r["interest_due"])
		o := outstanding[l.id]
		want := int64(math.Floor(float64(o)*float64(l.rateMicro)/12e6 + 0.5))
		if d := in - want; d < -1 || d > 1 {
			t.Fatalf("loan %s installment %d: interest %d, want %d on %d outstanding", l.id, n, in, want, o)
		}
		if due := mustDate(t, r["due_date"]); !due.Equal(addMonthsClamped(l.issue, n)) {
			t.Fatalf("loan %s installment %d: due %s, want %s", l.id, n, due.Format("2006-01-02"), addMonthsClamped(l.issue, n).Format("2006-01-02"))
		}
		isLast := n == len(l.due)
		switch l.method {
		case "interest_first":
			if !isLast && p != 0 {
				t.Fatalf("loan %s: interest_first pays principal %d before the end", l.id, p)
			}
		case "equal_principal":
			if !isLast && p != l.principal/int64(l.term) {
				t.Fatalf("loan %s installment %d: principal %d, want %d", l.id, n, p, l.principal/int64(l.term))
			}
		case "equal_installment":
			if prev, ok := last[l.id]; ok && !isLast {
				if d := p + in - prev[1]; d < -1 || d > 1 {
					t.Fatalf("loan %s installment %d: payment %d differs from %d", l.id, n, p+in, prev[1])
				}
			}
		}
		last[l.id] = [2]int64{p, p + in}
		outstanding[l.id] = o - p
	}
	settledEarly := 0
	for _, l := range loans {
		if outstanding[l.id] != 0 {
			t.Fatalf("loan %s: principal due sums to %d, want %d", l.id, l.principal-outstanding[l.id], l.principal)
		}
		if len(l.due) < l.term {
			settledEarly++
			if l.status != "settled" {
				t.Errorf("loan %s: schedule truncated by early settlement but status %s", l.id, l.status)
			}
		} else if len(l.due) != l.term {
			t.Fatalf("loan %s: %d installments for term %d", l.id, len(l.due), l.term)
		}
	}
	if share := float64(settledEarly) / float64(len(loans)); share < 0.05 || share > 0.35 {
		t.Errorf("early settlement share %.3f, want 5%%-35%%", share)
	}
}

func TestDeterminism(t *testing.T) {
	if testing.Short() {
		t.Skip("generates three books")
	}
	gen := func(seed uint64, workers int) string {
		dir := t.TempDir()
		cfg := DefaultConfig()
		cfg.Loans, cfg.Seed, cfg.Workers, cfg.Dirty = 2500, seed, workers, 0.01
		if _, err := Generate(context.Background(), cfg, dir, nil); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	a, b, c := gen(7, 1), gen(7, 4), gen(8, 2)
	files := []string{"_truth/loans.csv", "_truth/dirty.json"}
	for _, tb := range schema.Tables() {
		files = append(files, tb.Name+".csv")
	}
	for _, f := range files {
		fa, _ := os.ReadFile(filepath.Join(a, f))
		fb, _ := os.ReadFile(filepath.Join(b, f))
		fc, _ := os.ReadFile(filepath.Join(c, f))
		if len(fa) == 0 {
			t.Fatalf("%s is empty", f)
		}
		if !bytes.Equal(fa, fb) {
			t.Errorf("%s differs between runs with the same seed", f)
		}
		if bytes.Equal(fa, fc) {
			t.Errorf("%s is the same for seeds 7 and 8", f)
		}
	}
}

// TestGenerateCancelled checks that a cancelled Generate returns the
// context's error, leaves the book already in the directory as it was and
// leaves no temporary file behind.
func TestGenerateCancelled(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Loans = 1000
	if _, err := Generate(context.Background(), cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	read := func() map[string][]byte {
		files := map[string][]byte{}
		for _, pat := range []string{"*", "_truth/*"} {
			names, err := filepath.Glob(filepath.Join(dir, pat))
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				if fi, err := os.Stat(name); err != nil || fi.IsDir() {
					continue
				}
				b, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				files[name] = b
			}
		}
		return files
	}
	before := read()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg.Loans, cfg.Seed, cfg.Workers = 40000, 2, 2 // 40 chunks: the cancel is seen long before the last
	if _, err := Generate(ctx, cfg, dir, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Generate with a cancelled context: err %v, want %v", err, context.Canceled)
	}
	after := read()
	if len(after) != len(before) {
		t.Errorf("%d files after the cancelled run, want the %d of the book before it", len(after), len(before))
	}
	for name, b := range after {
		if !bytes.Equal(b, before[name]) {
			t.Errorf("%s changed or appeared in the cancelled run", name)
		}
	}
}

// TestGzipSameRows checks that a gzipped book holds, file by file, the
// bytes of the plain book of the same config, and names its files .csv.gz
// in dirty.json.
func TestGzipSameRows(t *testing.T) {
	book := func(gz bool) string {
		dir := t.TempDir()
		cfg := DefaultConfig()
		cfg.Loans, cfg.Dirty, cfg.Gzip = 1000, 0.01, gz
		if _, err := Generate(context.Background(), cfg, dir, nil); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	plain, zipped := book(false), book(true)
	for _, tb := range schema.Tables() {
		want, err := os.ReadFile(filepath.Join(plain, tb.Name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(zipped, tb.Name+".csv.gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatalf("%s.csv.gz: %v", tb.Name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s.csv.gz: %d bytes unzipped, differ from the plain book's %d", tb.Name, len(got), len(want))
		}
		if _, err := os.Stat(filepath.Join(zipped, tb.Name+".csv")); !os.IsNotExist(err) {
			t.Errorf("%s.csv beside the gzipped file: %v", tb.Name, err)
		}
	}
	for _, f := range []string{"_truth/loans.csv", "_truth/custody.json"} {
		a, _ := os.ReadFile(filepath.Join(plain, f))
		b, _ := os.ReadFile(filepath.Join(zipped, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: differs between the plain and the gzipped book (or is empty)", f)
		}
	}
	d, err := os.ReadFile(filepath.Join(zipped, "_truth", "dirty.json"))
	if err != nil || !bytes.Contains(d, []byte(`"custody_transactions.csv.gz"`)) {
		t.Errorf("dirty.json does not name the gzipped files: %v", err)
	}
}
