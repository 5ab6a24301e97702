//go:build duckdb_arrow

package beamscore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/cmd/qiandun-beam/rowgroups"
	"qiandun/scoring/score"
)

// unit makes the scoring unit of a batch: the rows in the A-card window
// (all rows without one), with the fraud-flags column appended when the
// run has flags. The unit's batches are the caller's to release.
func (fn *scoreFn) unit(rec arrow.RecordBatch, seq int) (*score.Unit, error) {
	u := &score.Unit{Seq: seq}
	var spans [][2]int64
	if fn.WindowFrom == "" {
		spans = [][2]int64{{0, rec.NumRows()}}
	} else {
		var err error
		if spans, err = windowSpans(rec.Column(len(fn.cols)-1), fn.WindowFrom); err != nil {
			return nil, err
		}
	}
	for _, sp := range spans {
		part := rec.NewSlice(sp[0], sp[1])
		if fn.FlagFiles != nil {
			withFlags := fn.appendFlags(part)
			part.Release()
			part = withFlags
		}
		u.Recs = append(u.Recs, part)
		u.N += int(part.NumRows())
	}
	return u, nil
}

// windowSpans are the runs of rows whose apply_time (a timestamp) is on
// or after the day from.
func windowSpans(a arrow.Array, from string) ([][2]int64, error) {
	ts, ok := a.(*array.Timestamp)
	if !ok {
		return nil, fmt.Errorf("apply_time is %s, want a timestamp", a.DataType())
	}
	d, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return nil, err
	}
	unit := ts.DataType().(*arrow.TimestampType).Unit
	lo := arrow.Timestamp(d.UnixNano() / int64(unit.Multiplier()))
	var spans [][2]int64
	start := int64(-1)
	for i := range ts.Len() {
		in := ts.IsValid(i) && ts.Value(i) >= lo
		switch {
		case in && start < 0:
			start = int64(i)
		case !in && start >= 0:
			spans = append(spans, [2]int64{start, int64(i)})
			start = -1
		}
	}
	if start >= 0 {
		spans = append(spans, [2]int64{start, int64(ts.Len())})
	}
	return spans, nil
}

// appendFlags returns rec with a last column of each row's fraud flags
// ("" when none).
func (fn *scoreFn) appendFlags(rec arrow.RecordBatch) arrow.RecordBatch {
	ids := rec.Column(0).(*array.String)
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	for i := range ids.Len() {
		b.Append(fn.flags[ids.Value(i)])
	}
	flags := b.NewArray()
	defer flags.Release()
	fields := append(slices.Clone(rec.Schema().Fields()), arrow.Field{Name: "__flags", Type: arrow.BinaryTypes.String})
	cols := append(slices.Clone(rec.Columns()), flags)
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}

// readFlags reads the fraud_flags snapshot (application_id, flag) into
// each application's flags, sorted and ';'-joined, as `qiandun score`
// joins them.
func readFlags(ctx context.Context, files []string) (map[string]string, error) {
	sets := map[string][]string{}
	for _, f := range files {
		n, err := rowgroups.Count(f)
		if err != nil {
			return nil, err
		}
		for rg := range n {
			err := rowgroups.Read(ctx, f, rg, []string{"application_id", "flag"}, 1<<15, func(rec arrow.RecordBatch) error {
				ids, ok1 := rec.Column(0).(*array.String)
				fl, ok2 := rec.Column(1).(*array.String)
				if !ok1 || !ok2 {
					return fmt.Errorf("beamscore: %s: application_id and flag must be strings", f)
				}
				for i := range ids.Len() {
					if ids.IsValid(i) && fl.IsValid(i) {
						sets[ids.Value(i)] = append(sets[ids.Value(i)], fl.Value(i))
					}
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	out := make(map[string]string, len(sets))
	for id, fs := range sets {
		slices.Sort(fs)
		out[id] = strings.Join(fs, ";")
	}
	return out, nil
}
