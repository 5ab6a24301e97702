//go:build duckdb_arrow

// Package train is the orchestrator behind `qiandun train`: it reads the
// modelling table with DuckDB (a flat CSV/Parquet file, or features joined
// with labels from the lake), splits it into train, test and out-of-time
// samples, bins every characteristic, selects, fits the logistic model,
// scales it to points, validates it and writes the scorecard artifact.
//
// Samples. In flat mode the test sample is --test when given, else a
// seeded stratified TestShare (default 30%) of the data. In lake mode the
// rows of the latest OOTMonths periods (issue month for the A-card,
// observation month for the B-card) are the out-of-time sample and the
// rest is split into train and test as in flat mode. Only the train sample
// is used for binning, selection and the fit.
package train

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"qiandun/data/lake"
	"qiandun/features"
	"qiandun/internal/durable"
	"qiandun/internal/hugepage"
	"qiandun/internal/par"
	"qiandun/internal/version"
	"qiandun/training/binning"
	"qiandun/training/frame"
	"qiandun/training/metrics"
	"qiandun/training/scorecard"
	"qiandun/training/selection"
)

// Config is everything a training run needs.
type Config struct {
	// Flat mode.
	Data     string // CSV or Parquet file
	Test     string // optional test file
	Target   string
	BadValue string
	// GoodValues are the values of Target that mean good. Empty: when
	// Target takes exactly two values, the one that is not BadValue;
	// any third value is an error unless OthersGood.
	GoodValues []string
	// OthersGood counts every value that is neither BadValue nor one of
	// GoodValues as good (rather than an error).
	OthersGood bool
	// Lake mode.
	Lake      string
	Model     string // acard | bcard
	AsOf      string // restrict features to one as_of snapshot (optional)
	OOTMonths int    // latest periods held out (default 3)
	// MaxRows caps the modelling table at about this many rows (0: every
	// row): when it has more, a uniform sample of them, each row kept
	// when the MD5 of its key, period and Seed falls below the share, so
	// the same book and seed give the same sample whatever the order of
	// the files. Uniform, so the bad rate and the score scale stay
	// unbiased; a development sample of millions of rows gains little
	// more from the rest, and the memory stays bounded as the book grows.
	MaxRows int
	// MemoryLimit is DuckDB's memory_limit (default 3GB); in lake mode it
	// spills to <lake>/_tmp, in flat mode to the system temp directory.
	MemoryLimit string

	Out      string
	Name     string // default: file stem, or the model kind
	Version  string // default: derived from the content (deterministic)
	BinsFile string
	Features []string // fixed list: skip selection
	Exclude  []string
	Seed     uint64
	// TestShare of the development rows for test (default 0.3).
	TestShare float64
	Binning   binning.Options
	Selection selection.Options
	Scaling   scorecard.Scaling
	Kinds     map[string]binning.Kind
	L2        float64
	Workers   int
	// Method is "logistic" (the default: WoE, selection, logistic
	// regression) or "boosted" (the boosted additive card: fitBoosted).
	Method string
	Boost  BoostOptions
	// L2CV chooses L2 for the final logistic fit by cross-validation
	// (selection.ChooseL2) after selection.
	L2CV bool
}

// NewConfig returns a config with the defaults.
func NewConfig() *Config {
	return &Config{Seed: 1, TestShare: 0.3, OOTMonths: 3, Kinds: map[string]binning.Kind{}, Scaling: scorecard.DefaultScaling(),
		Binning: binning.Options{BinCount: "cv"}}
}

// Result is a finished run.
type Result struct {
	Model   *scorecard.Model
	Dir     string
	Samples map[string]int // rows per sample
	// Fallbacks counts, per sample and characteristic, rows whose value
	// had no bin of its own.
	Fallbacks map[string]map[string]int

	inputs []lake.File // the input files, full paths (the lake manifest)
}

type sample struct {
	name string
	y    []float64
	cols map[string]*binning.Column
	n    int
}

