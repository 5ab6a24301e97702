package perf

import (
	"bytes"
	"context"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSharesExactAndRepeatable: two runs of the stage on the same book
// with two DuckDB threads write perf/roll_rates and perf/delinquency
// byte for byte the same, and every share is the correctly rounded
// quotient of its row's count or balance and the exact total of its
// group (a sum of DECIMALs or integers), whatever order the rows were
// added in — a float sum in an aggregate would round differently from
// run to run.
func TestSharesExactAndRepeatable(t *testing.T) {
	b := randomBook(rand.New(rand.NewPCG(12, 12)), 3000)
	cfg := DefaultConfig()
	cfg.AsOf = day("2024-06-30")
	cfg.Threads = 2
	var files [2]map[string][]byte
	for run := range files {
		lk := writeLake(t, b)
		if _, err := Run(context.Background(), lk, cfg, nil); err != nil {
			t.Fatal(err)
		}
		files[run] = map[string][]byte{}
		for _, tab := range []string{"perf/roll_rates", "perf/delinquency"} {
			paths, err := filepath.Glob(lk.Glob(tab))
			if err != nil || len(paths) == 0 {
				t.Fatalf("%s: no files (%v)", tab, err)
			}
			for _, p := range paths {
				raw, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				files[run][tab+"/"+filepath.Base(p)] = raw
			}
		}
		if run == 0 {
			db := openBookDB(t, lk)
			checkShares(t, "roll_rates", query(t, db, lk, "SELECT month || '/' || from_bucket, n, balance, share_n, share_balance FROM {perf/roll_rates}"))
			checkShares(t, "delinquency", query(t, db, lk, "SELECT CAST(month_end AS VARCHAR), n, balance, share_n, share_balance FROM {perf/delinquency}"))
		}
	}
	if len(files[0]) != len(files[1]) {
		t.Fatalf("runs wrote %d and %d files", len(files[0]), len(files[1]))
	}
	for name, a := range files[0] {
		if !bytes.Equal(a, files[1][name]) {
			t.Errorf("%s differs between two identical runs", name)
		}
	}
}

// checkShares checks rows "group|n|balance|share_n|share_balance": the
// shares are n / Σn and balance / Σbalance over the group, the totals
// summed exactly here (balance in fen) and divided once in float64.
func checkShares(t *testing.T, what string, rows []string) {
	t.Helper()
	type row struct {
		group            string
		n                int64
		fen              int64
		bal, shareN, shB float64
	}
	var rs []row
	totN, totFen := map[string]int64{}, map[string]int64{}
	for _, s := range rows {
		f := strings.Split(s, "|")
		if len(f) != 5 {
			t.Fatalf("%s: row %q", what, s)
		}
		var r row
		var err error
		r.group = f[0]
		if r.n, err = strconv.ParseInt(f[1], 10, 64); err != nil {
			t.Fatal(err)
		}
		bal, ok := new(big.Rat).SetString(f[2])
		if !ok || !new(big.Rat).Mul(bal, big.NewRat(100, 1)).IsInt() {
			t.Fatalf("%s: balance %q is not a money amount", what, f[2])
		}
		r.fen = new(big.Rat).Mul(bal, big.NewRat(100, 1)).Num().Int64()
		r.bal, _ = strconv.ParseFloat(f[2], 64)
		r.shareN, _ = strconv.ParseFloat(f[3], 64)
		r.shB, _ = strconv.ParseFloat(f[4], 64)
		rs = append(rs, r)
		totN[r.group] += r.n
		totFen[r.group] += r.fen
	}
	if len(rs) < 50 {
		t.Fatalf("%s: only %d rows; the book is too small to test anything", what, len(rs))
	}
	for _, r := range rs {
		if want := float64(r.n) / float64(totN[r.group]); r.shareN != want {
			t.Errorf("%s %s: share_n %v, want %v", what, r.group, r.shareN, want)
		}
		if totFen[r.group] == 0 {
			continue
		}
		total, _ := new(big.Rat).SetFrac64(totFen[r.group], 100).Float64()
		if want := r.bal / total; r.shB != want {
			t.Errorf("%s %s: share_balance %v, want %v (balance %v of %v)", what, r.group, r.shB, want, r.bal, total)
		}
	}
}
