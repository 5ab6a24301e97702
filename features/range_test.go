package features

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"qiandun/data/lake"
)

// TestRangedSnapshot writes the same A-card snapshot whole and in
// app_idx ranges: the ranged files, read in name order, hold the same
// rows in the same order, each range its share, and the fraud flags are
// the same.
func TestRangedSnapshot(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	const apps = 3000
	synthLake(t, root, apps)
	l := lake.New(root)
	asOf, err := time.Parse(time.DateOnly, benchAsOf)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	build := func(rangeRows int64) (Snapshot, lake.Lake) {
		t.Helper()
		db, err := l.OpenDB(ctx, lake.DBOptions{MemoryLimit: "1GB", Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		b := NewBuilder(l, cat, conn, nil)
		b.Out = lake.New(t.TempDir())
		b.rangeRows = rangeRows
		s, err := b.Build(ctx, SetACard, asOf)
		if err != nil {
			t.Fatal(err)
		}
		return s, b.Out
	}
	whole, wholeOut := build(0)
	ranged, rangedOut := build(700)

	if want := []string{"part-0.parquet"}; !slices.Equal(whole.Files, want) {
		t.Fatalf("whole snapshot files %v, want %v", whole.Files, want)
	}
	want := []string{"part-0000.parquet", "part-0001.parquet", "part-0002.parquet", "part-0003.parquet", "part-0004.parquet"}
	if !slices.Equal(ranged.Files, want) {
		t.Fatalf("ranged snapshot files %v, want %v", ranged.Files, want)
	}
	if whole.Rows != apps || ranged.Rows != apps {
		t.Fatalf("rows: whole %d, ranged %d, want %d", whole.Rows, ranged.Rows, apps)
	}
	dir := func(out lake.Lake, s Snapshot) string {
		r, err := filepath.Rel(l.Root, s.Path)
		if err != nil {
			t.Fatal(err)
		}
		return out.TableDir(filepath.ToSlash(r))
	}
	var n int64
	for i, f := range ranged.Files {
		rows, err := lake.ParquetRows(filepath.Join(dir(rangedOut, ranged), f))
		if err != nil {
			t.Fatal(err)
		}
		if wantRows := min(int64(apps)-int64(i)*700, 700); rows != wantRows {
			t.Errorf("%s: %d rows, want %d", f, rows, wantRows)
		}
		n += rows
	}
	if n != apps {
		t.Errorf("files hold %d rows, want %d", n, apps)
	}

	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "1GB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every column of every row, in file order; the whole file is the
	// reference.
	rowsOf := func(glob string) []string {
		t.Helper()
		rs, err := db.Query(fmt.Sprintf("SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet(%s, filename = false)", lake.Quote(glob)))
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		cols, _ := rs.Columns()
		var out []string
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a := rowsOf(filepath.Join(dir(wholeOut, whole), "*.parquet"))
	b := rowsOf(filepath.Join(dir(rangedOut, ranged), "*.parquet"))
	if len(a) != apps || !slices.Equal(a, b) {
		t.Errorf("ranged snapshot differs from the whole one (%d and %d rows)", len(a), len(b))
	}
	if !slices.IsSorted(a) {
		t.Errorf("snapshot rows not in application_id order")
	}
	fa := rowsOf(filepath.Join(dir(wholeOut, Snapshot{Path: whole.FlagsPath}), "*.parquet"))
	fb := rowsOf(filepath.Join(dir(rangedOut, Snapshot{Path: ranged.FlagsPath}), "*.parquet"))
	slices.Sort(fa)
	slices.Sort(fb)
	if len(fa) == 0 || !slices.Equal(fa, fb) {
		t.Errorf("fraud flags differ: %d and %d rows", len(fa), len(fb))
	}
}