// writeManifest records the lake-mode run in <lake>/_manifests/train-<model>.json,
// one commit of the lake made after the model version is published: a
// crash between the two leaves a published version (content-addressed, so
// the re-run finds it and writes nothing) and the previous manifest.
func writeManifest(cfg *Config, m *scorecard.Model, res *Result, started time.Time) error {
	l := lake.New(cfg.Lake)
	man := &lake.Manifest{Stage: "train-" + cfg.Model, Version: version.String(), Started: started, Finished: time.Now().UTC(),
		Config: map[string]any{}, Counts: map[string]int64{}, Extra: map[string]any{"model_version": m.Version, "checksum": m.Checksum}}
	for k, v := range m.Settings {
		man.Config[k] = v
	}
	man.Config["seed"] = cfg.Seed
	man.Inputs = append(man.Inputs, res.inputs...)
	ents, err := os.ReadDir(res.Dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(res.Dir, e.Name())
		sum, err := durable.SHA256(p)
		if err != nil {
			return err
		}
		fi, _ := e.Info()
		man.Outputs = append(man.Outputs, lake.File{Path: p, SHA256: sum, Bytes: fi.Size()})
	}
	for _, s := range m.Metrics {
		man.Counts[s.Sample+"_rows"] = int64(s.N)
		man.Counts[s.Sample+"_bads"] = int64(s.Bads)
	}
	man.Counts["characteristics_kept"] = int64(len(m.Chars))
	man.Counts["characteristics_dropped"] = int64(len(m.Dropped))
	man.Timings = map[string]float64{"total": time.Since(started).Seconds()}
	c, err := l.Begin(man.Stage)
	if err != nil {
		return err
	}
	defer c.Abort()
	if err := c.WriteManifest(man); err != nil {
		return err
	}
	return c.Commit()
}

func sampleN(ss []*sample, name string) int {
	if s := findSample(ss, name); s != nil {
		return s.n
	}
	return 0
}

