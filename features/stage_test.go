package features

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qiandun/data/lake"
	"qiandun/internal/duckdbtest"
	"qiandun/internal/durable"
)

func TestMonthEnds(t *testing.T) {
	d := func(s string) time.Time { x, _ := time.Parse(time.DateOnly, s); return x }
	got, err := MonthEnds(d("2023-11-15"), d("2024-02-01"))
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, x := range got {
		s = append(s, DateString(x))
	}
	if strings.Join(s, " ") != "2023-11-30 2023-12-31 2024-01-31 2024-02-29" {
		t.Errorf("month ends %v", s)
	}
	if _, err := MonthEnds(d("2024-02-01"), d("2024-01-01")); err == nil {
		t.Error("empty range accepted")
	}
}

// TestRunManifestAndRerun checks the stage's outputs: catalog CSV,
// manifest with catalog version, row counts, input checksums, snapshots
// of earlier runs kept, and byte-identical output on a re-run.
func TestRunManifestAndRerun(t *testing.T) {
	root := t.TempDir()
	writeLake(t, root, "part-0", bcardLake())
	l := lake.New(root)
	ctx := context.Background()
	opts := lake.DBOptions{MemoryLimit: "1GB", Threads: 2}
	d1, _ := time.Parse(time.DateOnly, "2024-05-31")
	d2, _ := time.Parse(time.DateOnly, "2024-06-30")
	if _, err := Run(ctx, l, SetBCard, []time.Time{d1, d2}, opts, nil); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(Dir(l, SetBCard, d2), "part-0.parquet")
	sum1, err := durable.SHA256(part)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, l, SetBCard, []time.Time{d2}, opts, nil); err != nil {
		t.Fatal(err)
	}
	if sum2, _ := durable.SHA256(part); sum2 != sum1 {
		t.Errorf("re-run wrote different bytes: %s vs %s", sum1, sum2)
	}
	m, err := l.ReadManifest("features-bcard")
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := DefaultCatalog()
	if m.Extra["catalog_version"] != cat.Version {
		t.Errorf("manifest catalog version %v, want %s", m.Extra["catalog_version"], cat.Version)
	}
	// Both L1 and L2 are active at both month ends.
	if m.Counts["rows_2024-05-31"] != 2 || m.Counts["rows_2024-06-30"] != 2 {
		t.Errorf("counts %v: the 2024-05-31 snapshot of the first run must be kept", m.Counts)
	}
	var outs []string
	for _, o := range m.Outputs {
		outs = append(outs, o.Path)
		if o.SHA256 == "" {
			t.Errorf("output %s has no checksum", o.Path)
		}
	}
	for _, want := range []string{"features/bcard/as_of=2024-05-31/part-0.parquet", "features/bcard/as_of=2024-06-30/part-0.parquet", "features/catalog.csv"} {
		if !strings.Contains(strings.Join(outs, " "), want) {
			t.Errorf("outputs %v lack %s", outs, want)
		}
	}
	if len(m.Inputs) != len(InputTables())-1 { // the lake has no bureau_reports
		t.Errorf("%d inputs, want %d", len(m.Inputs), len(InputTables())-1)
	}
	for _, in := range m.Inputs {
		if in.SHA256 == "" || in.Rows <= 0 {
			t.Errorf("input %+v lacks checksum or rows", in)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "features", "catalog.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != len(cat.Features)+1 || !strings.HasPrefix(lines[0], "set,group,name,type") {
		t.Errorf("catalog.csv has %d lines, header %q", len(lines), lines[0])
	}
	// Nothing is left in the lake's temp area.
	if left, _ := filepath.Glob(filepath.Join(root, lake.TmpDir, "features-*")); len(left) > 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}

// TestCheckColumns: a group's SQL must give the key and then exactly its
// catalog features, in order; a missing, extra or reordered column is
// an error naming the file.
func TestCheckColumns(t *testing.T) {
	ctx := context.Background()
	conn := duckdbtest.Conn(t, lake.DBOptions{MemoryLimit: "256MB", TempDir: t.TempDir(), Threads: 1})
	b := NewBuilder(lake.New(t.TempDir()), Catalog{}, conn, nil)
	feats := func(names ...string) []Feature {
		var out []Feature
		for _, n := range names {
			out = append(out, Feature{Name: n, Type: "int"})
		}
		return out
	}
	const q = "SELECT 1 AS app_idx, 2 AS a, 3 AS b"
	for _, tc := range []struct {
		feats []Feature
		ok    bool
	}{
		{feats("a", "b"), true},
		{feats("a"), false},
		{feats("a", "b", "c"), false},
		{feats("b", "a"), false},
	} {
		err := b.checkColumns(ctx, q, "acard_x.sql", "app_idx", tc.feats)
		if tc.ok != (err == nil) {
			t.Errorf("features %v: err %v, want ok=%v", tc.feats, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "acard_x.sql") {
			t.Errorf("error %q does not name the file", err)
		}
	}
}
