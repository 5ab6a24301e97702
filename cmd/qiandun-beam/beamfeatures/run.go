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
// leaves the previous snapshots intact. The same commit holds the
// feature catalog <out>/features/catalog.csv and the manifest
// <out>/_manifests/features-bcard-beam.json, written by the features
// stage's own code (features.CommitCatalog, features.CommitManifest): the
// catalog's bytes are those of `qiandun features`, and the manifest has
// its fields (inputs and every part with SHA-256 and rows, rows_<date>
// counts, config.as_of, catalog version per snapshot, code version).
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
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
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
	// The DoFns are registered by reflection (beam.RegisterDoFn), not with
	// register.DoFnNxM: each of those generic calls instantiates Beam's
	// lifecycle-wrapper code for its own type arguments, 5-10 CPU-s of
	// compile apiece (apache/beam#34693), and each of these DoFns is called
	// once per row group, loan or shard, where a reflective call does not
	// show. The emitters and iterators, called per row, keep their
	// generated callers.
	beam.RegisterDoFn(&readFn{})
	register.Emitter2[string, Loan]()
	register.Emitter2[string, Inst]()
	register.Emitter2[string, Pay]()
	register.Emitter2[string, Event]()
	register.Emitter2[string, Inquiry]()
	register.Emitter2[string, Score]()
	beam.RegisterDoFn(&loanFn{})
	register.Iter1[Loan]()
	register.Iter1[Inst]()
	register.Iter1[Pay]()
	register.Iter1[Event]()
	register.Emitter2[string, FeatRow]()
	register.Function4x0(scoreFn)
	register.Iter1[FeatRow]()
	register.Iter1[Score]()
	beam.RegisterDoFn(&bureauFn{})
	register.Iter1[Inquiry]()
	register.Emitter2[int, FeatRow]()
	beam.RegisterDoFn(&writeFn{})
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

// Chain is the durable chain of the run's commits under Out and the
// stage name of its manifest, <Out>/_manifests/<Chain>.json.
const Chain = "features-bcard-beam"

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
	in := lake.New(o.Lake)
	files, err := inputs(in)
	if err != nil {
		return nil, err
	}
	m := features.NewManifest(Chain, features.SetBCard, cat)
	m.Config["runner"], m.Config["shards"] = o.Runner, o.Shards
	for _, f := range files {
		n, err := rowgroups.NumRows(f.Path)
		if err != nil {
			return nil, fmt.Errorf("beamfeatures: manifest: %w", err)
		}
		mf, err := features.ManifestFile(in, f.Path, n)
		if err != nil {
			return nil, err
		}
		m.Inputs = append(m.Inputs, mf)
	}
	tx, err := durable.BeginIn(o.Out, Chain)
	if err != nil {
		return nil, fmt.Errorf("beamfeatures: %w", err)
	}
	defer tx.Abort()
	c := &lake.Commit{Txn: tx, Lake: lake.New(o.Out), Staged: lake.New(tx.Path("."))}
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
	m.Timings["pipeline"] = time.Since(start).Seconds()
	snaps, err := collect(o, dirs, layout, c.Staged, m)
	if err != nil {
		return nil, err
	}
	// The manifest lists the commit's every snapshot: this run's and the
	// kept dates' (from the previous manifest, or read from their files).
	features.MergePrevious(c.Lake, m, features.SetBCard, o.AsOf)
	if err := listKept(c.Staged, m); err != nil {
		return nil, err
	}
	if err := features.CommitCatalog(c, m, cat); err != nil {
		return nil, err
	}
	if err := features.CommitManifest(c, m); err != nil {
		return nil, err
	}
	tx.Mount(Table)
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("beamfeatures: %w", err)
	}
	for _, s := range snaps {
		log.Info("beamfeatures: snapshot committed", "as_of", s.AsOf, "dir", s.Dir, "rows", s.Rows, "files", len(s.Files))
	}
	log.Info("beamfeatures: done", "snapshots", len(snaps), "manifest", c.Lake.ManifestPath(Chain), "seconds", time.Since(start).Seconds())
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

// collect counts each snapshot's rows and lists its parts in m's outputs
// (paths relative to the staged root) and counts; a date with no rows
// gets an empty part-000.parquet, so a snapshot always has its schema on
// disk.
func collect(o Options, dirs []string, layout Layout, staged lake.Lake, m *lake.Manifest) ([]Snapshot, error) {
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
			if err := features.AddOutput(staged, m, f, n); err != nil {
				return nil, err
			}
			s.Rows += n
			s.Files = append(s.Files, filepath.Base(f))
		}
		m.Counts["rows_"+s.AsOf] = s.Rows
		snaps = append(snaps, s)
	}
	return snaps, nil
}

// listKept adds to m the parts of the staged snapshots that it does not
// list yet: kept dates of a commit without a manifest (written before
// the Beam run wrote one), with their rows from the files.
func listKept(staged lake.Lake, m *lake.Manifest) error {
	listed := map[string]bool{}
	for _, f := range m.Outputs {
		listed[f.Path] = true
	}
	parts, err := filepath.Glob(filepath.Join(staged.TableDir(Table), "as_of=*", "part-*.parquet"))
	if err != nil {
		return fmt.Errorf("beamfeatures: %w", err)
	}
	sort.Strings(parts)
	snaps := m.Extra["snapshots"].(map[string]any)
	added := map[string]int64{}
	for _, p := range parts {
		if r, err := filepath.Rel(staged.Root, p); err == nil && listed[filepath.ToSlash(r)] {
			continue
		}
		n, err := rowgroups.NumRows(p)
		if err != nil {
			return fmt.Errorf("beamfeatures: manifest: %w", err)
		}
		f, err := features.ManifestFile(staged, p, n)
		if err != nil {
			return err
		}
		m.Outputs = append(m.Outputs, f)
		d := strings.TrimPrefix(filepath.Base(filepath.Dir(p)), "as_of=")
		m.Counts["rows_"+d] += f.Rows
		added[d] += f.Rows
	}
	for d := range added {
		if _, ok := snaps[d]; !ok {
			snaps[d] = map[string]any{"rows": m.Counts["rows_"+d]}
		}
	}
	return nil
}