func findSample(ss []*sample, name string) *sample {
	for _, s := range ss {
		if s.name == name {
			return s
		}
	}
	return nil
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func settings(cfg *Config) map[string]string {
	o := cfg.Binning.WithDefaults()
	so := cfg.Selection.WithDefaults()
	s := map[string]string{
		"binning.method": string(o.Method), "binning.monotonic": string(o.Monotonic),
		"binning.max_bins": strconv.Itoa(o.MaxBins), "binning.min_share": fmt.Sprint(o.MinShare), "binning.share_precision": strconv.FormatBool(o.SharePrecision),
		"binning.fine_bins": strconv.Itoa(o.FineBins), "binning.merge_missing": strconv.FormatBool(o.MergeMissing),
		"binning.bin_count": o.BinCount, "selection.folds": strconv.Itoa(so.Folds),
		"selection.stepwise": so.Stepwise, "selection.criterion": so.Criterion, "selection.min_iv": fmt.Sprint(so.MinIV),
		"selection.max_corr": fmt.Sprint(so.MaxCorr), "selection.max_vif": fmt.Sprint(so.MaxVIF), "selection.max_psi": fmt.Sprint(so.MaxPSI),
		"selection.sign_check": strconv.FormatBool(!so.NoSignCheck),
		"test_share":           fmt.Sprint(cfg.TestShare), "l2": fmt.Sprint(cfg.L2), "method": cmp.Or(cfg.Method, "logistic"),
	}
	if cfg.Method == "boosted" {
		bo := cfg.Boost.withDefaults()
		s["boosted.max_pairs"], s["boosted.pair_bins"], s["boosted.pair_min_gain"] = strconv.Itoa(max(bo.MaxPairs, 0)), strconv.Itoa(bo.PairBins), fmt.Sprint(bo.PairMinGain)
		s["boosted.leaves"], s["boosted.gate"] = strconv.Itoa(bo.Leaves), fmt.Sprint(bo.Gate)
		s["boosted.l2"], s["boosted.bags"] = fmt.Sprint(bo.L2), strconv.Itoa(bo.Bags)
	}
	if len(cfg.Features) > 0 {
		s["features"] = strings.Join(cfg.Features, ",")
	}
	if cfg.MaxRows > 0 {
		s["max_rows"] = strconv.Itoa(cfg.MaxRows)
	}
	if cfg.Lake != "" {
		s["model"], s["oot_months"], s["as_of"] = cfg.Model, strconv.Itoa(cfg.OOTMonths), cfg.AsOf
	}
	return s
}

// validate computes the sample's metrics, gains by decile and bad rate by
// score band (bands PDO points wide, anchored on the train scores).
func validate(name string, sc *scorecard.Scores, y, trainScore []float64, pdo float64) (scorecard.Sample, []scorecard.Gain, error) {
	rk, err := metrics.Rank(sc.PD, y) // one sort for the summary, gains and HL
	if err != nil {
		return scorecard.Sample{}, nil, err
	}
	sum := rk.Summary()
	v := scorecard.Sample{Sample: name, N: sum.N, Bads: sum.Bads, AUC: sum.AUC, Gini: sum.Gini, KS: sum.KS}
	if hl, p, err := rk.HosmerLemeshow(10); err == nil {
		v.HL, v.HLP = finite(hl), finite(p)
	}
	if name != "train" {
		if p, err := metrics.ScorePSI(trainScore, sc.Score, 10); err == nil {
			v.ScorePSI = p
		}
	}
	var gains []scorecard.Gain
	dec, err := rk.Gains(10)
	if err == nil {
		for _, b := range dec {
			gains = append(gains, scorecard.Gain{Sample: name, Kind: "decile", Band: b.Band, Lower: b.Lower, Upper: b.Upper, N: b.N,
				Bads: b.Bads, BadRate: b.BadRate, CumBadPct: b.CumBadPct, Lift: b.Lift, CumLift: b.CumLift})
		}
	}
	lo, hi := slices.Min(trainScore), slices.Max(trainScore)
	var cuts []float64
	if pdo > 0 {
		for c := math.Floor(lo/pdo)*pdo + pdo; c <= hi && len(cuts) < 30; c += pdo {
			cuts = append(cuts, c)
		}
	}
	for _, b := range metrics.ByBands(sc.Score, y, cuts) {
		if b.N == 0 {
			continue
		}
		l, u := b.Lower, b.Upper
		if math.IsInf(l, -1) {
			l = math.Min(lo, slices.Min(sc.Score))
		}
		if math.IsInf(u, 1) {
			u = math.Max(hi, slices.Max(sc.Score))
		}
		gains = append(gains, scorecard.Gain{Sample: name, Kind: "band", Band: b.Band, Lower: l, Upper: u, N: b.N,
			Bads: b.Bads, BadRate: b.BadRate, CumBadPct: b.CumBadPct, Lift: b.Lift})
	}
	return v, gains, nil
}

// appendScored appends rows [lo, hi) of a sample's rows of scored.csv
// (sample, score, PD and outcome per row) to dst.
func appendScored(dst []byte, name string, sc *scorecard.Scores, y []float64, lo, hi int) []byte {
	if dst == nil {
		dst = hugepage.Make[byte](0, (hi-lo)*(len(name)+32))
	}
	for i := lo; i < hi; i++ {
		dst = append(dst, name...)
		dst = append(dst, ',')
		dst = appendScore(dst, sc.Score[i])
		dst = append(dst, ',')
		dst = strconv.AppendFloat(dst, sc.PD[i], 'g', 10, 64)
		dst = append(dst, ',')
		dst = strconv.AppendInt(dst, int64(y[i]), 10)
		dst = append(dst, '\n')
	}
	return dst
}

// appendScore appends strconv.FormatFloat(score, 'f', 4, 64) of a score
// of the fixed-point scorer (scorecard.ScoreOf(t) = t / 10⁴, correctly
// rounded) by formatting the integer t, several times faster than
// formatting the float; any other value goes to strconv.
func appendScore(dst []byte, score float64) []byte {
	t := math.Round(score * 1e4)
	if math.Abs(t) >= 1<<50 || t/1e4 != score || score == 0 && math.Signbit(score) {
		return strconv.AppendFloat(dst, score, 'f', 4, 64)
	}
	v := int64(t)
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	dst = strconv.AppendInt(dst, v/10000, 10)
	frac := v % 10000
	return append(dst, '.', byte('0'+frac/1000), byte('0'+frac/100%10), byte('0'+frac/10%10), byte('0'+frac%10))
}

// binPSI is the PSI of a characteristic's bin distribution, b vs a.
func binPSI(bn *binning.Binning, a, b *binning.Column) float64 {
	if a == nil || b == nil || a.Len() == 0 || b.Len() == 0 {
		return math.NaN()
	}
	count := func(c *binning.Column) []float64 {
		idx, _ := bn.Index(c)
		out := make([]float64, len(bn.Bins))
		for _, k := range idx {
			out[k]++
		}
		return out
	}
	p, err := metrics.PSI(count(a), count(b))
	if err != nil {
		return math.NaN()
	}
	return p
}

// binIndexPSI is the PSI of a characteristic's bin distribution (of nb
// bins) in sample b vs sample a, from each row's bin as the scorer found
// it.
func binIndexPSI(nb int, a, b []int32) float64 {
	count := func(idx []int32) []float64 {
		out := make([]float64, nb)
		for _, k := range idx {
			out[k]++
		}
		return out
	}
	p, err := metrics.PSI(count(a), count(b))
	if err != nil {
		return math.NaN()
	}
	return p
}

// gather takes rows idx of the named columns.
func gather(name string, fr *frame.Frame, names []string, y []float64, idx []int) *sample {
	s := &sample{name: name, n: len(idx), y: hugepage.Make[float64](len(idx), 0), cols: map[string]*binning.Column{}}
	for k, i := range idx {
		s.y[k] = y[i]
	}
	cols := make([]*binning.Column, len(names))
	par.Halves(len(names), func(lo, hi int) { // two workers, a share of the columns each
		for j := lo; j < hi; j++ {
			cols[j] = fr.Cols[names[j]].Take(idx)
		}
	})
	for j, n := range names {
		s.cols[n] = cols[j]
	}
	return s
}

// gatherInPlace is gather for the last use of fr's columns: when idx is
// strictly increasing it moves rows idx of each named column to the front
// of the column's own storage (row k ≤ idx[k], so a forward pass never
// overwrites a row it still needs) and returns the sample over those
// prefixes, touching no new memory; fr's columns are garbage afterwards.
// Otherwise it is gather.
func gatherInPlace(name string, fr *frame.Frame, names []string, y []float64, idx []int) *sample {
	for k := 1; k < len(idx); k++ {
		if idx[k] <= idx[k-1] {
			return gather(name, fr, names, y, idx)
		}
	}
	s := &sample{name: name, n: len(idx), y: hugepage.Make[float64](len(idx), 0), cols: map[string]*binning.Column{}}
	for k, i := range idx {
		s.y[k] = y[i]
	}
	cols := make([]*binning.Column, len(names))
	par.Halves(len(names), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			c := fr.Cols[names[j]]
			o := &binning.Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict}
			if c.Kind == binning.Categorical {
				o.Codes = compactPrefix(c.Codes, idx)
			} else {
				o.Num = compactPrefix(c.Num, idx)
			}
			cols[j] = o
		}
	})
	for j, n := range names {
		s.cols[n] = cols[j]
	}
	return s
}

