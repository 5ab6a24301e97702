//go:build duckdb_arrow

package beamfeatures_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"qiandun/cmd/qiandun-beam/beamfeatures"
	"qiandun/cmd/qiandun-beam/internal/testbook"
	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/features"
	"qiandun/internal/durable"
)

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

// TestBCardEqualsDuckDB builds B-card snapshots of a generated, ingested
// book (with A-card scores for two applications in three and some early
// payments) at three month
// ends on Beam (Prism) and with the features stage (DuckDB) and compares
// them: the same columns and types, the same rows (as multisets, every
// column, doubles exactly), every feature taking at least two values in
// the book (so each definition is exercised), each loan in one file,
// files sorted by loan; the commit's catalog.csv byte for byte the
// stage's and its manifest listing every input and part (checkCommit); a
// run of one date keeps the others; a refused run leaves the snapshots,
// the catalog and the manifest.
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
	checkCommit(t, db, book.Lake, out, dates)
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
	checkCommit(t, db, book.Lake, out, dates)
}

// checkCommit asserts what the Beam commit at out holds besides the
// snapshots at dates: features/catalog.csv, byte for byte the one
// `qiandun features` wrote to lakeDir, and the manifest
// _manifests/features-bcard-beam.json: the features stage's catalog
// version, feature count and code version; every lake file the run reads
// with its SHA-256 and rows (the stage's entry where it lists the file);
// every part of every snapshot and the catalog, no other file, each with
// its SHA-256 and rows; per date, rows_<date> and extra.snapshots equal
// to the rows read back; config.as_of the dates; no loan or borrower id.
func checkCommit(t *testing.T, db *sql.DB, lakeDir, out string, dates []string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join(lakeDir, features.CatalogFile))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, features.CatalogFile))
	if err != nil {
		t.Fatalf("beam catalog: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("beam catalog.csv (%d bytes) differs from the features stage's (%d bytes)", len(got), len(want))
	}
	raw, err := os.ReadFile(lake.New(out).ManifestPath(beamfeatures.Chain))
	if err != nil {
		t.Fatalf("beam manifest: %v", err)
	}
	m, err := lake.New(out).ReadManifest(beamfeatures.Chain)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := lake.New(lakeDir).ReadManifest("features-" + features.SetBCard)
	if err != nil {
		t.Fatal(err)
	}
	if m.Stage != beamfeatures.Chain || m.Version == "" || m.Version != dm.Version || m.Finished.Before(m.Started) {
		t.Errorf("manifest stage %q version %q (stage's %q), started %v finished %v", m.Stage, m.Version, dm.Version, m.Started, m.Finished)
	}
	for _, k := range []string{"catalog_version", "features"} {
		if fmt.Sprint(m.Extra[k]) != fmt.Sprint(dm.Extra[k]) || m.Extra[k] == nil {
			t.Errorf("manifest extra.%s %v, the stage's %v", k, m.Extra[k], dm.Extra[k])
		}
	}
	if a := fmt.Sprint(m.Config["as_of"]); a != fmt.Sprint(dates) || m.Config["set"] != features.SetBCard {
		t.Errorf("manifest config %v, want set bcard and as_of %v", m.Config, dates)
	}
	// Inputs: every file of the tables read, as the stage lists it.
	stageIn := map[string]lake.File{}
	for _, f := range dm.Inputs {
		stageIn[f.Path] = f
	}
	var files []string
	for _, tb := range []string{"loans", "repayment_schedule", "repayments", "collection_events", "bureau_inquiries", "scores_acard"} {
		g, _ := filepath.Glob(filepath.Join(lakeDir, tb, "*.parquet"))
		files = append(files, g...)
	}
	if len(m.Inputs) != len(files) {
		t.Errorf("manifest: %d inputs, the lake has %d files of the tables read", len(m.Inputs), len(files))
	}
	for _, f := range files {
		r, _ := filepath.Rel(lakeDir, f)
		e := fileEntry(t, db, m.Inputs, filepath.ToSlash(r), f, -1)
		if s, ok := stageIn[filepath.ToSlash(r)]; ok && s != e {
			t.Errorf("manifest input %s differs from the stage's %+v", r, s)
		}
	}
	// Outputs: the catalog and every part, nothing else.
	parts, _ := filepath.Glob(filepath.Join(out, "features/bcard/as_of=*/part-*.parquet"))
	if len(m.Outputs) != len(parts)+1 {
		t.Errorf("manifest: %d outputs, want %d parts and the catalog", len(m.Outputs), len(parts))
	}
	cat, err := features.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	fileEntry(t, db, m.Outputs, features.CatalogFile, filepath.Join(out, features.CatalogFile), int64(len(cat.Features)))
	snaps, _ := m.Extra["snapshots"].(map[string]any)
	for _, d := range dates {
		dir := "features/bcard/as_of=" + d
		var sum int64
		ps, _ := filepath.Glob(filepath.Join(out, dir, "part-*.parquet"))
		for _, p := range ps {
			sum += fileEntry(t, db, m.Outputs, dir+"/"+filepath.Base(p), p, -1).Rows
		}
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + lake.Quote(filepath.Join(out, dir, "*.parquet")) + ")").Scan(&n); err != nil {
			t.Fatal(err)
		}
		s, _ := snaps[d].(map[string]any)
		if len(ps) == 0 || sum != n || m.Counts["rows_"+d] != n || fmt.Sprint(s["rows"]) != fmt.Sprint(n) || s["catalog_version"] != m.Extra["catalog_version"] {
			t.Errorf("as of %s: %d parts listing %d rows, rows_%s %d, extra.snapshots %v; the files hold %d", d, len(ps), sum, d, m.Counts["rows_"+d], s, n)
		}
	}
	// No PII: no loan or borrower id of the book.
	var loan, borrower string
	if err := db.QueryRow("SELECT loan_id, borrower_id FROM read_parquet("+lake.Quote(filepath.Join(lakeDir, "loans/*.parquet"))+") LIMIT 1").Scan(&loan, &borrower); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(loan)) || bytes.Contains(raw, []byte(borrower)) {
		t.Errorf("the manifest holds loan %s or borrower %s", loan, borrower)
	}
}

// fileEntry returns the entry for rel in files and asserts it has the
// SHA-256 of the file at path and its rows: want, or (want < 0) the rows
// DuckDB reads from it.
func fileEntry(t *testing.T, db *sql.DB, files []lake.File, rel, path string, want int64) lake.File {
	t.Helper()
	i := slices.IndexFunc(files, func(f lake.File) bool { return f.Path == rel })
	if i < 0 {
		t.Errorf("manifest lists no %s", rel)
		return lake.File{}
	}
	sum, err := durable.SHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	if want < 0 {
		if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + lake.Quote(path) + ")").Scan(&want); err != nil {
			t.Fatal(err)
		}
	}
	if f := files[i]; f.SHA256 != sum || f.Rows != want {
		t.Errorf("manifest %s: sha256 %s rows %d, the file's %s and %d", rel, f.SHA256, f.Rows, sum, want)
	}
	return files[i]
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
