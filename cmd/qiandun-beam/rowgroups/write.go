package rowgroups

import (
	"bufio"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// batchRows is the rows of one record batch Write hands the Parquet
// writer.
const batchRows = 1 << 14

// Write writes n rows of schema as the Parquet file path (compressed by
// codec), fill appending row i to the builder's fields. It writes
// path.tmp, syncs it and renames it to path, so a retried bundle
// rewrites the same file and a reader never sees half of one. With no
// rows the file still has the schema.
func Write(path string, schema *arrow.Schema, codec compress.Compression, n int, fill func(b *array.RecordBuilder, i int)) error {
	if err := write(path+".tmp", schema, codec, n, fill); err != nil {
		return fmt.Errorf("rowgroups: %s: %w", path, err)
	}
	return os.Rename(path+".tmp", path)
}

func write(path string, schema *arrow.Schema, codec compress.Compression, n int, fill func(b *array.RecordBuilder, i int)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	props := parquet.NewWriterProperties(parquet.WithCompression(codec), parquet.WithCreatedBy("qiandun-beam"))
	pw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for lo := 0; lo == 0 || lo < n; lo += batchRows {
		for i := lo; i < min(n, lo+batchRows); i++ {
			fill(b, i)
		}
		rec := b.NewRecordBatch()
		err := pw.Write(rec)
		rec.Release()
		if err != nil {
			pw.Close()
			return err
		}
	}
	if err := pw.Close(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}
