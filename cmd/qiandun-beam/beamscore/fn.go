//go:build duckdb_arrow

package beamscore

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"

	"qiandun/cmd/qiandun-beam/rowgroups"
	"qiandun/scoring/monitor"
	"qiandun/scoring/score"
	"qiandun/training/scorecard"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Input)(nil)).Elem())
	// Registered by reflection (beam.RegisterDoFn), not with
	// register.DoFn3x1, which instantiates Beam's lifecycle-wrapper code
	// for its type arguments (9 CPU-s of compile; apache/beam#34693):
	// ProcessElement runs once per row group, where a reflective call does
	// not show.
	beam.RegisterDoFn(&scoreFn{})
}

// Input is one Parquet file of the snapshot: its place in the input list
// (which orders the parts) and its row-group count, read by the driver so
// that the initial restriction needs no I/O.
type Input struct {
	Index     int
	Path      string
	RowGroups int
}

// PartStats are one part's totals, written beside it as JSON for the
// driver to merge into the manifest.
type PartStats struct {
	Rows      int64          `json:"rows"`
	Grades    [5]int64       `json:"grades"`
	Decisions [3]int64       `json:"decisions"` // by decision code
	Fallbacks []int64        `json:"fallbacks"` // per characteristic, card order
	Monitor   monitor.Counts `json:"monitor"`
}

// partName is the base name of the part of row group rg of input idx.
func partName(idx, rg int) string { return fmt.Sprintf("%05d-%05d", idx, rg) }

// scoreFn is the splittable DoFn of the score pipeline: its element is a
// snapshot file, its restriction the file's row groups; each row group is
// scored by the scoring stage's tile kernel (score.Scorer.Score) and
// written as one part (Parquet, CSV rows without header, stats JSON) under
// Parts, by a temporary name and a rename, so a retried bundle rewrites
// the same part.
type scoreFn struct {
	Model     []byte // model.json
	Rules     []byte // score.Rules as JSON
	Set       string
	Key       string // entity id column
	AsOf      string
	Parts     string // directory of the parts
	BatchRows int
	// A-card: the scoring window's first day (YYYY-MM-DD; rows with
	// apply_time before it are not scored; empty: every row), and the
	// fraud_flags snapshot's files (read whole by each worker: a few
	// percent of the applications carry a flag); nil: no flags column.
	WindowFrom string
	FlagFiles  []string

	flags map[string]string // application_id → sorted ';'-joined flags

	m    *scorecard.Model
	s    *score.Scorer
	out  *score.Output
	cols []string
	lay  score.Layout
}

func (fn *scoreFn) Setup() error {
	m, err := scorecard.Decode(fn.Model, "model.json")
	if err != nil {
		return err
	}
	var rules score.Rules
	if err := json.Unmarshal(fn.Rules, &rules); err != nil {
		return fmt.Errorf("beamscore: rules: %w", err)
	}
	s, err := score.NewScorer(m, rules)
	if err != nil {
		return err
	}
	s.SetDecisionNames(rules.DecisionNames(fn.Set))
	out, err := s.NewOutput(fn.AsOf, fn.BatchRows, fn.FlagFiles != nil, true)
	if err != nil {
		return err
	}
	fn.m, fn.s, fn.out = m, s, out
	fn.cols = []string{fn.Key}
	fn.lay = score.Layout{ID: 0, Flags: -1, Target: -1}
	names, first, second := score.CardInputs(m)
	fn.cols = append(fn.cols, names...)
	fn.lay.Chars, fn.lay.Pairs = score.Offset(first, 1), score.Offset(second, 1)
	if fn.WindowFrom != "" {
		fn.cols = append(fn.cols, "apply_time")
	}
	if fn.FlagFiles != nil {
		fn.lay.Flags = len(fn.cols) // appended to each batch
		if fn.flags, err = readFlags(context.Background(), fn.FlagFiles); err != nil {
			return err
		}
	}
	return nil
}

func (fn *scoreFn) Teardown() {
	if fn.out != nil {
		fn.out.Release()
	}
}

