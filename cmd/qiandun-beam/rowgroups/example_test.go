package rowgroups_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"qiandun/cmd/qiandun-beam/rowgroups"
)

// Reading the second row group of a file of five rows in row groups of
// two: rows 2 and 3 only.
func ExampleRead() {
	dir, _ := os.MkdirTemp("", "rowgroups-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ids.parquet")
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"L0", "L1", "L2", "L3", "L4"}, nil)
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{b.NewRecordBatch()})
	f, _ := os.Create(path)
	pqarrow.WriteTable(tbl, f, 2, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	f.Close()

	n, _ := rowgroups.Count(path)
	fmt.Println("row groups:", n)
	rowgroups.Read(context.Background(), path, 1, []string{"id"}, 1024, func(rec arrow.RecordBatch) error {
		fmt.Println(rec.Column(0))
		return nil
	})
	// Output:
	// row groups: 3
	// ["L2" "L3"]
}
