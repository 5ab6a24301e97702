//go:build duckdb_arrow

package beamfeatures

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"qiandun/cmd/qiandun-beam/rowgroups"
	"qiandun/data/lake"
	"qiandun/features"
)

// TestListKept: the parts of a kept snapshot that the previous manifest
// does not list (a commit from before the Beam run wrote one) are added
// with their SHA-256 and rows, rows_<date> and extra.snapshots; a listed
// part is not listed twice.
func TestListKept(t *testing.T) {
	cat, err := features.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	layout, err := NewLayout(cat)
	if err != nil {
		t.Fatal(err)
	}
	staged := lake.New(t.TempDir())
	write := func(rel string, n int) {
		p := staged.TableDir(rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		err := rowgroups.Write(p, layout.Schema, compress.Codecs.Zstd, n, func(b *array.RecordBuilder, i int) {
			r := FeatRow{Loan: fmt.Sprint("L", i)}
			for c, col := range layout.cols {
				col(b.Field(c), &r)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	write(Table+"/as_of=2024-01-31/part-000.parquet", 2)
	write(Table+"/as_of=2024-01-31/part-001.parquet", 1)
	write(Table+"/as_of=2024-02-29/part-000.parquet", 4)
	m := features.NewManifest(Chain, features.SetBCard, cat)
	if err := features.AddOutput(staged, m, staged.TableDir(Table+"/as_of=2024-02-29/part-000.parquet"), 4); err != nil {
		t.Fatal(err)
	}
	m.Counts["rows_2024-02-29"] = 4
	m.Extra["snapshots"] = map[string]any{"2024-02-29": map[string]any{"rows": int64(4), "catalog_version": cat.Version}}
	if err := listKept(staged, m); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		Table + "/as_of=2024-02-29/part-000.parquet": 4,
		Table + "/as_of=2024-01-31/part-000.parquet": 2,
		Table + "/as_of=2024-01-31/part-001.parquet": 1,
	}
	if len(m.Outputs) != len(want) {
		t.Errorf("outputs %+v, want %v", m.Outputs, want)
	}
	for _, f := range m.Outputs {
		if n, ok := want[f.Path]; !ok || f.Rows != n || len(f.SHA256) != 64 {
			t.Errorf("output %+v, want %v", f, want)
		}
	}
	snaps := m.Extra["snapshots"].(map[string]any)
	if m.Counts["rows_2024-01-31"] != 3 || m.Counts["rows_2024-02-29"] != 4 || fmt.Sprint(snaps["2024-01-31"]) != "map[rows:3]" || len(snaps) != 2 {
		t.Errorf("counts %v, snapshots %v", m.Counts, snaps)
	}
}
