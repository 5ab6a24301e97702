//go:build duckdb_arrow

package beamperf

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"

	"qiandun/cmd/qiandun-beam/rowgroups"
)

// LoanRec, InstRec and PayRec are the rows the panel needs (money in fen,
// dates in days since 1970-01-01).
type LoanRec struct {
	Issue     int32
	Principal int64
	Status    string
}

type InstRec struct {
	No                  int64
	Due                 int32
	Principal, Interest int64
}

type PayRec struct {
	No                           int64
	Paid                         int32
	Principal, Interest, Penalty int64
}

// columns are the columns read of each table.
var columns = map[string][]string{
	"loans":              {"loan_id", "issue_date", "principal", "status"},
	"repayment_schedule": {"loan_id", "installment_no", "due_date", "principal_due", "interest_due"},
	"repayments":         {"loan_id", "installment_no", "paid_at", "principal_paid", "interest_paid", "penalty_paid"},
	"collection_events":  {"event_time"},
}

// readFn is the splittable DoFn reading the lake tables a row group at a
// time: loans, installments and payments keyed by loan id, and every
// date that bounds the data (perf's default as-of: payments, issue and
// collection dates).
type readFn struct{ rowgroups.Splitter }

func (fn *readFn) ProcessElement(ctx context.Context, rt *sdf.LockRTracker, f rowgroups.File,
	loans func(string, LoanRec), insts func(string, InstRec), pays func(string, PayRec), days func(int32)) error {
	cols, ok := columns[f.Table]
	if !ok {
		return fmt.Errorf("beamperf: unknown table %q", f.Table)
	}
	return rowgroups.ReadClaimed(ctx, rt, f, cols, 1<<15, func(_ int, rec arrow.RecordBatch) error {
		return emitRows(f, rec, loans, insts, pays, days)
	})
}

func emitRows(f rowgroups.File, rec arrow.RecordBatch, loans func(string, LoanRec), insts func(string, InstRec), pays func(string, PayRec), days func(int32)) error {
	n := int(rec.NumRows())
	c := func(k int) arrow.Array { return rec.Column(k) }
	var err error
	bad := func(e error) {
		if err == nil && e != nil {
			err = fmt.Errorf("beamperf: %s: %w", f.Path, e)
		}
	}
	ids := func() *array.String {
		s, ok := c(0).(*array.String)
		if !ok {
			bad(fmt.Errorf("loan_id is %s, want a string", c(0).DataType()))
		}
		return s
	}
	switch f.Table {
	case "loans":
		id := ids()
		for i := 0; i < n && err == nil; i++ {
			d, e1 := day(c(1), i)
			p, e2 := fen(c(2), i)
			bad(e1)
			bad(e2)
			loans(id.Value(i), LoanRec{Issue: d, Principal: p, Status: c(3).ValueStr(i)})
			days(d)
		}
	case "repayment_schedule":
		id := ids()
		for i := 0; i < n && err == nil; i++ {
			no, e0 := integer(c(1), i)
			d, e1 := day(c(2), i)
			p, e2 := fen(c(3), i)
			in, e3 := fen(c(4), i)
			for _, e := range []error{e0, e1, e2, e3} {
				bad(e)
			}
			insts(id.Value(i), InstRec{No: no, Due: d, Principal: p, Interest: in})
		}
	case "repayments":
		id := ids()
		for i := 0; i < n && err == nil; i++ {
			no, e0 := integer(c(1), i)
			d, e1 := day(c(2), i)
			p, e2 := fen(c(3), i)
			in, e3 := fen(c(4), i)
			pen, e4 := fen(c(5), i)
			for _, e := range []error{e0, e1, e2, e3, e4} {
				bad(e)
			}
			pays(id.Value(i), PayRec{No: no, Paid: d, Principal: p, Interest: in, Penalty: pen})
			days(d)
		}
	case "collection_events":
		for i := 0; i < n && err == nil; i++ {
			if c(0).IsNull(i) {
				continue
			}
			d, e := day(c(0), i)
			bad(e)
			days(d)
		}
	}
	return err
}

// day is a DATE, or the date of a TIMESTAMP, in days since 1970-01-01.
func day(a arrow.Array, i int) (int32, error) {
	if a.IsNull(i) {
		return 0, fmt.Errorf("NULL date")
	}
	switch x := a.(type) {
	case *array.Date32:
		return int32(x.Value(i)), nil
	case *array.Timestamp:
		unit := x.DataType().(*arrow.TimestampType).Unit
		per := int64(24 * time.Hour / unit.Multiplier()) // ticks per day
		v := int64(x.Value(i))
		d := v / per
		if v%per < 0 {
			d--
		}
		return int32(d), nil
	}
	return 0, fmt.Errorf("a date column is %s", a.DataType())
}

// fen is a DECIMAL(18,2) amount in fen.
func fen(a arrow.Array, i int) (int64, error) {
	if a.IsNull(i) {
		return 0, fmt.Errorf("NULL amount")
	}
	switch x := a.(type) {
	case *array.Decimal128:
		if s := x.DataType().(*arrow.Decimal128Type).Scale; s != 2 {
			return 0, fmt.Errorf("amount of scale %d, want 2", s)
		}
		v := x.Value(i)
		return int64(v.LowBits()), nil
	case *array.Decimal64:
		if s := x.DataType().(*arrow.Decimal64Type).Scale; s != 2 {
			return 0, fmt.Errorf("amount of scale %d, want 2", s)
		}
		return int64(x.Value(i)), nil
	}
	return 0, fmt.Errorf("an amount column is %s, want DECIMAL(18,2)", a.DataType())
}

func integer(a arrow.Array, i int) (int64, error) {
	if a.IsNull(i) {
		return 0, fmt.Errorf("NULL installment_no")
	}
	switch x := a.(type) {
	case *array.Int32:
		return int64(x.Value(i)), nil
	case *array.Int64:
		return x.Value(i), nil
	case *array.Int16:
		return int64(x.Value(i)), nil
	}
	return 0, fmt.Errorf("installment_no is %s", a.DataType())
}
