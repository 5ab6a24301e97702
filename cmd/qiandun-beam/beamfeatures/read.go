//go:build duckdb_arrow

package beamfeatures

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"

	"qiandun/cmd/qiandun-beam/rowgroups"
)

// Score is an A-card score of an application (scores_acard).
type Score struct {
	Score float64
}

// columns are the columns read of each table; a table is optional when
// the DuckDB stage reads an empty one in its place.
var columns = map[string][]string{
	"loans":              {"loan_id", "borrower_id", "application_id", "issue_date", "principal", "status"},
	"repayment_schedule": {"loan_id", "installment_no", "due_date", "principal_due", "interest_due"},
	"repayments":         {"loan_id", "installment_no", "txn_id", "paid_at", "principal_paid", "interest_paid"},
	"collection_events":  {"loan_id", "event_time", "outcome"},
	"bureau_inquiries":   {"borrower_id", "query_date", "reason"},
	"scores_acard":       {"application_id", "score"},
}

// tables in the order they are listed; loans and its schedule are
// required.
var tables = []string{"loans", "repayment_schedule", "repayments", "collection_events", "bureau_inquiries", "scores_acard"}

// emitters are readFn's outputs: loans, installments, payments and
// collection events keyed by loan id, inquiries by borrower id, scores by
// application id.
type emitters struct {
	loans  func(string, Loan)
	insts  func(string, Inst)
	pays   func(string, Pay)
	events func(string, Event)
	inqs   func(string, Inquiry)
	scores func(string, Score)
}

// readFn is the splittable DoFn that reads the lake tables a row group at
// a time (package rowgroups).
type readFn struct{ rowgroups.Splitter }

func (fn *readFn) ProcessElement(ctx context.Context, rt *sdf.LockRTracker, f rowgroups.File,
	loans func(string, Loan), insts func(string, Inst), pays func(string, Pay), events func(string, Event),
	inqs func(string, Inquiry), scores func(string, Score)) error {
	cols, ok := columns[f.Table]
	if !ok {
		return fmt.Errorf("beamfeatures: unknown table %q", f.Table)
	}
	em := emitters{loans, insts, pays, events, inqs, scores}
	return rowgroups.ReadClaimed(ctx, rt, f, cols, 1<<15, func(rg int, rec arrow.RecordBatch) error {
		if err := emitRows(f.Table, rec, em); err != nil {
			return fmt.Errorf("beamfeatures: %s row group %d: %w", f.Path, rg, err)
		}
		return nil
	})
}

// reader reads typed values of a batch's columns, keeping the first error.
type reader struct {
	rec arrow.RecordBatch
	err error
}

func (r *reader) fail(i, col int, format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("row %d, column %s: %s", i, r.rec.ColumnName(col), fmt.Sprintf(format, a...))
	}
}

// str is a string column's value; null reports a NULL.
func (r *reader) str(col, i int) (s string, null bool) {
	a := r.rec.Column(col)
	if a.IsNull(i) {
		return "", true
	}
	switch x := a.(type) {
	case *array.String:
		return x.Value(i), false
	case *array.LargeString:
		return x.Value(i), false
	case *array.Dictionary:
		if d, ok := x.Dictionary().(*array.String); ok {
			return d.Value(x.GetValueIndex(i)), false
		}
	}
	r.fail(i, col, "type %s, want a string", a.DataType())
	return "", true
}

// id is a required string.
func (r *reader) id(col, i int) string {
	s, null := r.str(col, i)
	if null && r.err == nil {
		r.fail(i, col, "NULL")
	}
	return s
}

// micros is a TIMESTAMP in microseconds, or a DATE at 00:00.
func (r *reader) micros(col, i int) (int64, bool) {
	a := r.rec.Column(col)
	if a.IsNull(i) {
		return 0, false
	}
	switch x := a.(type) {
	case *array.Date32:
		return int64(x.Value(i)) * dayMicros, true
	case *array.Timestamp:
		unit := x.DataType().(*arrow.TimestampType).Unit
		v := int64(x.Value(i))
		switch unit {
		case arrow.Second:
			return v * 1e6, true
		case arrow.Millisecond:
			return v * 1e3, true
		case arrow.Microsecond:
			return v, true
		}
		q := v / 1000 // nanoseconds: floor to microseconds, as DuckDB reads them
		if v%1000 < 0 {
			q--
		}
		return q, true
	}
	r.fail(i, col, "type %s, want a date or timestamp", a.DataType())
	return 0, false
}