// gatherSplitInPlace is gather of the train rows and of the test rows of
// fr for the last use of its columns, when both lists are strictly
// increasing: each column's test values are copied aside, its train rows
// move to the front (compactPrefix) and the test values follow them, so
// the two samples share the column's own storage and no sample keeps a
// second copy of the table. Otherwise it is gather of each.
func gatherSplitInPlace(fr *frame.Frame, names []string, y []float64, trainIdx, testIdx []int) (train, test *sample) {
	if !slices.IsSorted(testIdx) || len(slices.Compact(slices.Clone(testIdx))) != len(testIdx) {
		test = gather("test", fr, names, y, testIdx) // copied out before fr's columns move
		return gatherInPlace("train", fr, names, y, trainIdx), test
	}
	for k := 1; k < len(trainIdx); k++ {
		if trainIdx[k] <= trainIdx[k-1] {
			train = gather("train", fr, names, y, trainIdx)
			return train, gatherInPlace("test", fr, names, y, testIdx)
		}
	}
	nTe := len(testIdx)
	mk := func(name string, idx []int) *sample {
		s := &sample{name: name, n: len(idx), y: hugepage.Make[float64](len(idx), 0), cols: map[string]*binning.Column{}}
		for k, i := range idx {
			s.y[k] = y[i]
		}
		return s
	}
	train, test = mk("train", trainIdx), mk("test", testIdx)
	trCols, teCols := make([]*binning.Column, len(names)), make([]*binning.Column, len(names))
	par.Halves(len(names), func(lo, hi int) {
		var numBuf []float64 // this worker's aside buffers
		var codeBuf []int32
		for j := lo; j < hi; j++ {
			c := fr.Cols[names[j]]
			tr := &binning.Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict}
			te := &binning.Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict}
			if c.Kind == binning.Categorical {
				if codeBuf == nil {
					codeBuf = hugepage.Make[int32](nTe, 0)
				}
				tr.Codes, te.Codes = splitInPlace(c.Codes, trainIdx, testIdx, codeBuf)
			} else {
				if numBuf == nil {
					numBuf = hugepage.Make[float64](nTe, 0)
				}
				tr.Num, te.Num = splitInPlace(c.Num, trainIdx, testIdx, numBuf)
			}
			trCols[j], teCols[j] = tr, te
		}
	})
	for j, n := range names {
		train.cols[n], test.cols[n] = trCols[j], teCols[j]
	}
	return train, test
}