func (fn *scoreFn) CreateInitialRestriction(in Input) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: int64(in.RowGroups)}
}

// SplitRestriction splits a file into its row groups.
func (fn *scoreFn) SplitRestriction(_ Input, rest offsetrange.Restriction) []offsetrange.Restriction {
	return rest.SizedSplits(1)
}

func (fn *scoreFn) RestrictionSize(_ Input, rest offsetrange.Restriction) float64 {
	return rest.Size()
}

func (fn *scoreFn) CreateTracker(rest offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(rest))
}

func (fn *scoreFn) ProcessElement(ctx context.Context, rt *sdf.LockRTracker, in Input) error {
	for rg := rt.GetRestriction().(offsetrange.Restriction).Start; rt.TryClaim(rg); rg++ {
		if err := fn.scoreRowGroup(ctx, in, int(rg)); err != nil {
			return err
		}
	}
	return nil
}

// scoreRowGroup scores row group rg of in into its part.
func (fn *scoreFn) scoreRowGroup(ctx context.Context, in Input, rg int) error {
	base := filepath.Join(fn.Parts, partName(in.Index, rg))
	pqF, err := os.Create(base + ".parquet.tmp")
	if err != nil {
		return fmt.Errorf("beamscore: %w", err)
	}
	defer pqF.Close()
	csvF, err := os.Create(base + ".csv.tmp")
	if err != nil {
		return fmt.Errorf("beamscore: %w", err)
	}
	defer csvF.Close()
	pbuf, cbuf := bufio.NewWriterSize(pqF, 1<<20), bufio.NewWriterSize(csvF, 1<<20)
	pw, err := pqarrow.NewFileWriter(fn.out.Schema, pbuf, score.ParquetProperties(fn.out), pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("beamscore: %w", err)
	}
	st := PartStats{Fallbacks: make([]int64, len(fn.m.Chars))}
	mon := monitor.New(fn.m)
	seq := 0
	err = rowgroups.Read(ctx, in.Path, rg, fn.cols, int64(fn.BatchRows), func(rec arrow.RecordBatch) error {
		u, err := fn.unit(rec, seq)
		if err != nil {
			return fmt.Errorf("beamscore: %s row group %d: %w", in.Path, rg, err)
		}
		if u.N == 0 {
			return nil
		}
		seq++
		r := fn.s.Score(u, fn.lay, fn.out)
		for _, x := range u.Recs {
			x.Release()
		}
		defer fn.s.Release(r)
		if r.Err != nil {
			return fmt.Errorf("beamscore: %s row group %d: %w", in.Path, rg, r.Err)
		}
		st.Rows += int64(r.N)
		for g := range st.Grades {
			st.Grades[g] += r.Grades[g]
		}
		for d := range st.Decisions {
			st.Decisions[d] += r.Decisions[d]
		}
		for j, f := range r.Fallbacks {
			st.Fallbacks[j] += int64(f)
		}
		mon.Merge(r.Monitor)
		if err := pw.WriteBuffered(r.Rec); err != nil {
			return fmt.Errorf("beamscore: write parquet: %w", err)
		}
		if _, err := cbuf.Write(r.CSV); err != nil {
			return fmt.Errorf("beamscore: write csv: %w", err)
		}
		return nil
	})
	if err != nil {
		pw.Close()
		return err
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("beamscore: write parquet: %w", err)
	}
	st.Monitor = mon.Counts()
	js, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("beamscore: %w", err)
	}
	for _, step := range []func() error{pbuf.Flush, cbuf.Flush, pqF.Sync, csvF.Sync, pqF.Close, csvF.Close,
		func() error { return os.WriteFile(base+".json.tmp", js, 0o644) },
		func() error { return os.Rename(base+".parquet.tmp", base+".parquet") },
		func() error { return os.Rename(base+".csv.tmp", base+".csv") },
		// the stats last: a part is complete when its JSON is there
		func() error { return os.Rename(base+".json.tmp", base+".json") },
	} {
		if err := step(); err != nil {
			return fmt.Errorf("beamscore: part %s: %w", base, err)
		}
	}
	return nil
}
