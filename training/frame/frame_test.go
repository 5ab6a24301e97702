//go:build duckdb_arrow

package frame_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"qiandun/data/lake"
	"qiandun/internal/duckdbtest"
	"qiandun/internal/duckstream"
	"qiandun/training/binning"
	"qiandun/training/frame"
)

func TestQuery(t *testing.T) {
	ctx := context.Background()
	conn := duckdbtest.Conn(t, lake.DBOptions{Threads: 2})
	// 10,000 rows: several Arrow batches, so strings must outlive their batch.
	q := `SELECT i AS n_int,
  CASE WHEN i % 10 = 0 THEN NULL ELSE CAST(i AS DOUBLE) / 4 END AS n_dbl,
  CAST(i AS DECIMAL(18,2)) / 100 AS n_dec,
  'cat_' || CAST(i % 7 AS VARCHAR) AS c_str,
  CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS c_bool,
  DATE '2024-01-01' + CAST(i % 30 AS INTEGER) AS d,
  i % 5 AS forced_cat
FROM range(10000) t(i) ORDER BY i`
	f, err := frame.Query(ctx, conn, q, map[string]binning.Kind{"forced_cat": binning.Categorical})
	if err != nil {
		t.Fatal(err)
	}
	if f.N != 10000 {
		t.Fatalf("%d rows", f.N)
	}
	if _, ok := f.Skipped["d"]; !ok || f.Cols["d"] != nil {
		t.Errorf("date column not skipped: %v", f.Skipped)
	}
	kinds := map[string]binning.Kind{"n_int": binning.Numeric, "n_dbl": binning.Numeric, "n_dec": binning.Numeric,
		"c_str": binning.Categorical, "c_bool": binning.Categorical, "forced_cat": binning.Categorical}
	for name, k := range kinds {
		if c := f.Cols[name]; c == nil || c.Kind != k || c.Len() != 10000 {
			t.Fatalf("%s: %+v", name, c)
		}
	}
	for i := 0; i < 10000; i++ {
		if f.Cols["n_int"].Num[i] != float64(i) {
			t.Fatalf("n_int[%d] = %v", i, f.Cols["n_int"].Num[i])
		}
		d := f.Cols["n_dbl"].Num[i]
		if (i%10 == 0) != math.IsNaN(d) || (i%10 != 0 && d != float64(i)/4) {
			t.Fatalf("n_dbl[%d] = %v", i, d)
		}
		// exact: the float64 nearest the decimal, as strconv parses it
		want, _ := strconv.ParseFloat(strconv.Itoa(i/100)+"."+leftPad(i%100), 64)
		if got := f.Cols["n_dec"].Num[i]; got != want {
			t.Fatalf("n_dec[%d] = %v, want %v", i, got, want)
		}
		c := f.Cols["c_str"]
		if c.Dict[c.Codes[i]] != "cat_"+strconv.Itoa(i%7) {
			t.Fatalf("c_str[%d] = %q", i, c.Dict[c.Codes[i]])
		}
		b := f.Cols["c_bool"]
		if (i%3 == 0) != (b.Codes[i] < 0) || (i%3 != 0 && b.Dict[b.Codes[i]] != strconv.FormatBool(i%2 == 0)) {
			t.Fatalf("c_bool[%d] = %d", i, b.Codes[i])
		}
		fc := f.Cols["forced_cat"]
		if fc.Dict[fc.Codes[i]] != strconv.Itoa(i%5) {
			t.Fatalf("forced_cat[%d] = %q", i, fc.Dict[fc.Codes[i]])
		}
	}
}

func leftPad(v int) string {
	s := strconv.Itoa(v)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}

// TestStreamSameAsQuery checks that the streaming read gives the frame
// the materialized one gives, on the query of TestQuery and on a CSV file
// as `train --data` reads it (Chinese categories, empty fields, integer
// and decimal columns, more rows than one batch).
func TestStreamSameAsQuery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,city,flag,bad\n")
	for i := range 5000 {
		city := []string{"北京", "上海", "", "成都"}[i%4]
		dec := strconv.FormatFloat(float64(i%97)/8, 'f', -1, 64)
		if i%13 == 0 {
			dec = ""
		}
		fmt.Fprintf(&b, "%d,%s,%s,%v,%d\n", i%37, dec, city, i%2 == 0, i%7/6)
	}
	csv := filepath.Join(dir, "flat.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"SELECT * FROM read_csv(" + lake.Quote(csv) + ", header = true)",
		`SELECT i AS n_int, CASE WHEN i % 10 = 0 THEN NULL ELSE CAST(i AS DOUBLE) / 4 END AS n_dbl,
		  CAST(i AS DECIMAL(18,2)) / 100 AS n_dec, 'cat_' || CAST(i % 7 AS VARCHAR) AS c_str,
		  DATE '2024-01-01' + CAST(i % 30 AS INTEGER) AS d, i % 5 AS forced_cat FROM range(10000) t(i) ORDER BY i`,
	} {
		kinds := map[string]binning.Kind{"forced_cat": binning.Categorical}
		want, err := frame.Query(ctx, conn, q, kinds)
		if err != nil {
			t.Fatal(err)
		}
		for _, hint := range []int{0, 100, 20_000} { // none, too few, enough
			got, err := frame.Stream(ctx, duckstream.Options{Threads: 2}, q, kinds, hint)
			if err != nil {
				t.Fatal(err)
			}
			sameFrame(t, got, want)
		}
	}
}

// sameFrame reports where got differs from want.
func sameFrame(t *testing.T, got, want *frame.Frame) {
	t.Helper()
	if got.N != want.N || !slices.Equal(got.Names, want.Names) || !maps.Equal(got.Skipped, want.Skipped) {
		t.Fatalf("stream: %d rows %v skipped %v; query: %d rows %v skipped %v", got.N, got.Names, got.Skipped, want.N, want.Names, want.Skipped)
	}
	for _, n := range want.Names {
		g, w := got.Cols[n], want.Cols[n]
		same := g.Kind == w.Kind && slices.Equal(g.Codes, w.Codes) && slices.Equal(g.Dict, w.Dict) &&
			slices.EqualFunc(g.Num, w.Num, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) })
		if !same {
			t.Errorf("column %s differs between Stream and Query", n)
		}
	}
}
