//go:build duckdb_arrow

package beamperf

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

var money = &arrow.Decimal128Type{Precision: 18, Scale: 2}

// Schema is perf/panel's schema (data/perf/sql/panel.sql).
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "loan_id", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "month_end", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "mob", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "status", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "dpd", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "bucket", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "worst_dpd", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "outstanding_principal", Type: money, Nullable: true},
	{Name: "overdue_principal", Type: money, Nullable: true},
	{Name: "overdue_interest", Type: money, Nullable: true},
	{Name: "due_in_month", Type: money, Nullable: true},
	{Name: "paid_in_month", Type: money, Nullable: true},
	{Name: "settled", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "written_off", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

// writeFn writes one shard of the panel, sorted by loan and month end, as
// Dir/part-<shard>.parquet (by a temporary name and a rename, so a retried
// bundle rewrites the same file).
type writeFn struct {
	Dir string
}

func (fn *writeFn) ProcessElement(shard int, rows func(*RowRec) bool) error {
	var all []RowRec
	var r RowRec
	for rows(&r) {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b RowRec) int {
		return cmp.Or(cmp.Compare(a.Loan, b.Loan), cmp.Compare(a.MonthEnd, b.MonthEnd))
	})
	path := filepath.Join(fn.Dir, fmt.Sprintf("part-%03d.parquet", shard))
	if err := writeRows(path+".tmp", all); err != nil {
		return fmt.Errorf("beamperf: %s: %w", path, err)
	}
	return os.Rename(path+".tmp", path)
}

const batchRows = 1 << 14

func writeRows(path string, rows []RowRec) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithCreatedBy("qiandun-beam"))
	pw, err := pqarrow.NewFileWriter(Schema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, Schema)
	defer b.Release()
	for lo := 0; lo < len(rows); lo += batchRows {
		for _, r := range rows[lo:min(len(rows), lo+batchRows)] {
			b.Field(0).(*array.StringBuilder).Append(r.Loan)
			b.Field(1).(*array.Date32Builder).Append(arrow.Date32(r.MonthEnd))
			b.Field(2).(*array.Int32Builder).Append(int32(r.MOB))
			b.Field(3).(*array.StringBuilder).Append(r.Status)
			b.Field(4).(*array.Int32Builder).Append(int32(r.DPD))
			b.Field(5).(*array.StringBuilder).Append(r.Bucket)
			b.Field(6).(*array.Int32Builder).Append(int32(r.Worst))
			for k, v := range []int64{r.Outstanding, r.OverdueP, r.OverdueI, r.DueInMonth, r.PaidInMonth} {
				b.Field(7 + k).(*array.Decimal128Builder).Append(decimal128.FromI64(v))
			}
			b.Field(12).(*array.BooleanBuilder).Append(r.Settled)
			b.Field(13).(*array.BooleanBuilder).Append(r.WrittenOff)
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
