//go:build duckdb_arrow

package duckstream_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"qiandun/internal/duckstream"
)

func ExampleQuery() {
	r, err := duckstream.Query(context.Background(), duckstream.Options{Threads: 1},
		"SELECT i, 'row ' || i AS label FROM range(3) t(i)")
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for r.Next() {
		rec := r.RecordBatch()
		ids, labels := rec.Column(0).(*array.Int64), rec.Column(1).(*array.String)
		for i := range int(rec.NumRows()) {
			fmt.Println(ids.Value(i), labels.Value(i))
		}
	}
	if err := r.Err(); err != nil {
		panic(err)
	}
	// Output:
	// 0 row 0
	// 1 row 1
	// 2 row 2
}

// TestRows: every row arrives, in order, with its value and NULLs, for
// the types Reader converts itself (short, long and empty strings; the
// integer widths; float, double, date) and for one it leaves to DuckDB
// (DECIMAL); batches kept past Next stay valid after the reader moves on;
// with DuckDB's threads running ahead of the reader (a stream buffer of
// 64 MB, the whole result) the rows still arrive in order.
func TestRows(t *testing.T) {
	const n = 100_000
	for _, tc := range []struct {
		name, extra string
		direct      bool
		buffer      string
	}{
		{"direct", "", true, ""},
		{"duckdb conversion", ", CAST(i / 4 AS DECIMAL(18,2)) AS dec", false, ""},
		{"stream buffer", "", true, "64MB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := `SELECT i,
			  CASE WHEN i % 7 = 0 THEN NULL ELSE repeat('x', CAST(i % 20 AS INTEGER)) || CAST(i AS VARCHAR) END AS s,
			  CASE WHEN i % 5 = 0 THEN NULL ELSE CAST(i % 100 AS TINYINT) END AS t8,
			  CAST(i % 30000 AS SMALLINT) AS t16, CAST(i AS INTEGER) AS t32, CAST(i AS UBIGINT) AS u64,
			  CAST(i AS FLOAT) / 2 AS f32, CASE WHEN i % 3 = 0 THEN NULL ELSE i / 8 END AS f64,
			  DATE '2024-01-01' + CAST(i % 400 AS INTEGER) AS d, '' AS empty` + tc.extra + `
			FROM range(` + fmt.Sprint(n) + `) t(i) ORDER BY i`
			r, err := duckstream.Query(context.Background(), duckstream.Options{Threads: 2, StreamBuffer: tc.buffer}, q)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var kept []arrow.RecordBatch
			row := 0
			for r.Next() {
				rec := r.RecordBatch()
				if len(kept) < 3 || row > n/2 && len(kept) < 6 {
					rec.Retain()
					kept = append(kept, rec)
				}
				checkBatch(t, rec, row)
				row += int(rec.NumRows())
			}
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			if row != n {
				t.Fatalf("%d rows, want %d", row, n)
			}
			if len(kept) == 0 {
				t.Fatal("no batches")
			}
			for _, rec := range kept {
				checkBatch(t, rec, int(rec.Column(0).(*array.Int64).Value(0)))
				rec.Release()
			}
			if f := r.Schema().Field(1); f.Type.ID() != arrow.STRING {
				t.Errorf("VARCHAR arrives as %s", f.Type)
			}
		})
	}
}

func checkBatch(t *testing.T, rec arrow.RecordBatch, first int) {
	t.Helper()
	for i := range int(rec.NumRows()) {
		v := first + i
		if got := rec.Column(0).(*array.Int64).Value(i); got != int64(v) {
			t.Fatalf("row %d: i = %d", v, got)
		}
		s := rec.Column(1).(*array.String)
		if want := strings.Repeat("x", v%20) + fmt.Sprint(v); (v%7 == 0) != s.IsNull(i) || !s.IsNull(i) && s.Value(i) != want {
			t.Fatalf("row %d: s = %q (null %v), want %q", v, s.Value(i), s.IsNull(i), want)
		}
		t8 := rec.Column(2).(*array.Int8)
		if (v%5 == 0) != t8.IsNull(i) || !t8.IsNull(i) && int(t8.Value(i)) != v%100 {
			t.Fatalf("row %d: t8 = %d (null %v)", v, t8.Value(i), t8.IsNull(i))
		}
		if got := rec.Column(3).(*array.Int16).Value(i); int(got) != v%30000 {
			t.Fatalf("row %d: t16 = %d", v, got)
		}
		if got := rec.Column(4).(*array.Int32).Value(i); int(got) != v {
			t.Fatalf("row %d: t32 = %d", v, got)
		}
		if got := rec.Column(5).(*array.Uint64).Value(i); int(got) != v {
			t.Fatalf("row %d: u64 = %d", v, got)
		}
		if got := rec.Column(6).(*array.Float32).Value(i); got != float32(v)/2 {
			t.Fatalf("row %d: f32 = %v", v, got)
		}
		f64 := rec.Column(7).(*array.Float64)
		if (v%3 == 0) != f64.IsNull(i) || !f64.IsNull(i) && f64.Value(i) != float64(v)/8 {
			t.Fatalf("row %d: f64 = %v (null %v)", v, f64.Value(i), f64.IsNull(i))
		}
		want := time.Date(2024, 1, 1+v%400, 0, 0, 0, 0, time.UTC)
		if got := rec.Column(8).(*array.Date32).Value(i).ToTime(); !got.Equal(want) {
			t.Fatalf("row %d: d = %v, want %v", v, got, want)
		}
		if got := rec.Column(9).(*array.String); got.IsNull(i) || got.Value(i) != "" {
			t.Fatalf("row %d: empty = %q", v, got.Value(i))
		}
		if rec.NumCols() > 10 {
			dec := rec.Column(10).(*array.Decimal128)
			if got := dec.Value(i).ToFloat64(dec.DataType().(*arrow.Decimal128Type).Scale); got != float64(v)/4 {
				t.Fatalf("row %d: dec = %v", v, got)
			}
		}
	}
}

// TestErrors: a query DuckDB refuses fails in Query; one that fails while
// it runs fails in Query or, when rows were already streamed, ends the
// stream with DuckDB's error.
func TestErrors(t *testing.T) {
	if _, err := duckstream.Query(context.Background(), duckstream.Options{StreamBuffer: "lots"}, "SELECT 1"); err == nil || !strings.Contains(err.Error(), "streaming_buffer_size") {
		t.Errorf("a bad stream buffer: err %v, want one naming streaming_buffer_size", err)
	}
	if _, err := duckstream.Query(context.Background(), duckstream.Options{}, "SELECT nope FROM range(3)"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("bad column: %v", err)
	}
	r, err := duckstream.Query(context.Background(), duckstream.Options{Threads: 1},
		"SELECT CAST(CASE WHEN i = 700000 THEN 'x' ELSE CAST(i AS VARCHAR) END AS INTEGER) AS v FROM range(1000000) t(i)")
	if err != nil {
		if !strings.Contains(err.Error(), "Conversion") {
			t.Errorf("Query: %v, want a conversion error", err)
		}
		return
	}
	defer r.Close()
	rows := 0
	for r.Next() {
		rows += int(r.RecordBatch().NumRows())
	}
	if err := r.Err(); err == nil || !strings.HasPrefix(err.Error(), "Conversion") {
		t.Errorf("after %d rows: %v, want a conversion error first", rows, err)
	}
}

// TestCancel: cancelling the context stops a long query, whether it is
// still in Query (a sort) or streaming; the error says so.
func TestCancel(t *testing.T) {
	for _, q := range []string{
		"SELECT sum(a.range * b.range) OVER (ORDER BY a.range) AS v FROM range(100000) a, range(1000) b",
		"SELECT a.range * b.range AS v FROM range(100000) a, range(10000) b",
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		r, err := duckstream.Query(ctx, duckstream.Options{}, q)
		if err == nil {
			for r.Next() {
			}
			err = r.Err()
			r.Close()
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err %v, want context.Canceled", q, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: cancel took %v", q, d)
		}
		cancel()
	}
}

// TestCSVErrorFirst: a CSV line that breaks the file's shape, met while
// the result streams, is reported by DuckDB's own CSV error (its line
// first), not behind "Attempting to execute an unsuccessful ... pending
// query result".
func TestCSVErrorFirst(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := range 300_000 {
		fmt.Fprintf(&b, "%d,%d\n", i, i%7)
	}
	b.WriteString("17\n")
	path := filepath.Join(t.TempDir(), "broken.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := duckstream.Query(context.Background(), duckstream.Options{Threads: 2}, "SELECT * FROM read_csv('"+path+"', header = true)")
	if err == nil {
		defer r.Close()
		for r.Next() {
		}
		err = r.Err()
	}
	if err == nil || !strings.HasPrefix(err.Error(), "Invalid Input Error: CSV Error on Line: 300002") {
		t.Errorf("err %v, want DuckDB's CSV error on line 300002 first", err)
	}
}
