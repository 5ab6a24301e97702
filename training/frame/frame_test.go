//go:build duckdb_arrow

package frame_test

import (
	"context"
	"math"
	"strconv"
	"testing"

	"qiandun/data/lake"
	"qiandun/training/binning"
	"qiandun/training/frame"
)

func TestQuery(t *testing.T) {
	ctx := context.Background()
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
