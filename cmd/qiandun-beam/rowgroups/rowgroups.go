// Package rowgroups reads Parquet files a row group at a time, the unit of
// work of qiandun-beam's splittable DoFns: a file's restriction is the
// offset range [0, row groups), so a runner can split a large file across
// workers and no worker holds a whole file in memory (Beam Go's own
// parquetio reads each file whole).
package rowgroups

import (
	"context"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Count returns the number of row groups of the Parquet file at path.
func Count(path string) (int, error) {
	groups, _, err := stat(path)
	return groups, err
}

// NumRows returns the number of rows of the Parquet file at path (from
// its footer).
func NumRows(path string) (int64, error) {
	_, rows, err := stat(path)
	return rows, err
}

func stat(path string) (int, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("rowgroups: %w", err)
	}
	defer f.Close()
	r, err := file.NewParquetReader(f)
	if err != nil {
		return 0, 0, fmt.Errorf("rowgroups: %s: %w", path, err)
	}
	defer r.Close()
	return r.NumRowGroups(), r.NumRows(), nil
}

// Read calls fn with the record batches (of up to batch rows) of row group
// rg of the Parquet file at path, holding only the named columns, in the
// order given. A column missing from the file is an error naming it.
// The batches are valid only during fn.
func Read(ctx context.Context, path string, rg int, cols []string, batch int64, fn func(arrow.RecordBatch) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("rowgroups: %w", err)
	}
	defer f.Close()
	pr, err := file.NewParquetReader(f)
	if err != nil {
		return fmt.Errorf("rowgroups: %s: %w", path, err)
	}
	defer pr.Close()
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: batch}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("rowgroups: %s: %w", path, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return fmt.Errorf("rowgroups: %s: %w", path, err)
	}
	idx := make([]int, len(cols))
	for k, c := range cols {
		ix := sc.FieldIndices(c)
		if len(ix) != 1 {
			return fmt.Errorf("rowgroups: %s: column %q not in the file", path, c)
		}
		idx[k] = ix[0]
	}
	rr, err := fr.GetRecordReader(ctx, idx, []int{rg})
	if err != nil {
		return fmt.Errorf("rowgroups: %s row group %d: %w", path, rg, err)
	}
	defer rr.Release()
	// The reader yields the columns in file order; put them in the order asked.
	var order []int
	for rr.Next() {
		rec := rr.RecordBatch()
		if order == nil {
			order = make([]int, len(cols))
			for k, c := range cols {
				ix := rec.Schema().FieldIndices(c)
				if len(ix) != 1 {
					return fmt.Errorf("rowgroups: %s: column %q not read", path, c)
				}
				order[k] = ix[0]
			}
		}
		fields := make([]arrow.Field, len(cols))
		arrs := make([]arrow.Array, len(cols))
		for k, j := range order {
			fields[k], arrs[k] = rec.Schema().Field(j), rec.Column(j)
		}
		out := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows())
		err := fn(out)
		out.Release()
		if err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("rowgroups: %s row group %d: %w", path, rg, err)
	}
	return nil
}
