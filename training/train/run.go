//go:build duckdb_arrow

package train

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"qiandun/data/lake"
	"qiandun/features"
	"qiandun/internal/duckstream"
	"qiandun/internal/durable"
	"qiandun/internal/hugepage"
	"qiandun/internal/par"
	"qiandun/internal/version"
	"qiandun/training/binning"
	"qiandun/training/frame"
	"qiandun/training/logit"
	"qiandun/training/scorecard"
	"qiandun/training/selection"
)

// lakeKeys returns the columns of the lake's modelling tables never used
// as characteristics: the keys of both feature sets (features.Key), the
// other identifiers and dates, the label and the query's own columns.
func lakeKeys() []string {
	keys := []string{"borrower_id", "apply_time", "as_of", "issue_month", "obs_date", "label", "bad", "filename", "__y", "__period"}
	for _, set := range []string{features.SetACard, features.SetBCard} {
		if k, err := features.Key(set); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// run is one training run as Run takes it through its phases: reading
// the samples, binning, selection and the fit, validation.
type run struct {
	cfg      *Config
	log      *slog.Logger
	lakeMode bool
	inputs   []string            // input files, full paths
	names    []string            // candidate characteristics
	samples  []*sample           // train first, then test and oot
	dropped  []scorecard.Dropped // characteristics left out, with reasons
	// trends are the numeric characteristics' directions for the
	// boosted card's monotone tables (boostTrend), by name.
	trends map[string]int
	// sampled is the modelling table's rows and the share kept, in
	// millionths, when MaxRows sampled it (sampleRows); zero otherwise.
	sampled [2]int64
	// query reads a query's result into columns (open); conn is the
	// lake mode's DuckDB connection.
	// rows is about how many rows to expect (0: unknown).
	query func(ctx context.Context, q string, kinds map[string]binning.Kind, rows int) (*frame.Frame, error)
	conn  *sql.Conn
	// sums waits for the SHA-256 of each input (fingerprint), hashed
	// while the run reads and bins.
	sums func() ([]string, error)
}

// Run trains a scorecard.
func Run(ctx context.Context, cfg *Config, log *slog.Logger) (*Result, error) {
	started := time.Now().UTC()
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, log: log, lakeMode: cfg.Lake != ""}
	closeDB, err := r.open(ctx)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	if err := r.readSamples(ctx); err != nil {
		return nil, err
	}
	cands, byName, err := r.bin(ctx)
	if err != nil {
		return nil, err
	}
	m, err := r.fit(ctx, cands, byName)
	if err != nil {
		return nil, err
	}
	inputFiles, err := r.describe(m)
	if err != nil {
		return nil, err
	}
	res := &Result{Model: m, Samples: map[string]int{}, Fallbacks: map[string]map[string]int{}, inputs: inputFiles}
	scored, err := r.validate(m, res)
	if err != nil {
		return nil, err
	}
	if err := m.Seal(); err != nil {
		return nil, err
	}
	dir, err := m.WriteWith(cfg.Out, map[string][][]byte{"scored.csv": scored})
	if err != nil {
		return nil, fmt.Errorf("train: write artifact: %w", err)
	}
	res.Dir = dir
	if r.lakeMode {
		if err := writeManifest(cfg, m, res, started); err != nil {
			return nil, err
		}
	}
	log.Info("train: wrote model", "dir", dir, "characteristics", len(m.Chars), "checksum", m.Checksum)
	return res, nil
}

// open prepares r.query, the reader of the data: in lake mode a DuckDB
// connection (the modelling query joins views of the lake) spilling to
// <lake>/_tmp/duckdb like every stage's; in flat mode a streaming DuckDB
// per file (frame.Stream) spilling to <out>/_tmp/duckdb, never to the
// system temporary directory. The returned function closes what it
// opened.
func (r *run) open(ctx context.Context) (func(), error) {
	cfg := r.cfg
	if !r.lakeMode {
		tmp := filepath.Join(cfg.Out, lake.TmpDir)
		if err := os.MkdirAll(filepath.Join(tmp, "duckdb"), 0o755); err != nil {
			return nil, fmt.Errorf("train: duckdb temp dir: %w", err)
		}
		mem := cfg.MemoryLimit
		if mem == "" || mem == "auto" {
			mem = lake.DefaultMemoryLimit()
		}
		o := duckstream.Options{MemoryLimit: mem, TempDir: filepath.Join(tmp, "duckdb"), Threads: runtime.NumCPU(), StreamBuffer: streamBuffer}
		r.query = func(ctx context.Context, q string, kinds map[string]binning.Kind, rows int) (*frame.Frame, error) {
			return frame.Stream(ctx, o, q, kinds, rows)
		}
		return func() { os.RemoveAll(tmp) }, nil
	}
	// cfg.MemoryLimit empty: the lake's default, a share of the machine.
	db, err := lake.New(cfg.Lake).OpenDB(ctx, lake.DBOptions{MemoryLimit: cfg.MemoryLimit})
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	r.conn = conn
	r.query = func(ctx context.Context, q string, kinds map[string]binning.Kind, _ int) (*frame.Frame, error) {
		return frame.Query(ctx, conn, q, kinds)
	}
	return func() { conn.Close(); db.Close() }, nil
}

// streamBuffer is how far DuckDB's threads may parse a flat file ahead
// of the conversion to columns: with DuckDB's default (under a megabyte,
// about three batches of 20 numbers) its threads wait on the reader, and
// a 1,000,000 × 20 CSV took 1.3 s to read instead of 0.9. Above 16 MB
// the buffer only costs page faults (64 MB: 50–54 thousand in the read,
// against 33–39 thousand).
const streamBuffer = "16MB"

// estimateRows is about how many rows a CSV file holds, a little more
// rather than less: its size over the mean length of its first lines
// (up to 1 MiB), plus 5%. 0 for other files or when it cannot tell.
func estimateRows(path string) int {
	if path == "" || strings.ToLower(filepath.Ext(path)) != ".csv" {
		return 0
	}
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	buf := make([]byte, 1<<20)
	n, _ := io.ReadFull(f, buf)
	lines := bytes.Count(buf[:n], []byte{'\n'})
	if lines < 2 {
		return 0
	}
	return int(float64(fi.Size())/(float64(n)/float64(lines))*1.05) + 1024
}

// normalize checks the config and fills in the defaults Run needs.
func (cfg *Config) normalize() error {
	if cfg.Kinds == nil {
		cfg.Kinds = map[string]binning.Kind{}
	}
	if cfg.TestShare <= 0 || cfg.TestShare >= 1 {
		cfg.TestShare = 0.3
	}
	if cfg.OOTMonths <= 0 {
		cfg.OOTMonths = 3
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Out == "" {
		return fmt.Errorf("train: --out is required")
	}
	switch cfg.Method {
	case "", "logistic", "boosted":
	default:
		return fmt.Errorf("train: --method %q: want logistic or boosted", cfg.Method)
	}
	if (cfg.Lake != "") == (cfg.Data != "") {
		return fmt.Errorf("train: give exactly one of --data or --lake")
	}
	return nil
}

// sources returns the queries of the data (and of the test file in flat
// mode, else "") and the columns that are never characteristics; it
// records the input files.
func (r *run) sources(ctx context.Context) (src, testSrc string, exclude map[string]bool, err error) {
	cfg := r.cfg
	exclude = map[string]bool{}
	for _, e := range cfg.Exclude {
		exclude[e] = true
	}
	if r.lakeMode {
		if src, r.inputs, err = lakeQuery(ctx, r.conn, cfg); err != nil {
			return "", "", nil, err
		}
		if src, err = r.sampleRows(ctx, src); err != nil {
			return "", "", nil, err
		}
		for _, k := range lakeKeys() {
			exclude[k] = true
		}
		if cfg.Name == "" {
			cfg.Name = cfg.Model
		}
		cfg.Target, cfg.BadValue = "bad", "1"
		return src, "", exclude, nil
	}
	if cfg.Target == "" || cfg.BadValue == "" {
		return "", "", nil, fmt.Errorf("train: --target and --bad-value are required with --data")
	}
	if src, err = flatQuery(cfg.Data); err != nil {
		return "", "", nil, err
	}
	r.inputs = []string{cfg.Data}
	if cfg.Test != "" {
		if testSrc, err = flatQuery(cfg.Test); err != nil {
			return "", "", nil, err
		}
		r.inputs = append(r.inputs, cfg.Test)
	}
	if cfg.Name == "" {
		cfg.Name = strings.TrimSuffix(filepath.Base(cfg.Data), filepath.Ext(cfg.Data))
	}
	exclude[cfg.Target] = true
	return src, testSrc, exclude, nil
}

// sampleRows returns the lake query q ordered by the set's key and period
// and, when it has more than cfg.MaxRows rows (Config.MaxRows), sampled
// to about that many.
func (r *run) sampleRows(ctx context.Context, q string) (string, error) {
	cfg := r.cfg
	key, err := features.Key(cfg.Model)
	if err != nil {
		return "", err
	}
	order := fmt.Sprintf(" ORDER BY s.%s, s.__period", key)
	if cfg.MaxRows <= 0 {
		return "SELECT * FROM (" + q + ") AS s" + order, nil
	}
	var n int64
	if err := r.conn.QueryRowContext(ctx, "SELECT count(*) FROM ("+q+")").Scan(&n); err != nil {
		return "", fmt.Errorf("train: count the modelling table: %w", err)
	}
	if n <= int64(cfg.MaxRows) {
		return "SELECT * FROM (" + q + ") AS s" + order, nil
	}
	const scale = 1_000_000
	keep := int64(math.Ceil(float64(cfg.MaxRows) * scale / float64(n)))
	r.log.Info("train: sampling the modelling table", "rows", n, "max_rows", cfg.MaxRows, "share", float64(keep)/scale)
	r.sampled = [2]int64{n, keep}
	return fmt.Sprintf("SELECT * FROM (%s) AS s WHERE md5_number_upper(s.%s || '|' || s.__period || '|' || '%d') %% %d < %d%s",
		q, key, cfg.Seed, scale, keep, order), nil
}

// cutShort is a hint for a flat CSV file that cannot be read, or lacks
// the target, and does not end with a line break (a copy or an export
// cut short: DuckDB then reports the last line's missing columns, or
// sniffs a small file as one column, or cannot sniff it at all), or "".
func cutShort(path string) string {
	if path == "" || strings.ToLower(filepath.Ext(path)) != ".csv" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return ""
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil || last[0] == '\n' {
		return ""
	}
	return "it does not end with a line break (cut short?)"
}

// readSamples reads the data and splits it into the train, test and
// out-of-time samples of the candidate characteristics.
func (r *run) readSamples(ctx context.Context) error {
	cfg := r.cfg
	src, testSrc, exclude, err := r.sources(ctx)
	if err != nil {
		return err
	}
	r.log.Info("train: reading", "mode", map[bool]string{true: "lake", false: "flat"}[r.lakeMode], "inputs", len(r.inputs))
	r.sums = fingerprint(r.inputs, nil)
	fr, err := r.query(ctx, src, cfg.Kinds, estimateRows(cfg.Data))
	if err != nil {
		hint := cutShort(cfg.Data)
		if hint != "" {
			hint += ": "
		}
		return fmt.Errorf("train: read %s: %s%w", strings.Join(r.inputs[:min(len(r.inputs), 3)], ", "), hint, err)
	}
	y, err := r.target(fr)
	if err != nil {
		return err
	}
	if err := r.candidates(fr, exclude); err != nil {
		return err
	}
	var devIdx, ootIdx []int
	if r.lakeMode {
		devIdx, ootIdx = splitOOT(fr.Cols["__period"], cfg.OOTMonths)
	} else {
		devIdx = hugepage.Make[int](0, fr.N)
		for i, v := range y {
			if !math.IsNaN(v) {
				devIdx = append(devIdx, i)
			}
		}
	}
	trainIdx, testIdx := devIdx, []int(nil)
	if testSrc == "" {
		trainIdx, testIdx = stratifiedSplit(devIdx, y, cfg.TestShare, cfg.Seed)
	}
	// The test and out-of-time rows are copied out first; the train rows
	// then move to the front of fr's own columns (gatherInPlace).
	var rest []*sample
	if testSrc == "" && len(testIdx) > 0 && len(ootIdx) == 0 {
		// Both samples from fr: they share its columns' storage.
		tr, te := gatherSplitInPlace(fr, r.names, y, trainIdx, testIdx)
		r.samples = []*sample{tr, te}
		return r.checkTrain()
	}
	if testSrc != "" {
		ts, err := r.testFile(ctx, testSrc, fr)
		if err != nil {
			return err
		}
		rest = append(rest, ts)
	} else if len(testIdx) > 0 {
		rest = append(rest, gather("test", fr, r.names, y, testIdx))
	}
	if len(ootIdx) > 0 {
		rest = append(rest, gather("oot", fr, r.names, y, ootIdx))
	}
	r.samples = append([]*sample{gatherInPlace("train", fr, r.names, y, trainIdx)}, rest...)
	return r.checkTrain()
}

// checkTrain checks that the train sample has both classes and logs the
// samples.
func (r *run) checkTrain() error {
	tr := r.samples[0]
	var trBads float64
	for _, v := range tr.y {
		trBads += v
	}
	if trBads == 0 || trBads == float64(tr.n) {
		return fmt.Errorf("train: the train sample (%d rows) has %v bads: need both classes", tr.n, trBads)
	}
	r.log.Info("train: samples", "train", tr.n, "bads", int(trBads), "test", sampleN(r.samples, "test"), "oot", sampleN(r.samples, "oot"), "characteristics", len(r.names))
	return nil
}

// target returns the outcome per row of fr (NaN: none).
func (r *run) target(fr *frame.Frame) ([]float64, error) {
	if r.lakeMode {
		if fr.N == 0 {
			return nil, fmt.Errorf("train: no labelled rows in %s", strings.Join(r.inputs[:min(len(r.inputs), 3)], ", "))
		}
		return fr.Cols["__y"].Num, nil
	}
	y, noTarget, err := flatTarget(fr, r.cfg.Data, r.cfg)
	if err != nil {
		return nil, err
	}
	if noTarget > 0 {
		r.log.Warn("train: rows without a target value left out", "file", r.cfg.Data, "column", r.cfg.Target, "rows", noTarget)
	}
	return y, nil
}

// candidates lists the candidate characteristics of fr (every usable
// column not excluded, or those of --features) and records the columns
// of unsupported types as dropped.
func (r *run) candidates(fr *frame.Frame, exclude map[string]bool) error {
	for _, n := range fr.Names {
		if exclude[n] || strings.HasPrefix(n, "__") {
			continue
		}
		if len(r.cfg.Features) > 0 && !slices.Contains(r.cfg.Features, n) {
			continue
		}
		r.names = append(r.names, n)
	}
	for _, n := range r.cfg.Features {
		if fr.Cols[n] == nil {
			return fmt.Errorf("train: --features names %q, which is not a usable column", n)
		}
	}
	skipped := make([]string, 0, len(fr.Skipped))
	for n := range fr.Skipped {
		skipped = append(skipped, n)
	}
	sort.Strings(skipped)
	for _, n := range skipped {
		if !exclude[n] {
			r.dropped = append(r.dropped, scorecard.Dropped{Variable: n, Reason: "unsupported type " + fr.Skipped[n]})
		}
	}
	return nil
}

// testFile reads the --test file as the test sample, each candidate with
// its kind in the data fr.
func (r *run) testFile(ctx context.Context, testSrc string, fr *frame.Frame) (*sample, error) {
	cfg := r.cfg
	kinds := map[string]binning.Kind{}
	for _, n := range r.names {
		kinds[n] = fr.Cols[n].Kind
	}
	tf, err := r.query(ctx, testSrc, kinds, estimateRows(cfg.Test))
	if err != nil {
		return nil, fmt.Errorf("train: read %s: %w", cfg.Test, err)
	}
	ty, _, err := flatTarget(tf, cfg.Test, cfg)
	if err != nil {
		return nil, err
	}
	var all []int
	for i, v := range ty {
		if !math.IsNaN(v) {
			all = append(all, i)
		}
	}
	for _, n := range r.names {
		if tf.Cols[n] == nil {
			return nil, fmt.Errorf("train: test file %s lacks column %q", cfg.Test, n)
		}
	}
	return gather("test", tf, r.names, ty, all), nil
}

// bin bins every candidate on the train sample (by the --bins file where
// it names one) and returns the selection candidates, WoE-coded, and the
// binnings by name.
func (r *run) bin(ctx context.Context) ([]selection.Candidate, map[string]*binning.Binning, error) {
	cfg, tr := r.cfg, r.samples[0]
	specs, err := r.binSpecs()
	if err != nil {
		return nil, nil, err
	}
	cols := make([]*binning.Column, 0, len(r.names))
	for _, n := range r.names {
		c := tr.cols[n]
		if c.Kind == binning.Categorical && len(c.Dict) > 1000 && len(c.Dict)*2 > tr.n {
			r.dropped = append(r.dropped, scorecard.Dropped{Variable: n, Reason: fmt.Sprintf("high cardinality: %d distinct values", len(c.Dict))})
			continue
		}
		cols = append(cols, c)
	}
	phase := time.Now()
	bo := cfg.Binning
	bo.Seed = cfg.Seed
	bins, errs := binning.FitAll(ctx, cols, tr.y, bo, specs, cfg.Workers)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var cands []selection.Candidate
	byName := map[string]*binning.Binning{}
	r.trends = map[string]int{}
	oot := findSample(r.samples, "oot")
	// Each column's bin and WoE per train row, on two workers (a pass
	// over the rows per column).
	built := make([]selection.Candidate, len(bins))
	par.Halves(len(bins), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if b := bins[i]; errs[i] == nil && len(b.Bins) > 1 {
				built[i] = candidate(b, cols[i], tr.n)
			}
		}
	})
	for i, b := range bins {
		if errs[i] != nil {
			r.dropped = append(r.dropped, scorecard.Dropped{Variable: cols[i].Name, Reason: "binning: " + errs[i].Error()})
			continue
		}
		byName[b.Variable] = b
		mono := bo.WithDefaults().Monotonic
		if sp, ok := specs[b.Variable]; ok && sp.Monotonic != "" {
			mono = sp.Monotonic
		}
		r.trends[b.Variable] = boostTrend(b, mono)
		if len(b.Bins) == 1 {
			r.dropped = append(r.dropped, scorecard.Dropped{Variable: b.Variable, Reason: "one bin: no split meets the minimum share and shape"})
			continue
		}
		c := built[i]
		if oot != nil {
			c.PSI = binPSI(b, tr.cols[b.Variable], oot.cols[b.Variable])
		}
		cands = append(cands, c)
	}
	r.log.Info("train: binned", "characteristics", len(cols), "seconds", time.Since(phase).Seconds())
	return cands, byName, nil
}

