//go:build duckdb_arrow

// Package beamperf is `qiandun-beam perf`: perf's loan × month panel as an
// Apache Beam pipeline. A splittable DoFn reads loans, repayment_schedule,
// repayments and collection_events a row group at a time (package
// rowgroups); CoGroupByKey brings each loan's schedule and payments
// together; each loan's rows come from panelref.Panel, the Go reference of
// the panel definition that data/perf's tests hold the SQL panel to; the
// rows are sharded by loan, sorted and written as <out>/panel/part-*.parquet
// in perf/panel's schema, committed by internal/durable (chain perf-beam),
// so a failed run leaves the previous panel intact. The default as-of of
// the reference (the data end: the month end on or before the latest
// payment, issue or collection date) is a Beam max over every row.
package beamperf

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"qiandun/cmd/qiandun-beam/rowgroups"
	"qiandun/data/lake"
	"qiandun/internal/durable"
)

func init() {
	for _, t := range []any{rowgroups.File{}, LoanRec{}, InstRec{}, PayRec{}, RowRec{}} {
		beam.RegisterType(reflect.TypeOf(t))
	}
	// The DoFns are registered by reflection (beam.RegisterDoFn), not with
	// register.DoFnNxM: each of those generic calls instantiates Beam's
	// lifecycle-wrapper code for its own type arguments, 5-10 CPU-s of
	// compile apiece (apache/beam#34693), and each of these DoFns is called
	// once per row group, loan or shard, where a reflective call does not
	// show. The emitters and iterators, called per row, keep their
	// generated callers.
	beam.RegisterDoFn(&readFn{})
	register.Emitter2[string, LoanRec]()
	register.Emitter2[string, InstRec]()
	register.Emitter2[string, PayRec]()
	register.Emitter1[int32]()
	beam.RegisterDoFn(&panelFn{})
	register.Iter1[LoanRec]()
	register.Iter1[InstRec]()
	register.Iter1[PayRec]()
	register.Emitter2[int, RowRec]()
	beam.RegisterDoFn(&writeFn{})
	register.Iter1[RowRec]()
	register.Function2x1(maxFn)
}

// Options configure a run.
type Options struct {
	Lake   string
	AsOf   string // YYYY-MM-DD
	Out    string // the panel is committed at Out/panel/
	Runner string // default prism
	Shards int    // panel files; default 4
	Log    *slog.Logger
}

// Result is a committed panel.
type Result struct {
	Dir   string
	Rows  int64
	Files []string
}

// Run builds the panel on Beam and commits it.
func Run(ctx context.Context, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Lake == "" || o.Out == "" || o.AsOf == "" {
		return nil, fmt.Errorf("beamperf: --lake, --as-of and --out are required")
	}
	asOf, err := time.Parse(time.DateOnly, o.AsOf)
	if err != nil {
		return nil, fmt.Errorf("beamperf: --as-of %q: want YYYY-MM-DD", o.AsOf)
	}
	if o.Runner == "" {
		o.Runner = "prism"
	}
	if o.Shards <= 0 {
		o.Shards = 4
	}
	files, err := rowgroups.Files(lake.New(o.Lake), []string{"loans", "repayment_schedule", "repayments", "collection_events"}, "loans", "repayment_schedule", "repayments")
	if err != nil {
		return nil, fmt.Errorf("beamperf: %w", err)
	}
	tx, err := durable.BeginIn(o.Out, "perf-beam")
	if err != nil {
		return nil, fmt.Errorf("beamperf: %w", err)
	}
	defer tx.Abort()
	dir, err := tx.Dir("panel")
	if err != nil {
		return nil, fmt.Errorf("beamperf: %w", err)
	}

	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, files)
	cols := beam.ParDoN(s, &readFn{}, in)
	last := beam.Combine(s, maxFn, cols[3])
	grouped := beam.CoGroupByKey(s, cols[0], cols[1], cols[2])
	rows := beam.ParDo(s, &panelFn{AsOf: days(asOf), Shards: o.Shards}, grouped, beam.SideInput{Input: last})
	beam.ParDo0(s, &writeFn{Dir: dir}, beam.GroupByKey(s, rows))
	start := time.Now()
	if _, err := beam.Run(ctx, o.Runner, p); err != nil {
		return nil, fmt.Errorf("beamperf: pipeline on %s: %w", o.Runner, err)
	}
	res := &Result{Dir: filepath.Join(o.Out, "panel")}
	parts, _ := filepath.Glob(filepath.Join(dir, "part-*.parquet"))
	sort.Strings(parts)
	for _, f := range parts {
		n, err := lake.ParquetRows(f)
		if err != nil {
			return nil, err
		}
		res.Rows += n
		res.Files = append(res.Files, filepath.Base(f))
	}
	tx.Mount("panel")
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("beamperf: %w", err)
	}
	log.Info("beamperf: panel committed", "dir", res.Dir, "rows", res.Rows, "files", len(res.Files), "seconds", time.Since(start).Seconds())
	return res, nil
}
