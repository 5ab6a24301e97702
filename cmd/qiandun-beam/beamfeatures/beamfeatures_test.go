//go:build duckdb_arrow

package beamfeatures_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"qiandun/cmd/qiandun-beam/beamfeatures"
	"qiandun/cmd/qiandun-beam/internal/testbook"
	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/features"
)

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

// TestBCardEqualsDuckDB builds B-card snapshots of a generated, ingested
// book (with A-card scores for two applications in three and some early
// payments) at three month
// ends on Beam (Prism) and with the features stage (DuckDB) and compares
// them: the same columns and types, the same rows (as multisets, every
// column, doubles exactly), every feature taking at least two values in
// the book (so each definition is exercised), each loan in one file,
// files sorted by loan; a run of one date keeps the others; a refused run
// leaves the snapshots.
func TestBCardEqualsDuckDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	book, err := testbook.Build(ctx, dir, 3000, false)
	if err != nil {
		t.Fatal(err)
	}
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "1GB", TempDir: filepath.Join(dir, "_tmp")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// scores_acard: a score for two applications in three.
	if err := os.MkdirAll(filepath.Join(book.Lake, "scores_acard"), 0o755); err != nil {
		t.Fatal(err)
	}
	exec(t, db, "COPY (SELECT application_id, CAST(hash(application_id) % 600 AS DOUBLE) / 7 AS score FROM read_parquet("+
		lake.Quote(filepath.Join(book.Lake, "loans/*.parquet"))+") WHERE hash(application_id) % 3 <> 0) TO "+
		lake.Quote(filepath.Join(book.Lake, "scores_acard/part-0.parquet"))+" (FORMAT parquet)")
	// Prepayments: the generator books none more than 30 days early, so
	// one loan in eight pays 1.00 of its third installment 45 days before
	// it is due; perf's intermediates are recomputed with them.
	rp := func(t string) string { return lake.Quote(filepath.Join(book.Lake, t+"/*.parquet")) }
	exec(t, db, "CREATE TABLE extra AS SELECT * FROM read_parquet("+rp("repayments")+") LIMIT 0")
	exec(t, db, "INSERT INTO extra BY NAME SELECT 'PRE' || s.loan_id AS txn_id, s.loan_id, s.installment_no, "+
		"CAST(s.due_date - 45 AS TIMESTAMP) + INTERVAL 10 HOUR AS paid_at, 1.00 AS principal_paid, 0 AS interest_paid, 0 AS penalty_paid "+
		"FROM read_parquet("+rp("repayment_schedule")+") s JOIN read_parquet("+rp("loans")+") l USING (loan_id) "+
		"WHERE s.installment_no = 3 AND hash(s.loan_id) % 8 = 0 AND s.due_date - 45 > l.issue_date")
	exec(t, db, "COPY extra TO "+lake.Quote(filepath.Join(book.Lake, "repayments/part-prepay.parquet"))+" (FORMAT parquet)")
	pc := perf.DefaultConfig()
	pc.AsOf = book.AsOf
	if _, err := perf.Run(ctx, lake.New(book.Lake), pc, nil); err != nil {
		t.Fatal(err)
	}
	dates := []string{"2022-11-30", "2023-05-31", "2023-12-31"}
	var ends []time.Time
	for _, d := range dates {
		x, _ := time.Parse(time.DateOnly, d)
		ends = append(ends, x)
	}
	if _, err := features.Run(ctx, lake.New(book.Lake), features.SetBCard, ends, lake.DBOptions{MemoryLimit: "1GB"}, nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "beam")
	snaps, err := beamfeatures.Run(ctx, beamfeatures.Options{Lake: book.Lake, AsOf: dates, Out: out, Shards: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != len(dates) {
		t.Fatalf("%d snapshots, want %d", len(snaps), len(dates))
	}
	for _, s := range snaps {
		compare(t, db, s, filepath.Join(book.Lake, "features/bcard/as_of="+s.AsOf+"/*.parquet"))
	}
	exercised(t, db, filepath.Join(book.Lake, "features/bcard/*/*.parquet"))
	// One date again: the others stay.
	if _, err := beamfeatures.Run(ctx, beamfeatures.Options{Lake: book.Lake, AsOf: dates[1:2], Out: out, Shards: 2}); err != nil {
		t.Fatal(err)
	}
	// A refused run leaves the committed snapshots.
	if _, err := beamfeatures.Run(ctx, beamfeatures.Options{Lake: filepath.Join(dir, "nope"), AsOf: dates[:1], Out: out}); err == nil {
		t.Fatal("a run without a lake succeeded")
	}
	for k, want := range []int{3, 2, 3} {
		got, _ := filepath.Glob(filepath.Join(out, "features/bcard/as_of="+dates[k]+"/part-*.parquet"))
		if len(got) != want {
			t.Errorf("as of %s after the re-run: files %v, want %d", dates[k], got, want)
		}
		snaps[k].Dir = filepath.Join(out, "features/bcard/as_of="+dates[k])
		compare(t, db, snaps[k], filepath.Join(book.Lake, "features/bcard/as_of="+dates[k]+"/*.parquet"))
	}
}

// compare asserts that the Beam snapshot s equals the DuckDB snapshot at
// the glob duckGlob.
func compare(t *testing.T, db *sql.DB, s beamfeatures.Snapshot, duckGlob string) {
	t.Helper()
	beamGlob := filepath.Join(s.Dir, "*.parquet")
	duck, beam := "read_parquet("+lake.Quote(duckGlob)+")", "read_parquet("+lake.Quote(beamGlob)+")"
	schema := func(src string) string {
		var x string
		if err := db.QueryRow("SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM " + src + ")").Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	if a, b := schema(beam), schema(duck); a != b {
		t.Fatalf("as of %s: schema:\nbeam %s\nduck %s", s.AsOf, a, b)
	}
	var n, nd, extra, missing int64
	q := "SELECT (SELECT count(*) FROM " + beam + "), (SELECT count(*) FROM " + duck + "), (SELECT count(*) FROM (SELECT * FROM " + beam +
		" EXCEPT ALL SELECT * FROM " + duck + ")), (SELECT count(*) FROM (SELECT * FROM " + duck + " EXCEPT ALL SELECT * FROM " + beam + "))"
	if err := db.QueryRow(q).Scan(&n, &nd, &extra, &missing); err != nil {
		t.Fatal(err)
	}
	if extra != 0 || missing != 0 || n != nd || n < 500 {
		t.Errorf("as of %s: beam %d rows, duckdb %d; %d beam rows not in duckdb's, %d of duckdb's missing", s.AsOf, n, nd, extra, missing)
		for _, side := range [][2]string{{beam, duck}, {duck, beam}} {
			var row string
			db.QueryRow("SELECT CAST(x AS VARCHAR) FROM (SELECT * FROM " + side[0] + " EXCEPT ALL SELECT * FROM " + side[1] + " ORDER BY loan_id) x LIMIT 1").Scan(&row)
			t.Logf("e.g. %s", row)
		}
	}
	if n != s.Rows {
		t.Errorf("as of %s: Run reported %d rows, the files hold %d", s.AsOf, s.Rows, n)
	}
	var split, unsorted int64
	q = "SELECT (SELECT count(*) FROM (SELECT loan_id FROM read_parquet(" + lake.Quote(beamGlob) + ", filename = true) GROUP BY loan_id HAVING count(DISTINCT filename) > 1)), " +
		"(SELECT count(*) FROM (SELECT loan_id, lag(loan_id) OVER w AS pl FROM read_parquet(" + lake.Quote(beamGlob) +
		", filename = true, file_row_number = true) WINDOW w AS (PARTITION BY filename ORDER BY file_row_number)) WHERE pl >= loan_id)"
	if err := db.QueryRow(q).Scan(&split, &unsorted); err != nil {
		t.Fatal(err)
	}
	if split != 0 || unsorted != 0 {
		t.Errorf("as of %s: %d loans split over files, %d rows out of order", s.AsOf, split, unsorted)
	}
}

// exercised asserts that every column of the DuckDB snapshots takes at
// least two distinct values (NULL counting as one), so equality tests
// each feature's definition and not a constant.
func exercised(t *testing.T, db *sql.DB, glob string) {
	t.Helper()
	cat, err := features.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var sel []string
	fs := cat.Set(features.SetBCard)
	for _, f := range fs {
		sel = append(sel, fmt.Sprintf("count(DISTINCT %s) + (count(*) > count(%s))::INT", f.Name, f.Name))
	}
	vals := make([]any, len(fs))
	got := make([]int64, len(fs))
	for k := range got {
		vals[k] = &got[k]
	}
	if err := db.QueryRow("SELECT " + strings.Join(sel, ", ") + " FROM read_parquet(" + lake.Quote(glob) + ")").Scan(vals...); err != nil {
		t.Fatal(err)
	}
	for k, f := range fs {
		if got[k] < 2 {
			t.Errorf("feature %s takes %d value(s) in the test book: its equality proves little", f.Name, got[k])
		}
	}
}

func exec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
