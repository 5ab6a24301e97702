//go:build duckdb_arrow

// Package beamscore is `qiandun-beam score`: the scoring stage as an
// Apache Beam pipeline. A splittable DoFn takes the feature snapshot's
// Parquet files with their row groups as restrictions (package rowgroups),
// scores each row group with the scoring stage's own tile kernel
// (score.Scorer.Score: same bins, points, reasons, grades and decisions,
// the same CSV and Parquet row encoding) and writes it as a part into the
// staging directory of the run. The driver then joins the parts in
// (file, row group) order into scores.parquet and scores.csv, merges the
// parts' counts into the manifest (rows, grades, decisions, fallback bins,
// PSI/CSI) and commits <out>/<as_of>/ through package publish
// (internal/durable), so a failed pipeline leaves the previous run intact.
// Rows come in snapshot order, not sorted by entity id as `qiandun score`
// writes them; sorted, they are the same bytes.
package beamscore

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"qiandun/cmd/qiandun-beam/rowgroups"
	"qiandun/data/lake"
	"qiandun/features"
	"qiandun/internal/version"
	"qiandun/scoring/monitor"
	"qiandun/scoring/publish"
	"qiandun/scoring/score"
	"qiandun/training/scorecard"
)

// Options configure a run.
type Options struct {
	Lake      string
	Model     string // model version directory (<models>/<name>/<version>)
	AsOf      string // YYYY-MM-DD
	Out       string // published at Out/<as_of>/
	Rules     score.Rules
	Runner    string // Beam runner; default prism
	BatchRows int    // rows per scored batch; default 65536
	// Full scores every application of the A-card snapshot; otherwise
	// the A-card's scoring window only (score.Window), as `qiandun score`.
	Full bool
	Log  *slog.Logger
}

// Run scores o.Model on the lake's feature snapshot at o.AsOf on Beam
// and publishes Out/<as_of>/ with the manifest of `qiandun score`.
func Run(ctx context.Context, o Options) (*score.Manifest, string, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Lake == "" || o.Model == "" || o.Out == "" || o.AsOf == "" {
		return nil, "", fmt.Errorf("beamscore: --lake, --model, --as-of and --out are required")
	}
	if _, err := time.Parse(time.DateOnly, o.AsOf); err != nil {
		return nil, "", fmt.Errorf("beamscore: --as-of %q: want YYYY-MM-DD", o.AsOf)
	}
	if o.Rules.GradePD == nil && o.Rules.GradeCutoffs == nil {
		o.Rules = score.DefaultRules()
	}
	if o.Runner == "" {
		o.Runner = "prism"
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 1 << 16
	}
	raw, m, err := readModel(o.Model)
	if err != nil {
		return nil, "", err
	}
	set := m.Settings["model"]
	key, err := features.Key(set)
	if err != nil {
		return nil, "", fmt.Errorf("beamscore: model %s does not say which feature set it was trained on (acard or bcard)", o.Model)
	}
	l := lake.New(o.Lake)
	table := "features/" + set + "/as_of=" + o.AsOf
	files, inputs, err := snapshotInputs(l, table, set, o.AsOf)
	if err != nil {
		return nil, "", err
	}
	var window *score.Window
	var flagFiles []string
	if set == "acard" {
		if !o.Full {
			if window, err = score.ScoringWindow(o.Out, o.AsOf); err != nil {
				return nil, "", err
			}
		}
		if flagFiles, _ = filepath.Glob(l.Glob("features/fraud_flags/as_of=" + o.AsOf)); len(flagFiles) == 0 {
			flagFiles = nil
		}
	}
	need := []string{key}
	if window != nil {
		need = append(need, "apply_time")
	}
	if err := checkColumns(files[0], m, need); err != nil {
		return nil, "", fmt.Errorf("beamscore: refusing input: %w", err)
	}
	rules, err := json.Marshal(o.Rules)
	if err != nil {
		return nil, "", fmt.Errorf("beamscore: %w", err)
	}
	// Fail on bad rules before the pipeline starts.
	if _, err := score.NewScorer(m, o.Rules); err != nil {
		return nil, "", err
	}

	final := filepath.Join(o.Out, o.AsOf)
	pub, err := publish.Begin(final)
	if err != nil {
		return nil, "", err
	}
	defer pub.Abort()
	parts := pub.Path("_parts")
	if err := os.Mkdir(parts, 0o755); err != nil {
		return nil, "", fmt.Errorf("beamscore: %w", err)
	}
	fn := &scoreFn{Model: raw, Rules: rules, Set: set, Key: key, AsOf: o.AsOf, Parts: parts, BatchRows: o.BatchRows, FlagFiles: flagFiles}
	if window != nil {
		fn.WindowFrom = window.From
	}
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, inputs)
	beam.ParDo0(s, fn, in)
	start := time.Now()
	if _, err := beam.Run(ctx, o.Runner, p); err != nil {
		return nil, "", fmt.Errorf("beamscore: pipeline on %s: %w", o.Runner, err)
	}
	log.Info("beamscore: pipeline done", "runner", o.Runner, "seconds", time.Since(start).Seconds())

	mr, rows, err := mergeParts(pub, inputs, m, o.Rules, set, window != nil)
	if err != nil {
		return nil, "", err
	}
	mr.Dir, mr.Set, mr.Input, mr.Window = o.Model, set, l.Glob(table), window
	if err := os.RemoveAll(parts); err != nil {
		return nil, "", fmt.Errorf("beamscore: %w", err)
	}
	man := &score.Manifest{SchemaVersion: score.SchemaVersion, Kind: "scores", AsOf: o.AsOf, CodeVersion: version.String(),
		Mode: "lake", Rows: rows, Models: []score.ModelRun{*mr}, Rules: o.Rules, Columns: score.Columns}
	pub.Written("scores.parquet", rows)
	pub.Written("scores.csv", rows)
	if man.Files, err = pub.Files(); err != nil {
		return nil, "", err
	}
	if err := pub.Commit(man); err != nil {
		return nil, "", err
	}
	secs := time.Since(start).Seconds()
	log.Info("beamscore: published", "dir", final, "rows", rows, "seconds", math.Round(secs*1e3)/1e3,
		"rows_per_s", math.Round(float64(rows)/math.Max(secs, 1e-9)))
	return man, final, nil
}

