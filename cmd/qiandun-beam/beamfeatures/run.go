//go:build duckdb_arrow

// Package beamfeatures is `qiandun-beam features`: the B-card feature
// snapshots (features/bcard_*.sql over the spine of prep_bcard_spine.sql)
// as an Apache Beam pipeline. A splittable DoFn reads loans,
// repayment_schedule, repayments, collection_events, bureau_inquiries and
// the optional scores_acard a row group at a time (package rowgroups);
// CoGroupByKey brings each loan's schedule, payments and collection events
// together and the Go definitions of bcard.go give its rows at every
// as-of date (perf's installment payoff and loan closure included, from
// the raw payments); two more joins add the A-card score by application
// and the bureau inquiries by borrower. Each date's rows are sharded by
// loan, sorted and written as
// <out>/features/bcard/as_of=<date>/part-*.parquet in the DuckDB
// snapshot's schema, committed by internal/durable (chain
// features-bcard-beam; the chain's other dates are kept), so a failed run
// leaves the previous snapshots intact.
package beamfeatures

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"qiandun/cmd/qiandun-beam/rowgroups"
	"qiandun/data/lake"
	"qiandun/features"
	"qiandun/internal/durable"
)

func init() {
	for _, t := range []any{rowgroups.File{}, Loan{}, Inst{}, Pay{}, Event{}, Inquiry{}, Score{}, FeatRow{}} {
		beam.RegisterType(reflect.TypeOf(t))
	}
	register.DoFn9x1[context.Context, *sdf.LockRTracker, rowgroups.File, func(string, Loan), func(string, Inst), func(string, Pay),
		func(string, Event), func(string, Inquiry), func(string, Score), error](&readFn{})
	register.Emitter2[string, Loan]()
	register.Emitter2[string, Inst]()
	register.Emitter2[string, Pay]()
	register.Emitter2[string, Event]()
	register.Emitter2[string, Inquiry]()
	register.Emitter2[string, Score]()
	register.DoFn6x0[string, func(*Loan) bool, func(*Inst) bool, func(*Pay) bool, func(*Event) bool, func(string, FeatRow)](&loanFn{})
	register.Iter1[Loan]()
	register.Iter1[Inst]()
	register.Iter1[Pay]()
	register.Iter1[Event]()
	register.Emitter2[string, FeatRow]()
	register.Function4x0(scoreFn)
	register.Iter1[FeatRow]()
	register.Iter1[Score]()
	register.DoFn4x0[string, func(*FeatRow) bool, func(*Inquiry) bool, func(int, FeatRow)](&bureauFn{})
	register.Iter1[Inquiry]()
	register.Emitter2[int, FeatRow]()
	register.DoFn2x1[int, func(*FeatRow) bool, error](&writeFn{})
}

// Options configure a run.
type Options struct {
	Lake   string
	AsOf   []string // YYYY-MM-DD, one snapshot each
	Out    string   // snapshots are committed at Out/features/bcard/as_of=<date>/
	Runner string   // default prism
	Shards int      // files per snapshot; default 4
	Log    *slog.Logger
}

// Snapshot is one committed snapshot.
type Snapshot struct {
	AsOf  string
	Dir   string
	Rows  int64
	Files []string
}

// Table is where the snapshots are, relative to Out.
const Table = "features/bcard"

