package features

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qiandun/data/lake"
	"qiandun/data/schema"
)

// row is one hand-made lake row: column name -> SQL literal. Columns not
// given are NULL.
type row map[string]string

// rows maps a lake table to its rows.
type rows map[string][]row

// writeLake writes the tables as <root>/<table>/<part>.parquet with the
// typed lake columns of schema.LakeColumns. scores_acard is written with
// columns application_id, score.
func writeLake(t testing.TB, root, part string, tables rows) {
	t.Helper()
	ctx := context.Background()
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "1GB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, rs := range tables {
		ddl := "CREATE TABLE scores_acard (application_id VARCHAR, score DOUBLE)"
		if tab, ok := schema.Lookup(name); ok {
			ddl = schema.LakeDDL(tab, name)
		}
		mustExec(t, db, ddl)
		for _, r := range rs {
			var cols, vals []string
			for c, v := range r {
				cols = append(cols, c)
				vals = append(vals, v)
			}
			mustExec(t, db, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", name, strings.Join(cols, ", "), strings.Join(vals, ", ")))
		}
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, fmt.Sprintf("COPY %s TO %s (FORMAT parquet)", name, lake.Quote(filepath.Join(dir, part+".parquet"))))
		mustExec(t, db, "DROP TABLE "+name)
	}
}

func mustExec(t testing.TB, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// buildSnapshot runs the stage for one set and date and returns the
// snapshot rows keyed by the entity id (first column), each a map of
// column to value.
func buildSnapshot(t testing.TB, root, set string, asOf string) map[string]map[string]any {
	t.Helper()
	d, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		t.Fatal(err)
	}
	l := lake.New(root)
	if _, err := Run(context.Background(), l, set, []time.Time{d}, lake.DBOptions{MemoryLimit: "1GB", Threads: 2}, nil); err != nil {
		t.Fatal(err)
	}
	return readParquet(t, filepath.Join(Dir(l, set, d), "part-0.parquet"))
}

func readParquet(t testing.TB, path string) map[string]map[string]any {
	t.Helper()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.Query(fmt.Sprintf("SELECT * FROM read_parquet(%s)", lake.Quote(path)))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	out := map[string]map[string]any{}
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		out[fmt.Sprint(vals[0])] = m
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// num converts a scanned value to float64 (ok false for NULL).
func num(v any) (float64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, false
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case fmt.Stringer: // duckdb.Decimal
		var f float64
		fmt.Sscan(x.String(), &f)
		return f, true
	}
	panic(fmt.Sprintf("num: %T", v))
}

// want is an expected value: a number (int or float64, compared to 1e-9
// relative), a string, or nil for NULL.
func checkRow(t *testing.T, id string, got map[string]any, want map[string]any) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no row", id)
		return
	}
	for col, w := range want {
		g, ok := got[col]
		if !ok {
			t.Errorf("%s: no column %s", id, col)
			continue
		}
		switch w := w.(type) {
		case nil:
			if g != nil {
				t.Errorf("%s.%s = %v, want NULL", id, col, g)
			}
		case string:
			if s, ok := g.(string); !ok || s != w {
				t.Errorf("%s.%s = %v, want %q", id, col, g, w)
			}
		case int:
			if f, ok := num(g); !ok || f != float64(w) {
				t.Errorf("%s.%s = %v, want %d", id, col, g, w)
			}
		case float64:
			if f, ok := num(g); !ok || math.Abs(f-w) > 1e-9*math.Max(1, math.Abs(w)) {
				t.Errorf("%s.%s = %v, want %v", id, col, g, w)
			}
		default:
			t.Fatalf("bad want type %T", w)
		}
	}
}

func q(s string) string { return lake.Quote(s) }

func fmtInt(i int) string { return fmt.Sprint(i) }

// readFlags returns "application_id flag" of a fraud-flags file in order.
func readFlags(t testing.TB, path string) []string {
	t.Helper()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.Query(fmt.Sprintf("SELECT application_id || ' ' || flag, reason FROM read_parquet(%s) ORDER BY 1", lake.Quote(path)))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var s, reason string
		if err := rs.Scan(&s, &reason); err != nil {
			t.Fatal(err)
		}
		if reason == "" {
			t.Errorf("flag %s has no reason", s)
		}
		out = append(out, s)
	}
	return out
}