// readModel reads and decodes dir/model.json.
func readModel(dir string) ([]byte, *scorecard.Model, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("beamscore: refusing model %s: %w", dir, err)
	}
	m, err := scorecard.Decode(raw, filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("beamscore: refusing model %s: %w", dir, err)
	}
	return raw, m, nil
}

// snapshotInputs lists the Parquet files of the feature snapshot table,
// sorted, each with its row-group count: the pipeline's work items.
func snapshotInputs(l lake.Lake, table, set, asOf string) ([]string, []Input, error) {
	files, err := filepath.Glob(filepath.Join(l.TableDir(table), "*.parquet"))
	if err != nil || len(files) == 0 {
		return nil, nil, fmt.Errorf("beamscore: refusing input: no %s feature snapshot at %s (run `qiandun features --set %s --as-of %s` first)", set, l.TableDir(table), set, asOf)
	}
	sort.Strings(files)
	inputs := make([]Input, len(files))
	for i, f := range files {
		n, err := rowgroups.Count(f)
		if err != nil {
			return nil, nil, fmt.Errorf("beamscore: refusing input: %w", err)
		}
		inputs[i] = Input{Index: i, Path: f, RowGroups: n}
	}
	return files, inputs, nil
}

// checkColumns refuses a snapshot without a characteristic of the card or
// a column of need (the id, apply_time), naming the file.
func checkColumns(path string, m *scorecard.Model, need []string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	pr, err := file.NewParquetReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer pr.Close()
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var missing []string
	for _, c := range append(need, charNames(m)...) {
		if len(sc.FieldIndices(c)) != 1 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%d column(s) missing from %s: %s", len(missing), path, strings.Join(missing, ", "))
	}
	return nil
}

// charNames are the card's input columns, each once (a pair's two
// inputs among them).
func charNames(m *scorecard.Model) []string {
	names, _, _ := score.CardInputs(m)
	return names
}

