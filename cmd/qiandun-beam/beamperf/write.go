//go:build duckdb_arrow

package beamperf

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"qiandun/cmd/qiandun-beam/rowgroups"
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
	if err := rowgroups.Write(path, Schema, compress.Codecs.Snappy, len(all), func(b *array.RecordBuilder, i int) { appendRow(b, &all[i]) }); err != nil {
		return fmt.Errorf("beamperf: %w", err)
	}
	return nil
}

// appendRow appends r to the builder of Schema.
func appendRow(b *array.RecordBuilder, r *RowRec) {
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