// Run builds the B-card snapshots at the as-of dates on Beam and commits
// them.
func Run(ctx context.Context, o Options) ([]Snapshot, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Lake == "" || o.Out == "" || len(o.AsOf) == 0 {
		return nil, fmt.Errorf("beamfeatures: --lake, --as-of and --out are required")
	}
	var asOf []int32
	for _, s := range o.AsOf {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Errorf("beamfeatures: as-of %q: want YYYY-MM-DD", s)
		}
		d := int32(t.Unix() / 86400)
		if slices.Contains(asOf, d) {
			return nil, fmt.Errorf("beamfeatures: as-of %s given twice", s)
		}
		asOf = append(asOf, d)
	}
	if o.Runner == "" {
		o.Runner = "prism"
	}
	if o.Shards <= 0 {
		o.Shards = 4
	}
	cat, err := features.DefaultCatalog()
	if err != nil {
		return nil, err
	}
	layout, err := NewLayout(cat)
	if err != nil {
		return nil, err
	}
	files, err := inputs(lake.New(o.Lake))
	if err != nil {
		return nil, err
	}
	tx, err := durable.BeginIn(o.Out, "features-bcard-beam")
	if err != nil {
		return nil, fmt.Errorf("beamfeatures: %w", err)
	}
	defer tx.Abort()
	// Snapshots accumulate as the DuckDB stage's do: the other dates are
	// kept (hard links), this run's are written afresh.
	if err := tx.Keep(Table); err != nil {
		return nil, fmt.Errorf("beamfeatures: %w", err)
	}
	dirs := make([]string, len(o.AsOf))
	for k, s := range o.AsOf {
		rel := Table + "/as_of=" + s
		if err := os.RemoveAll(tx.Path(rel)); err != nil {
			return nil, fmt.Errorf("beamfeatures: %w", err)
		}
		if dirs[k], err = tx.Dir(rel); err != nil {
			return nil, fmt.Errorf("beamfeatures: %w", err)
		}
	}
	p := pipeline(files, asOf, dirs, o.Shards)
	start := time.Now()
	if _, err := beam.Run(ctx, o.Runner, p); err != nil {
		return nil, fmt.Errorf("beamfeatures: pipeline on %s: %w", o.Runner, err)
	}
	snaps, err := collect(o, dirs, layout)
	if err != nil {
		return nil, err
	}
	tx.Mount(Table)
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("beamfeatures: %w", err)
	}
	for _, s := range snaps {
		log.Info("beamfeatures: snapshot committed", "as_of", s.AsOf, "dir", s.Dir, "rows", s.Rows, "files", len(s.Files))
	}
	log.Info("beamfeatures: done", "snapshots", len(snaps), "seconds", time.Since(start).Seconds())
	return snaps, nil
}

// pipeline is read → by loan → by application → by borrower → by file.
func pipeline(files []rowgroups.File, asOf []int32, dirs []string, shards int) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	cols := beam.ParDoN(s, &readFn{}, beam.CreateList(s, files))
	byLoan := beam.CoGroupByKey(s, cols[0], cols[1], cols[2], cols[3])
	byApp := beam.ParDo(s, &loanFn{AsOf: asOf}, byLoan)
	byBorrower := beam.ParDo(s, scoreFn, beam.CoGroupByKey(s, byApp, cols[5]))
	byFile := beam.ParDo(s, &bureauFn{AsOf: asOf, Shards: shards}, beam.CoGroupByKey(s, byBorrower, cols[4]))
	beam.ParDo0(s, &writeFn{Dirs: dirs, Shards: shards}, beam.GroupByKey(s, byFile))
	return p
}

// inputs lists the lake's files of the tables read; loans and the
// schedule are required, the others read as empty when absent, as the
// DuckDB stage does.
func inputs(l lake.Lake) ([]rowgroups.File, error) {
	files, err := rowgroups.Files(l, tables, "loans", "repayment_schedule")
	if err != nil {
		return nil, fmt.Errorf("beamfeatures: %w", err)
	}
	return files, nil
}

// collect counts each snapshot's rows; a date with no rows gets an empty
// part-000.parquet, so a snapshot always has its schema on disk.
func collect(o Options, dirs []string, layout Layout) ([]Snapshot, error) {
	var snaps []Snapshot
	for k, dir := range dirs {
		s := Snapshot{AsOf: o.AsOf[k], Dir: filepath.Join(o.Out, filepath.FromSlash(Table), "as_of="+o.AsOf[k])}
		parts, _ := filepath.Glob(filepath.Join(dir, "part-*.parquet"))
		if len(parts) == 0 {
			p := filepath.Join(dir, "part-000.parquet")
			if err := rowgroups.Write(p, layout.Schema, compress.Codecs.Zstd, 0, nil); err != nil {
				return nil, fmt.Errorf("beamfeatures: %w", err)
			}
			parts = []string{p}
		}
		sort.Strings(parts)
		for _, f := range parts {
			n, err := rowgroups.NumRows(f)
			if err != nil {
				return nil, fmt.Errorf("beamfeatures: %w", err)
			}
			s.Rows += n
			s.Files = append(s.Files, filepath.Base(f))
		}
		snaps = append(snaps, s)
	}
	return snaps, nil
}