// date is a required DATE (or a TIMESTAMP's date) in days.
func (r *reader) date(col, i int) int32 {
	t, ok := r.micros(col, i)
	if !ok && r.err == nil {
		r.fail(i, col, "NULL date")
	}
	return floorDay(t)
}

// fen is a required DECIMAL(18,2) amount.
func (r *reader) fen(col, i int) int64 {
	a := r.rec.Column(col)
	if a.IsNull(i) {
		r.fail(i, col, "NULL amount")
		return 0
	}
	switch x := a.(type) {
	case *array.Decimal128:
		if s := x.DataType().(*arrow.Decimal128Type).Scale; s != 2 {
			r.fail(i, col, "scale %d, want 2", s)
		}
		return int64(x.Value(i).LowBits())
	case *array.Decimal64:
		if s := x.DataType().(*arrow.Decimal64Type).Scale; s != 2 {
			r.fail(i, col, "scale %d, want 2", s)
		}
		return int64(x.Value(i))
	}
	r.fail(i, col, "type %s, want DECIMAL(18,2)", a.DataType())
	return 0
}

func (r *reader) integer(col, i int) int64 {
	a := r.rec.Column(col)
	if a.IsNull(i) {
		r.fail(i, col, "NULL")
		return 0
	}
	switch x := a.(type) {
	case *array.Int16:
		return int64(x.Value(i))
	case *array.Int32:
		return int64(x.Value(i))
	case *array.Int64:
		return x.Value(i)
	}
	r.fail(i, col, "type %s, want an integer", a.DataType())
	return 0
}

// float is a DOUBLE (or FLOAT) value; false for NULL.
func (r *reader) float(col, i int) (float64, bool) {
	a := r.rec.Column(col)
	if a.IsNull(i) {
		return 0, false
	}
	switch x := a.(type) {
	case *array.Float64:
		return x.Value(i), true
	case *array.Float32:
		return float64(x.Value(i)), true
	}
	r.fail(i, col, "type %s, want a double", a.DataType())
	return 0, false
}

func emitRows(table string, rec arrow.RecordBatch, em emitters) error {
	r := &reader{rec: rec}
	n := int(rec.NumRows())
	for i := 0; i < n && r.err == nil; i++ {
		switch table {
		case "loans":
			app, _ := r.str(2, i)
			status, _ := r.str(5, i)
			l := Loan{ID: r.id(0, i), Borrower: r.id(1, i), App: app, Issue: r.date(3, i), Principal: r.fen(4, i), Status: status}
			if r.err == nil {
				em.loans(l.ID, l)
			}
		case "repayment_schedule":
			id := r.id(0, i)
			in := Inst{No: r.integer(1, i), Due: r.date(2, i), Principal: r.fen(3, i), Interest: r.fen(4, i)}
			if r.err == nil {
				em.insts(id, in)
			}
		case "repayments":
			id := r.id(0, i)
			at, ok := r.micros(3, i)
			if !ok {
				r.fail(i, 3, "NULL paid_at")
			}
			p := Pay{No: r.integer(1, i), Txn: r.id(2, i), At: at, Principal: r.fen(4, i), Interest: r.fen(5, i)}
			if r.err == nil {
				em.pays(id, p)
			}
		default:
			emitOptional(table, r, i, em)
		}
	}
	return r.err
}

// emitOptional reads the rows of the tables whose NULLs drop the row
// from every feature: an event without a time, an inquiry without a date
// or reason (reason <> 'post_loan' is not true for NULL), a NULL score.
func emitOptional(table string, r *reader, i int, em emitters) {
	switch table {
	case "collection_events":
		id := r.id(0, i)
		at, ok := r.micros(1, i)
		outcome, _ := r.str(2, i)
		if ok && r.err == nil {
			em.events(id, Event{At: at, Outcome: outcome})
		}
	case "bureau_inquiries":
		id := r.id(0, i)
		d, ok := r.micros(1, i)
		reason, null := r.str(2, i)
		if ok && !null && reason != "post_loan" && r.err == nil {
			em.inqs(id, Inquiry{Date: floorDay(d)})
		}
	case "scores_acard":
		app, null := r.str(0, i)
		s, ok := r.float(1, i)
		if ok && !null && r.err == nil {
			em.scores(app, Score{Score: s})
		}
	}
}