// binSpecs loads the --bins file, if any, warning of the variables it
// names that are not candidates.
func (r *run) binSpecs() (map[string]binning.Spec, error) {
	cfg := r.cfg
	if cfg.BinsFile == "" {
		return map[string]binning.Spec{}, nil
	}
	specs, err := LoadBins(cfg.BinsFile)
	if err != nil {
		return nil, err
	}
	r.inputs = append(r.inputs, cfg.BinsFile)
	var unknown []string
	for v := range specs {
		if !slices.Contains(r.names, v) {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		r.log.Warn("train: --bins names variables that are not candidate characteristics; ignored", "file", cfg.BinsFile, "variables", strings.Join(unknown, ","))
	}
	return specs, nil
}

// candidate is the selection candidate of binning b of col (n train
// rows): its WoE and bin per row, IV, missing rate and largest bin share.
func candidate(b *binning.Binning, col *binning.Column, n int) selection.Candidate {
	idx, _ := b.Index(col)
	w := hugepage.Make[float64](len(idx), 0)
	for r, k := range idx {
		w[r] = b.Bins[k].WoE
	}
	c := selection.Candidate{Name: b.Variable, IV: b.IV, WoE: w, Bins: idx, PSI: math.NaN()}
	var maxCount int64
	for _, bin := range b.Bins {
		if bin.Missing {
			c.MissingRate = float64(bin.Count) / float64(n)
		}
		maxCount = max(maxCount, bin.Count)
	}
	c.SingleShare = float64(maxCount) / float64(n)
	return c
}

// fit selects the characteristics and fits the card (logistic on WoE, or
// the boosted additive card).
func (r *run) fit(ctx context.Context, cands []selection.Candidate, byName map[string]*binning.Binning) (*scorecard.Model, error) {
	cfg, tr := r.cfg, r.samples[0]
	phase := time.Now()
	if cfg.Method == "boosted" {
		return trainBoosted(ctx, cfg, cands, tr, r.trends, &r.dropped, r.names, phase, r.log)
	}
	kept := cands
	var fit *logit.Result // the sign check's last fit: the final one
	if len(cfg.Features) == 0 {
		so := cfg.Selection
		so.L2 = cfg.L2
		so.Seed = cfg.Seed
		var d []selection.Dropped
		var err error
		if kept, d, fit, err = selection.SelectFit(ctx, cands, tr.y, so); err != nil {
			return nil, fmt.Errorf("train: selection: %w", err)
		}
		for _, x := range d {
			r.dropped = append(r.dropped, scorecard.Dropped{Variable: x.Variable, Reason: x.Reason})
		}
	}
	if len(kept) == 0 {
		return nil, noneKept(r.names, r.dropped)
	}
	r.log.Info("train: selected", "kept", len(kept), "seconds", time.Since(phase).Seconds())
	xs := make([][]float64, len(kept))
	keptBins := make([]*binning.Binning, len(kept))
	for j, c := range kept {
		xs[j] = c.WoE
		keptBins[j] = byName[c.Name]
	}
	if cfg.L2CV {
		so := cfg.Selection
		so.Seed = cfg.Seed
		var err error
		if cfg.L2, err = selection.ChooseL2(ctx, kept, tr.y, so); err != nil {
			return nil, fmt.Errorf("train: choosing l2: %w", err)
		}
		r.log.Info("train: l2 chosen by cross-validation", "l2", cfg.L2)
		fit = nil // the penalty changed: fit again
	}
	if fit == nil {
		var err error
		if fit, err = logit.Fit(ctx, xs, tr.y, logit.Options{L2: cfg.L2}); err != nil {
			return nil, fmt.Errorf("train: logistic fit on %d characteristics: %w", len(kept), err)
		}
	}
	coefs := make([]scorecard.Coef, len(fit.Coef))
	for j := range coefs {
		coefs[j] = scorecard.Coef{Estimate: fit.Coef[j], StdErr: fit.StdErr[j], Z: fit.Z[j], PValue: fit.PValue[j]}
	}
	m, err := scorecard.Build(cfg.Name, keptBins, coefs, cfg.Scaling)
	if err != nil {
		return nil, err
	}
	m.Fit = scorecard.Fit{N: fit.N, LogLik: fit.LogLik, AIC: fit.AIC, BIC: fit.BIC, Iterations: fit.Iterations, L2: cfg.L2}
	r.log.Info("train: fitted", "seconds", time.Since(phase).Seconds())
	return m, nil
}

// describe fills in the model's provenance (versions, target, seed,
// dropped characteristics, settings, input files) and returns the input
// files with their full paths and hashes for the manifest.
func (r *run) describe(m *scorecard.Model) ([]lake.File, error) {
	cfg := r.cfg
	m.Version = cfg.Version
	m.CodeVersion = version.String()
	m.Target, m.BadValue, m.Seed = cfg.Target, cfg.BadValue, cfg.Seed
	m.Dropped = r.dropped
	if m.Dropped == nil {
		m.Dropped = []scorecard.Dropped{}
	}
	m.Settings = settings(cfg)
	if r.sampled[0] > 0 {
		m.Settings["sampled"] = fmt.Sprintf("%d of %d rows: md5(key|period|seed) mod 1e6 below %d", sampleN(r.samples, "train")+sampleN(r.samples, "test")+sampleN(r.samples, "oot"), r.sampled[0], r.sampled[1])
	}
	// model.json names its inputs by where they sit in the lake (or by
	// file name), never by the lake's own path: the same book trained
	// under another root gives the same bytes and version. The run
	// manifest keeps the full paths.
	sums, err := r.sums()
	if err != nil {
		return nil, err
	}
	// Inputs read after the data (the --bins file) are hashed now.
	if sums, err = fingerprint(r.inputs[len(sums):], sums)(); err != nil {
		return nil, err
	}
	var inputFiles []lake.File
	for i, p := range r.inputs {
		sum := sums[i]
		inputFiles = append(inputFiles, lake.File{Path: p, SHA256: sum})
		m.Data = append(m.Data, scorecard.DataFile{Path: artifactPath(cfg, p), SHA256: sum})
	}
	return inputFiles, nil
}

// fingerprint starts hashing the files and returns the wait for their
// SHA-256 sums, in order, appended to sums. The hash of a 112 MB CSV is
// a tenth of a second on one core, which the read leaves spare.
func fingerprint(files, sums []string) func() ([]string, error) {
	files = slices.Clone(files)
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, p := range files {
			var sum string
			if sum, err = durable.SHA256(p); err != nil {
				err = fmt.Errorf("train: fingerprint: %w", err)
				return
			}
			sums = append(sums, sum)
		}
	}()
	return func() ([]string, error) {
		<-done
		return sums, err
	}
}