// splitInPlace rearranges v (the rows trainIdx and testIdx, disjoint and
// each strictly increasing) into v[:len(trainIdx)], the train rows in
// order, followed by the test rows in order; aside holds the test rows
// meanwhile.
func splitInPlace[T any](v []T, trainIdx, testIdx []int, aside []T) (train, test []T) {
	for k, i := range testIdx {
		aside[k] = v[i]
	}
	train = compactPrefix(v, trainIdx)
	nTr := len(trainIdx)
	test = v[nTr : nTr+len(testIdx) : nTr+len(testIdx)]
	copy(test, aside[:len(testIdx)])
	return train, test
}

// compactPrefix moves v[idx[k]] to v[k] for strictly increasing idx and
// returns v[:len(idx)] (capacity cut, so an append cannot clobber the rest).
func compactPrefix[T any](v []T, idx []int) []T {
	for k, i := range idx {
		v[k] = v[i]
	}
	return v[:len(idx):len(idx)]
}

// stratifiedSplit puts round(share·n) of each class, chosen by a seeded
// shuffle, into test; both outputs keep the original row order.
func stratifiedSplit(idx []int, y []float64, share float64, seed uint64) (train, test []int) {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	n := 0
	for _, i := range idx {
		n = max(n, i+1)
	}
	isTest := hugepage.Make[bool](n, 0)
	// One buffer for both classes (no regrowth), of int32: the shuffle's
	// random swaps then miss the cache half as often (a frame of 2³¹
	// rows would hold 16 GiB a column).
	rows := hugepage.Make[int32](0, len(idx))
	nTest := 0
	for _, cls := range []float64{0, 1} {
		rows = rows[:0]
		for _, i := range idx {
			if y[i] == cls {
				rows = append(rows, int32(i))
			}
		}
		r.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		k := int(math.Round(share * float64(len(rows))))
		for _, i := range rows[:k] {
			isTest[i] = true
		}
		nTest += k
	}
	train, test = hugepage.Make[int](0, len(idx)-nTest), hugepage.Make[int](0, nTest)
	for _, i := range idx {
		if isTest[i] {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return train, test
}

// splitOOT holds out the rows of the latest k distinct periods.
func splitOOT(period *binning.Column, k int) (dev, oot []int) {
	if period == nil {
		return nil, nil
	}
	var vals []string
	seen := map[string]bool{}
	for _, c := range period.Codes {
		if c >= 0 && !seen[period.Dict[c]] {
			seen[period.Dict[c]] = true
			vals = append(vals, period.Dict[c])
		}
	}
	slices.SortFunc(vals, cmp.Compare[string])
	cut := ""
	if len(vals) > k {
		cut = vals[len(vals)-k]
	}
	for i, c := range period.Codes {
		if cut != "" && c >= 0 && period.Dict[c] >= cut {
			oot = append(oot, i)
		} else {
			dev = append(dev, i)
		}
	}
	return dev, oot
}

// noneKept is the error of a run where no characteristic is left: every
// candidate with the reason it went.
func noneKept(names []string, dropped []scorecard.Dropped) error {
	if len(names) == 0 {
		return fmt.Errorf("train: no candidate characteristics (every column is the target, excluded or of an unsupported type)")
	}
	var b strings.Builder
	for i, d := range dropped {
		if i == 12 {
			fmt.Fprintf(&b, "; and %d more", len(dropped)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", d.Variable, d.Reason)
	}
	return fmt.Errorf("train: no characteristic survived binning and selection (%d candidates): %s", len(names), b.String())
}

// flatTarget returns y per row of fr (1 bad, 0 good, NaN when the target
// is missing) and the number of rows without a target value. A missing
// target column, no data rows, or a target value that is neither bad nor
// a declared (or inferred) good value is an error naming the file.
func flatTarget(fr *frame.Frame, path string, cfg *Config) ([]float64, int, error) {
	col := fr.Cols[cfg.Target]
	if col == nil {
		if t, ok := fr.Skipped[cfg.Target]; ok {
			return nil, 0, fmt.Errorf("train: %s: target column %q has unsupported type %s", path, cfg.Target, t)
		}
		names := fr.Names
		more := ""
		if len(names) > 20 {
			names, more = names[:20], ", ..."
		}
		if hint := cutShort(path); hint != "" {
			more += "; " + hint
		}
		return nil, 0, fmt.Errorf("train: %s has no target column %q (columns: %s%s)", path, cfg.Target, strings.Join(names, ", "), more)
	}
	if fr.N == 0 {
		return nil, 0, fmt.Errorf("train: %s has no data rows (header only?): nothing to train on for target column %q", path, cfg.Target)
	}
	t := &targetKeys{idx: map[string]int{}, key: hugepage.Make[int32](fr.N, 0)}
	if col.Kind == binning.Numeric {
		t.numeric(col.Num, cfg.BadValue)
	} else {
		t.categorical(col)
	}
	vals, key, missing := t.vals, t.key, t.missing
	if missing == fr.N {
		return nil, 0, fmt.Errorf("train: %s: target column %q is empty in all %d rows", path, cfg.Target, fr.N)
	}
	good := map[string]bool{}
	for _, g := range cfg.GoodValues {
		good[g] = true
		if col.Kind == binning.Numeric {
			if f, err := strconv.ParseFloat(g, 64); err == nil {
				good[strconv.FormatFloat(f, 'f', -1, 64)] = true
			}
		}
	}
	if len(cfg.GoodValues) == 0 && len(vals) == 2 {
		for _, v := range vals {
			good[v.s] = true
		}
	}
	isBad := make([]float64, len(vals))
	var unexpected []string
	for k, v := range vals {
		switch {
		case v.s == cfg.BadValue:
			isBad[k] = 1
		case good[v.s] || cfg.OthersGood:
		default:
			unexpected = append(unexpected, fmt.Sprintf("%q (%d rows)", v.s, v.n))
		}
	}
	if len(unexpected) > 0 {
		if len(unexpected) > 10 {
			unexpected = append(unexpected[:10], fmt.Sprintf("and %d more values", len(unexpected)-10))
		}
		want := fmt.Sprintf("it takes %d values: declare the good ones with --good-value", len(vals))
		if len(cfg.GoodValues) > 0 {
			want = "good values are " + strings.Join(cfg.GoodValues, ", ")
		}
		return nil, 0, fmt.Errorf("train: %s: target column %q has values that are neither the bad value %q nor good: %s (%s, or count them as good with --others-good)",
			path, cfg.Target, cfg.BadValue, strings.Join(unexpected, ", "), want)
	}
	y := hugepage.Make[float64](fr.N, 0)
	for i, k := range key {
		if k < 0 {
			y[i] = math.NaN()
		} else {
			y[i] = isBad[k]
		}
	}
	return y, missing, nil
}

// targetKeys numbers the distinct values of a target column in order of
// first appearance, counts them, and keys each row by its value's number
// (-1: missing).
type targetKeys struct {
	vals    []targetValue
	idx     map[string]int // vals' numbers by text
	key     []int32
	missing int
}

type targetValue struct {
	s string // the value as text
	n int    // its rows
}

// note keys row i by value s, numbering s if it is new.
func (t *targetKeys) note(i int, s string) {
	k, ok := t.idx[s]
	if !ok {
		k = len(t.vals)
		t.idx[s] = k
		t.vals = append(t.vals, targetValue{s: s})
	}
	t.vals[k].n++
	t.key[i] = int32(k)
}

// numeric keys a numeric column's rows; a value equal to badValue (as a
// number) is named badValue's way, any other by its shortest text.
// Each distinct value (by its bits) is named once, and the first few are
// found without a map: formatting every row's value took a tenth of a
// second on a million rows.
func (t *targetKeys) numeric(col []float64, badValue string) {
	bad, perr := strconv.ParseFloat(badValue, 64)
	var first [4]uint64 // the bits of vals[0..3], when numbered so
	nFirst := 0
	seen := map[uint64]int32{}
rows:
	for i, v := range col {
		if math.IsNaN(v) {
			t.key[i] = -1
			t.missing++
			continue
		}
		b := math.Float64bits(v)
		for k := range nFirst {
			if first[k] == b {
				t.key[i] = int32(k)
				t.vals[k].n++
				continue rows
			}
		}
		if k, ok := seen[b]; ok {
			t.key[i] = k
			t.vals[k].n++
			continue
		}
		if perr == nil && v == bad {
			t.note(i, badValue)
		} else {
			t.note(i, strconv.FormatFloat(v, 'f', -1, 64))
		}
		seen[b] = t.key[i]
		if int(t.key[i]) == nFirst && nFirst < len(first) {
			first[nFirst] = b
			nFirst++
		}
	}
}

// categorical keys a categorical column's rows (empty text: missing).
func (t *targetKeys) categorical(col *binning.Column) {
	codeKey := make([]int32, len(col.Dict))
	for c := range codeKey {
		codeKey[c] = -2
	}
	for i, c := range col.Codes {
		if c < 0 || col.Dict[c] == "" {
			t.key[i] = -1
			t.missing++
			continue
		}
		if codeKey[c] == -2 {
			t.note(i, col.Dict[c])
			codeKey[c] = t.key[i]
			continue
		}
		t.key[i] = codeKey[c]
		t.vals[t.key[i]].n++
	}
}

// csvBuffer is the size of DuckDB's CSV read buffers: 4 MiB, against
// DuckDB's default of 32 (16 × max_line_size, which stays 2 MiB). On
// the 1,000,000 × 20 table, parsing alone took 0.84–1.04 s and 27–39
// thousand page faults with the default, 0.55–0.58 s and 7–10 thousand
// with these.
const csvBuffer = "4194304"

// flatQuery reads a CSV (DuckDB sniffs it) or Parquet file.
func flatQuery(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("train: %w", err)
	}
	if fi.Size() == 0 {
		return "", fmt.Errorf("train: %s is empty (no header, no rows)", path)
	}
	var from string
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".pq":
		from = "read_parquet(" + lake.Quote(path) + ")"
	default:
		from = "read_csv(" + lake.Quote(path) + ", header = true, buffer_size = " + csvBuffer + ")"
	}
	return "SELECT * FROM " + from, nil
}

// lakeQuery joins features and labels of the lake; it returns the SQL and
// the input files (for the fingerprint).
// artifactPath is how model.json names input file p: relative to the
// lake root in lake mode (slash-separated), its base name otherwise.
func artifactPath(cfg *Config, p string) string {
	if cfg.Lake != "" {
		if rel, err := filepath.Rel(cfg.Lake, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.Base(p)
}

// modelSQL holds the modelling-table queries, one per lake model.
//
//go:embed sql/*.sql
var modelSQL embed.FS

func lakeQuery(ctx context.Context, conn *sql.Conn, cfg *Config) (string, []string, error) {
	l := lake.New(cfg.Lake)
	asOf := "*"
	if cfg.AsOf != "" {
		asOf = cfg.AsOf
	}
	if _, err := features.Key(cfg.Model); err != nil { // a feature set: acard or bcard
		return "", nil, fmt.Errorf("train: --model %q: want acard or bcard", cfg.Model)
	}
	featDir := filepath.Join(l.Root, "features", cfg.Model, "as_of="+asOf)
	labels := "labels/" + cfg.Model
	featFiles, _ := filepath.Glob(filepath.Join(featDir, "*.parquet"))
	if len(featFiles) == 0 {
		return "", nil, fmt.Errorf("train: no feature files at %s (run `qiandun features` first)", featDir)
	}
	if !l.Exists(labels) {
		return "", nil, fmt.Errorf("train: no labels at %s (run `qiandun perf` first)", l.TableDir(labels))
	}
	labelFiles, _ := filepath.Glob(l.Glob(labels))
	sort.Strings(featFiles)
	sort.Strings(labelFiles)
	// The query is sql/model_<model>.sql over two views of the lake.
	views := map[string]string{
		"features_" + cfg.Model: fmt.Sprintf("read_parquet(%s, filename = true, union_by_name = true, hive_partitioning = false)", lake.Quote(filepath.Join(featDir, "*.parquet"))),
		"labels_" + cfg.Model:   fmt.Sprintf("read_parquet(%s)", lake.Quote(l.Glob(labels))),
	}
	for v, src := range views {
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW "+v+" AS SELECT * FROM "+src); err != nil {
			return "", nil, fmt.Errorf("train: view %s: %w", v, err)
		}
	}
	b, err := modelSQL.ReadFile("sql/model_" + cfg.Model + ".sql")
	if err != nil {
		return "", nil, fmt.Errorf("train: %w", err)
	}
	q := strings.TrimRight(strings.TrimSpace(string(b)), ";")
	return q, append(featFiles, labelFiles...), nil
}
