package rowgroups_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"qiandun/cmd/qiandun-beam/rowgroups"
)

// TestRead writes 1,000 rows (a = i, b = 2i) in row groups of 300 and
// reads each row group back, columns in the order asked: 4 row groups,
// each holding exactly its rows, every row once; a missing column and a
// missing file are errors naming them.
func TestRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.parquet")
	sc := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}, {Name: "b", Type: arrow.PrimitiveTypes.Int64}}, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	for i := range int64(1000) {
		bld.Field(0).(*array.Int64Builder).Append(i)
		bld.Field(1).(*array.Int64Builder).Append(2 * i)
	}
	rec := bld.NewRecordBatch()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pqarrow.WriteTable(tbl, f, 300, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	n, err := rowgroups.Count(path)
	if err != nil || n != 4 {
		t.Fatalf("%d row groups, %v; want 4", n, err)
	}
	next := int64(0)
	for rg := range n {
		rows := int64(0)
		err := rowgroups.Read(context.Background(), path, rg, []string{"b", "a"}, 128, func(r arrow.RecordBatch) error {
			if r.NumRows() > 128 || r.ColumnName(0) != "b" || r.ColumnName(1) != "a" {
				t.Fatalf("batch of %d rows, columns %s %s", r.NumRows(), r.ColumnName(0), r.ColumnName(1))
			}
			b, a := r.Column(0).(*array.Int64), r.Column(1).(*array.Int64)
			for i := range a.Len() {
				if a.Value(i) != next || b.Value(i) != 2*next {
					t.Fatalf("row group %d: row (%d, %d), want (%d, %d)", rg, a.Value(i), b.Value(i), next, 2*next)
				}
				next++
				rows++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := min(int64(300), 1000-int64(rg)*300); rows != want {
			t.Fatalf("row group %d: %d rows, want %d", rg, rows, want)
		}
	}
	if next != 1000 {
		t.Fatalf("%d rows read, want 1000", next)
	}
	err = rowgroups.Read(context.Background(), path, 0, []string{"a", "zz"}, 128, func(arrow.RecordBatch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `"zz"`) || !strings.Contains(err.Error(), path) {
		t.Fatalf("missing column: %v", err)
	}
	if _, err := rowgroups.Count(path + ".nope"); err == nil {
		t.Fatal("a missing file counted")
	}
}