// validate scores every sample, records its rows, fallbacks, metrics,
// gains and characteristic PSI in m and res, and returns scored.csv in
// parts.
func (r *run) validate(m *scorecard.Model, res *Result) ([][]byte, error) {
	phase := time.Now()
	n := len(r.samples)
	scores := make([]*scorecard.Scores, n)
	// One sample at a time: Score splits its rows between the cores.
	for k, s := range r.samples {
		var err error
		if scores[k], err = m.Score(s.cols); err != nil {
			return nil, err
		}
	}
	scored := scoredCSV(r.samples, scores)
	// Every sample's metrics against the train scores (the first sample).
	trainSc := scores[0]
	vals := make([]scorecard.Sample, n)
	gains := make([][]scorecard.Gain, n)
	verrs := make([]error, n)
	par.Halves(n, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			s := r.samples[k]
			vals[k], gains[k], verrs[k] = validate(s.name, scores[k], s.y, trainSc.Score, m.Scaling.PDO)
		}
	})
	for k, s := range r.samples {
		res.Samples[s.name] = s.n
		sc := scores[k]
		fb := map[string]int{}
		for j, c := range m.Chars {
			if sc.Fallbacks[j] > 0 {
				fb[c.Name] = sc.Fallbacks[j]
			}
		}
		res.Fallbacks[s.name] = fb
		if verrs[k] != nil {
			r.log.Warn("train: validation", "sample", s.name, "err", verrs[k])
			continue
		}
		m.Metrics = append(m.Metrics, vals[k])
		m.Gains = append(m.Gains, gains[k]...)
		if s.name != "train" {
			for j, c := range m.Chars {
				m.PSI = append(m.PSI, scorecard.CharPSI{Variable: c.Name, Sample: s.name,
					PSI: finite(binIndexPSI(len(c.Bins), trainSc.Bin[j], sc.Bin[j]))})
			}
		}
	}
	r.log.Info("train: validated", "seconds", time.Since(phase).Seconds())
	return scored, nil
}

// scoredRows is how many rows of scored.csv one part holds.
const scoredRows = 1 << 17

// scoredCSV returns scored.csv, the header and then every sample's rows
// in order, in parts formatted in parallel.
func scoredCSV(samples []*sample, scores []*scorecard.Scores) [][]byte {
	type part struct{ k, lo, hi int }
	var parts []part
	for k, s := range samples {
		for lo := 0; lo < s.n; lo += scoredRows {
			parts = append(parts, part{k, lo, min(lo+scoredRows, s.n)})
		}
	}
	out := make([][]byte, 1+len(parts))
	out[0] = []byte("sample,score,pd,bad\n")
	par.Halves(len(parts), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := parts[i]
			out[1+i] = appendScored(nil, samples[p.k].name, scores[p.k], samples[p.k].y, p.lo, p.hi)
		}
	})
	return out
}
