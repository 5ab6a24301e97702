//go:build duckdb_arrow

package beamscore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"qiandun/cmd/qiandun-beam/beamscore"
	"qiandun/cmd/qiandun-beam/internal/testbook"
	"qiandun/scoring/publish"
	"qiandun/scoring/score"
)

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

// TestScoreEqualsDuckDB scores a generated book's B-card snapshot and its
// A-card snapshot (the scoring window with fraud flags, and the whole
// snapshot) with `qiandun score` (DuckDB input, package score) and with
// the Beam pipeline on Prism, the snapshot rewritten as two files of row
// groups of 100 rows so that it is many restrictions: the CSV lines,
// sorted, are the same bytes; the Parquet rows, sorted, the same values;
// the manifest counts, window and PSI agree; the published directory
// verifies; a refused run leaves it intact.
func TestScoreEqualsDuckDB(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	book, err := testbook.Build(ctx, dir, 3000, true)
	if err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small")
	for _, set := range []string{"acard", "bcard"} {
		snap := "features/" + set + "/as_of=2023-12-31"
		if n := rewriteRowGroups(t, filepath.Join(book.Lake, snap), filepath.Join(small, snap), 100); n < 4 {
			t.Fatalf("the %s snapshot has %d row groups, want several", set, n)
		}
	}
	if err := os.CopyFS(filepath.Join(small, "features/fraud_flags"), os.DirFS(filepath.Join(book.Lake, "features/fraud_flags"))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, model string
		full        bool
		prev        string // as-of of a published run under the output roots
		min         int64
	}{
		{"bcard", book.BCard, false, "", 300},
		// No previous run: the window is the as-of month (2023-12-01 to
		// before 2023-12-31), a few applications of the test book.
		{"acard as-of month window", book.ACard, false, "", 1},
		{"acard window since the previous run", book.ACard, false, "2023-01-31", 200},
		{"acard full", book.ACard, true, "", 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			if tc.prev != "" {
				for _, r := range []string{"duck", "beam"} {
					if err := os.MkdirAll(filepath.Join(out, r, tc.prev), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(out, r, tc.prev, "manifest.json"), []byte("{}"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			want, wdir, err := score.Run(ctx, score.Options{Lake: book.Lake, AsOf: "2023-12-31", Models: []string{tc.model}, Out: filepath.Join(out, "duck"), Full: tc.full})
			if err != nil {
				t.Fatal(err)
			}
			got, gdir, err := beamscore.Run(ctx, beamscore.Options{Lake: small, Model: tc.model, AsOf: "2023-12-31", Out: filepath.Join(out, "beam"), BatchRows: 128, Full: tc.full})
			if err != nil {
				t.Fatal(err)
			}
			compare(t, want, wdir, got, gdir, tc.min)
			// A refused run (no snapshot at that date) publishes nothing
			// and leaves the previous run as it was.
			_, _, err = beamscore.Run(ctx, beamscore.Options{Lake: small, Model: tc.model, AsOf: "2023-11-15", Out: filepath.Join(out, "beam")})
			if err == nil || !strings.Contains(err.Error(), "feature snapshot") {
				t.Fatalf("missing snapshot: %v", err)
			}
			if _, err := publish.Verify(gdir); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func compare(t *testing.T, want *score.Manifest, wdir string, got *score.Manifest, gdir string, minRows int64) {
	t.Helper()
	if got.Rows != want.Rows || got.Rows < minRows || (minRows == 0 && got.Rows != 0) {
		t.Fatalf("beam scored %d rows, qiandun score %d", got.Rows, want.Rows)
	}
	t.Logf("%d rows", got.Rows)
	wl, gl := csvLines(t, wdir), csvLines(t, gdir)
	if wl[0] != score.CSVHeader[:len(score.CSVHeader)-1] || gl[0] != wl[0] {
		t.Fatalf("headers %q, %q", gl[0], wl[0])
	}
	slices.Sort(wl[1:])
	slices.Sort(gl[1:])
	if !slices.Equal(wl, gl) {
		for i := range min(len(wl), len(gl)) {
			if wl[i] != gl[i] {
				t.Fatalf("sorted CSV line %d:\nbeam %s\nduck %s", i, gl[i], wl[i])
			}
		}
		t.Fatalf("CSV: %d lines, want %d", len(gl), len(wl))
	}
	wp, gp := parquetRows(t, filepath.Join(wdir, "scores.parquet")), parquetRows(t, filepath.Join(gdir, "scores.parquet"))
	if !slices.Equal(wp, gp) || int64(len(gp)) != got.Rows {
		t.Fatalf("Parquet rows differ: %d beam, %d duck", len(gp), len(wp))
	}
	wm, gm := want.Models[0], got.Models[0]
	if !mapsEqual(wm.Grades, gm.Grades) || !mapsEqual(wm.Decisions, gm.Decisions) || !slices.Equal(wm.Fallbacks, gm.Fallbacks) {
		t.Fatalf("manifest counts: beam %+v %+v %+v, duck %+v %+v %+v", gm.Grades, gm.Decisions, gm.Fallbacks, wm.Grades, wm.Decisions, wm.Fallbacks)
	}
	if (wm.Window == nil) != (gm.Window == nil) || (wm.Window != nil && *wm.Window != *gm.Window) {
		t.Fatalf("window: beam %v, duck %v", gm.Window, wm.Window)
	}
	if d := gm.Monitoring.ScorePSI - wm.Monitoring.ScorePSI; d > 1e-9 || d < -1e-9 || len(gm.Monitoring.CSI) != len(wm.Monitoring.CSI) {
		t.Fatalf("monitoring: beam %+v, duck %+v", gm.Monitoring, wm.Monitoring)
	}
	if _, err := publish.Verify(gdir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(gdir, "_parts")); !os.IsNotExist(err) {
		t.Fatalf("parts left in the published directory: %v", err)
	}
}

func csvLines(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "scores.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// rewriteRowGroups copies the Parquet snapshot in src to two files in dst
// with row groups of rows rows, and returns the number of row groups.
func rewriteRowGroups(t *testing.T, src, dst string, rows int64) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(src, "*.parquet"))
	if len(files) != 1 {
		t.Fatalf("%d snapshot files in %s", len(files), src)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	// Batches of rows rows, the first half to part-0, the rest to part-1.
	tr := array.NewTableReader(tbl, rows)
	defer tr.Release()
	var recs []arrow.RecordBatch
	for tr.Next() {
		r := tr.RecordBatch()
		r.Retain()
		recs = append(recs, r)
	}
	groups := 0
	for k, half := range [][]arrow.RecordBatch{recs[:len(recs)/2], recs[len(recs)/2:]} {
		part := array.NewTableFromRecords(tbl.Schema(), half)
		out, err := os.Create(filepath.Join(dst, fmt.Sprintf("part-%d.parquet", k)))
		if err != nil {
			t.Fatal(err)
		}
		if err := pqarrow.WriteTable(part, out, rows, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()); err != nil {
			t.Fatal(err)
		}
		out.Close()
		part.Release()
		groups += len(half)
	}
	for _, r := range recs {
		r.Release()
	}
	return groups
}

// parquetRows reads every row of a scores.parquet as text, sorted.
func parquetRows(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), f, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var names []string
	for _, fl := range tbl.Schema().Fields() {
		names = append(names, fl.Name)
	}
	if strings.Join(names, ",")+"\n" != score.CSVHeader {
		t.Fatalf("%s: columns %v", path, names)
	}
	tr := array.NewTableReader(tbl, 1024)
	defer tr.Release()
	var out []string
	for tr.Next() {
		rec := tr.RecordBatch()
		for i := range int(rec.NumRows()) {
			var b strings.Builder
			for c := range int(rec.NumCols()) {
				b.WriteString(cell(rec.Column(c), i))
				b.WriteByte('|')
			}
			out = append(out, b.String())
		}
	}
	slices.Sort(out)
	return out
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	if d, ok := a.(*array.Dictionary); ok {
		return cell(d.Dictionary(), d.GetValueIndex(i))
	}
	return a.ValueStr(i)
}