// mergeParts joins the parts, in input and row-group order, into
// scores.parquet and scores.csv of pub, and sums their stats into the
// model's run.
// An empty result is refused unless allowEmpty (an A-card scoring window
// may hold no application: `qiandun score` publishes it empty).
func mergeParts(pub *publish.Dir, inputs []Input, m *scorecard.Model, rules score.Rules, set string, allowEmpty bool) (*score.ModelRun, int64, error) {
	s, err := score.NewScorer(m, rules)
	if err != nil {
		return nil, 0, err
	}
	s.SetDecisionNames(rules.DecisionNames(set))
	csvF, err := pub.Create("scores.csv")
	if err != nil {
		return nil, 0, fmt.Errorf("beamscore: %w", err)
	}
	defer csvF.Close()
	pqF, err := pub.Create("scores.parquet")
	if err != nil {
		return nil, 0, fmt.Errorf("beamscore: %w", err)
	}
	defer pqF.Close()
	cw, pbuf := bufio.NewWriterSize(csvF, 1<<20), bufio.NewWriterSize(pqF, 1<<20)
	if _, err := cw.WriteString(score.CSVHeader); err != nil {
		return nil, 0, fmt.Errorf("beamscore: %w", err)
	}
	var pw *pqarrow.FileWriter
	mon := monitor.New(m)
	var tot PartStats
	tot.Fallbacks = make([]int64, len(m.Chars))
	for _, in := range inputs {
		for rg := range in.RowGroups {
			base := filepath.Join(pub.Path("_parts"), partName(in.Index, rg))
			var st PartStats
			js, err := os.ReadFile(base + ".json")
			if err == nil {
				err = json.Unmarshal(js, &st)
			}
			if err != nil {
				return nil, 0, fmt.Errorf("beamscore: part of %s row group %d: %w", in.Path, rg, err)
			}
			if err := addStats(&tot, mon, st); err != nil {
				return nil, 0, fmt.Errorf("beamscore: part %s: %w", base, err)
			}
			if err := appendFile(cw, base+".csv"); err != nil {
				return nil, 0, err
			}
			if pw, err = appendParquet(pw, pbuf, base+".parquet"); err != nil {
				return nil, 0, err
			}
		}
	}
	if pw == nil || (tot.Rows == 0 && !allowEmpty) {
		return nil, 0, fmt.Errorf("beamscore: refusing input: no rows to score")
	}
	for _, step := range []func() error{cw.Flush, csvF.Close, pw.Close, pbuf.Flush, pqF.Close} {
		if err := step(); err != nil {
			return nil, 0, fmt.Errorf("beamscore: %w", err)
		}
	}
	mr := &score.ModelRun{Name: m.Name, Version: m.Version, Checksum: m.Checksum, Rows: tot.Rows,
		GradeCutoffs: map[string]int{}, Grades: map[string]int64{}, Decisions: map[string]int64{}, Monitoring: mon.Report()}
	for k, c := range s.Cutoffs() {
		mr.GradeCutoffs[score.Grades[k]] = int(c)
	}
	for g, n := range tot.Grades {
		mr.Grades[score.Grades[g]] = n
	}
	for d, n := range tot.Decisions {
		if n > 0 {
			mr.Decisions[s.DecisionName(d)] += n
		}
	}
	for j, n := range tot.Fallbacks {
		c := &m.Chars[j]
		mr.Fallbacks = append(mr.Fallbacks, score.FallbackCount{Variable: c.Name, Bin: c.Bins[c.Fallback].Label, Rows: n})
	}
	return mr, tot.Rows, nil
}

func addStats(tot *PartStats, mon *monitor.Monitor, st PartStats) error {
	if len(st.Fallbacks) != len(tot.Fallbacks) {
		return fmt.Errorf("%d fallback counts, want %d", len(st.Fallbacks), len(tot.Fallbacks))
	}
	tot.Rows += st.Rows
	for g := range tot.Grades {
		tot.Grades[g] += st.Grades[g]
	}
	for d := range tot.Decisions {
		tot.Decisions[d] += st.Decisions[d]
	}
	for j, f := range st.Fallbacks {
		tot.Fallbacks[j] += f
	}
	return mon.AddCounts(st.Monitor)
}

func appendFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("beamscore: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("beamscore: %s: %w", path, err)
	}
	return nil
}

// appendParquet writes the rows of the Parquet part at path to pw,
// creating pw (on w, with the schema the part reads back with and the
// scoring stage's writer settings) at the first part.
func appendParquet(pw *pqarrow.FileWriter, w io.Writer, path string) (*pqarrow.FileWriter, error) {
	f, err := os.Open(path)
	if err != nil {
		return pw, fmt.Errorf("beamscore: %w", err)
	}
	defer f.Close()
	pr, err := file.NewParquetReader(f)
	if err != nil {
		return pw, fmt.Errorf("beamscore: %s: %w", path, err)
	}
	defer pr.Close()
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
	if err != nil {
		return pw, fmt.Errorf("beamscore: %s: %w", path, err)
	}
	if pw == nil {
		sc, err := fr.Schema()
		if err != nil {
			return pw, fmt.Errorf("beamscore: %s: %w", path, err)
		}
		if pw, err = pqarrow.NewFileWriter(sc, w, partProps(sc), pqarrow.DefaultWriterProps()); err != nil {
			return pw, fmt.Errorf("beamscore: %w", err)
		}
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return pw, fmt.Errorf("beamscore: %s: %w", path, err)
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		if err := pw.WriteBuffered(rec); err != nil {
			return pw, fmt.Errorf("beamscore: write scores.parquet: %w", err)
		}
	}
	if err := rr.Err(); err != nil {
		return pw, fmt.Errorf("beamscore: %s: %w", path, err)
	}
	return pw, nil
}

// partProps are the writer settings of score.ParquetProperties for the
// schema the parts read back with, where the coded text columns are plain
// strings: those are dictionary-encoded, entity_id, score and pd plain.
func partProps(sc *arrow.Schema) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(1 << 18),
		parquet.WithDataPageSize(1 << 20),
		parquet.WithCreatedBy("qiandun-beam " + version.String()),
	}
	for _, f := range sc.Fields() {
		switch {
		case f.Name == "entity_id":
			opts = append(opts, parquet.WithStatsFor(f.Name, false))
		case f.Name != "score" && f.Name != "pd":
			opts = append(opts, parquet.WithDictionaryFor(f.Name, true), parquet.WithStatsFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(opts...)
}
