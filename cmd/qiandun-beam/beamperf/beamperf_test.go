//go:build duckdb_arrow

package beamperf_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"qiandun/cmd/qiandun-beam/beamperf"
	"qiandun/cmd/qiandun-beam/internal/testbook"
	"qiandun/data/lake"
)

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

// TestPanelEqualsDuckDB builds the panel of a generated, ingested book on
// Beam (Prism) and compares it with the perf stage's SQL panel of the
// same lake: the same columns and types, the same rows (no row of either
// missing from the other, as multisets), every loan's rows in one file,
// sorted; a re-run replaces the committed panel.
func TestPanelEqualsDuckDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	book, err := testbook.Build(ctx, dir, 3000, false)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "beam")
	for run := range 2 {
		res, err := beamperf.Run(ctx, beamperf.Options{Lake: book.Lake, AsOf: "2023-12-31", Out: out, Shards: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Files) != 3 || res.Rows < 30000 {
			t.Fatalf("run %d: %d rows in %v", run, res.Rows, res.Files)
		}
	}
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "1GB", TempDir: filepath.Join(dir, "_tmp")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	duck := "read_parquet(" + lake.Quote(filepath.Join(book.Lake, "perf/panel/*.parquet")) + ")"
	beam := "read_parquet(" + lake.Quote(filepath.Join(out, "panel/*.parquet")) + ")"
	schema := func(src string) string {
		var s string
		if err := db.QueryRow("SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM " + src + ")").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if a, b := schema(beam), schema(duck); a != b {
		t.Fatalf("schema:\nbeam %s\nduck %s", a, b)
	}
	var n, extra, missing int64
	q := "SELECT (SELECT count(*) FROM " + beam + "), (SELECT count(*) FROM (SELECT * FROM " + beam + " EXCEPT ALL SELECT * FROM " + duck +
		")), (SELECT count(*) FROM (SELECT * FROM " + duck + " EXCEPT ALL SELECT * FROM " + beam + "))"
	if err := db.QueryRow(q).Scan(&n, &extra, &missing); err != nil {
		t.Fatal(err)
	}
	if extra != 0 || missing != 0 || n < 30000 {
		var row string
		db.QueryRow("SELECT CAST(x AS VARCHAR) FROM (SELECT * FROM " + beam + " EXCEPT ALL SELECT * FROM " + duck + ") x LIMIT 1").Scan(&row)
		t.Fatalf("beam panel: %d rows, %d not in perf/panel, %d of perf/panel missing; e.g. %s", n, extra, missing, row)
	}
	// Each loan in one file, in (loan, month end) order.
	var split, unsorted int64
	q = "SELECT (SELECT count(*) FROM (SELECT loan_id FROM read_parquet(" + lake.Quote(filepath.Join(out, "panel/*.parquet")) +
		", filename = true) GROUP BY loan_id HAVING count(DISTINCT filename) > 1)), " +
		"(SELECT count(*) FROM (SELECT loan_id, month_end, lag(loan_id) OVER w AS pl, lag(month_end) OVER w AS pm FROM read_parquet(" +
		lake.Quote(filepath.Join(out, "panel/*.parquet")) + ", filename = true, file_row_number = true) WINDOW w AS (PARTITION BY filename ORDER BY file_row_number)) " +
		"WHERE pl > loan_id OR (pl = loan_id AND pm >= month_end))"
	if err := db.QueryRow(q).Scan(&split, &unsorted); err != nil {
		t.Fatal(err)
	}
	if split != 0 || unsorted != 0 {
		t.Fatalf("%d loans split over files, %d rows out of order", split, unsorted)
	}
	// A refused run (no lake) leaves the committed panel.
	if _, err := beamperf.Run(ctx, beamperf.Options{Lake: filepath.Join(dir, "nope"), AsOf: "2023-12-31", Out: out}); err == nil {
		t.Fatal("a run without a lake succeeded")
	}
	if m, _ := filepath.Glob(filepath.Join(out, "panel/*.parquet")); len(m) != 3 {
		t.Fatalf("after a refused run: %v", m)
	}
	if _, err := os.Stat(filepath.Join(out, "panel")); err != nil {
		t.Fatal(err)
	}
}
