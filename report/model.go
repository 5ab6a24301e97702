package report

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"qiandun/internal/csvsafe"
	"qiandun/training/scorecard"
)

// Model is what a model report is built from: a model artifact directory
// models/<name>/<version>/, read into the training packages' own types
// (training/scorecard: characteristics and bins, coefficients, metrics,
// dropped characteristics, gains bands, characteristic PSI, scaling).
type Model struct {
	Name, Version, Dir string
	// Meta is model.json, shown as key facts (its format belongs to the
	// training package; only top-level scalars are shown).
	Meta map[string]any
	// Characteristics are bins.csv's, in file order: each bin's Label is
	// the file's readable label and its IV the bin's share of the IV.
	Characteristics []scorecard.Characteristic
	Coefs           []scorecard.Coef
	// Metrics are metrics.csv's rows; HLP and ScorePSI are NaN when the
	// file has no such column.
	Metrics []scorecard.Sample
	Dropped []scorecard.Dropped
	// Scored are per-row scores by sample (e.g. train, test, oot) from
	// scored.csv when the model directory has one; the curves, gains,
	// calibration and PSI/CSI need them.
	Scored map[string][]Obs
	// Bins of each row for CSI: Chars[sample][variable] = bin labels.
	Chars map[string]map[string][]string
	// Bands are the score bands (kind "band") of gains.csv by sample.
	// Without scored.csv the curves are drawn from them (band resolution).
	Bands map[string][]scorecard.Gain
	// FromBands says Scored was synthesised from Bands: one row per
	// account at its band's mid-score.
	FromBands bool
	// CSI from psi.csv.
	CSI []scorecard.CharPSI
	// Scaling is model.json's points scaling, nil when unknown.
	Scaling *scorecard.Scaling
	// Pairs are the pairs of characteristics a boosted card tried as 2-D
	// interaction tables, kept or not, and why (model.json's pairs, as
	// pairs.csv); empty for a logistic card or when none was tried.
	Pairs []scorecard.PairChoice
	// PairGrids are the kept pairs, model.json's characteristics of kind
	// "pair": Inputs hold the two inputs' coarse bins and Bins the cells
	// of the grid, row-major (Characteristic.Cell).
	PairGrids []scorecard.Characteristic
}

// ScoredFile is the optional per-row file in a model directory: columns
// sample, score, bad (1/0) and optionally pd; any further column is a
// characteristic whose values (bin labels or WoE) feed the CSI table.
const ScoredFile = "scored.csv"

// LoadModel reads a model artifact directory. bins.csv and
// coefficients.csv are required; the others are used when present.
func LoadModel(dir string) (*Model, error) {
	m := &Model{Dir: dir, Version: filepath.Base(dir), Name: filepath.Base(filepath.Dir(dir))}
	if b, err := os.ReadFile(filepath.Join(dir, "model.json")); err == nil {
		if err := json.Unmarshal(b, &m.Meta); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "model.json"), err)
		}
		if err := m.loadPairs(b); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "model.json"), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	charAt := map[string]int{}
	if err := readCSV(filepath.Join(dir, "bins.csv"), true, []string{"variable", "bin", "count", "good", "bad", "bad_rate", "woe", "bin_iv", "points"}, func(r row) error {
		v := r.s("variable")
		k, ok := charAt[v]
		if !ok {
			k = len(m.Characteristics)
			charAt[v] = k
			m.Characteristics = append(m.Characteristics, scorecard.Characteristic{Name: v})
		}
		var b scorecard.Bin
		b.Label = r.s("bin")
		b.Count, b.Good, b.Bad = r.i("count"), r.i("good"), r.i("bad")
		b.BadRate, b.WoE, b.IV, b.Points = r.f("bad_rate"), r.f("woe"), r.f("bin_iv"), r.f("points")
		m.Characteristics[k].Bins = append(m.Characteristics[k].Bins, b)
		return r.err
	}); err != nil {
		return nil, err
	}
	if err := readCSV(filepath.Join(dir, "coefficients.csv"), true, []string{"term", "estimate", "std_error", "z", "p_value"}, func(r row) error {
		m.Coefs = append(m.Coefs, scorecard.Coef{Term: r.s("term"), Estimate: r.f("estimate"), StdErr: r.f("std_error"), Z: r.f("z"), PValue: r.f("p_value")})
		return r.err
	}); err != nil {
		return nil, err
	}
	if err := readCSV(filepath.Join(dir, "metrics.csv"), false, []string{"sample", "n", "bads", "auc", "gini", "ks"}, func(r row) error {
		x := scorecard.Sample{Sample: r.s("sample"), N: int(r.i("n")), Bads: int(r.i("bads")), AUC: r.f("auc"), Gini: r.f("gini"), KS: r.f("ks"), HLP: math.NaN(), ScorePSI: math.NaN()}
		if _, ok := r.idx["hosmer_lemeshow_p"]; ok {
			x.HLP = r.f("hosmer_lemeshow_p")
		}
		if _, ok := r.idx["score_psi"]; ok {
			x.ScorePSI = r.f("score_psi")
		}
		m.Metrics = append(m.Metrics, x)
		return r.err
	}); err != nil {
		return nil, err
	}
	if err := readCSV(filepath.Join(dir, "dropped.csv"), false, []string{"variable", "reason"}, func(r row) error {
		m.Dropped = append(m.Dropped, scorecard.Dropped{Variable: r.s("variable"), Reason: r.s("reason")})
		return r.err
	}); err != nil {
		return nil, err
	}
	if sc, ok := m.Meta["scaling"].(map[string]any); ok {
		f, _ := sc["factor"].(float64)
		o, _ := sc["offset"].(float64)
		if f != 0 {
			m.Scaling = &scorecard.Scaling{Factor: f, Offset: o}
		}
	}
	if err := readCSV(filepath.Join(dir, "gains.csv"), false, []string{"sample", "kind", "lower", "upper", "n", "bads"}, func(r row) error {
		if r.s("kind") != "band" {
			return nil
		}
		if m.Bands == nil {
			m.Bands = map[string][]scorecard.Gain{}
		}
		smp := r.s("sample")
		m.Bands[smp] = append(m.Bands[smp], scorecard.Gain{Sample: smp, Kind: "band", Lower: r.f("lower"), Upper: r.f("upper"), N: int(r.i("n")), Bads: int(r.i("bads"))})
		return r.err
	}); err != nil {
		return nil, err
	}
	if err := readCSV(filepath.Join(dir, "psi.csv"), false, []string{"variable", "sample", "psi"}, func(r row) error {
		m.CSI = append(m.CSI, scorecard.CharPSI{Variable: r.s("variable"), Sample: r.s("sample"), PSI: r.f("psi")})
		return r.err
	}); err != nil {
		return nil, err
	}
	known := map[string]bool{"sample": true, "score": true, "bad": true, "pd": true}
	if err := readCSV(filepath.Join(dir, ScoredFile), false, []string{"sample", "score", "bad"}, func(r row) error {
		if m.Scored == nil {
			m.Scored, m.Chars = map[string][]Obs{}, map[string]map[string][]string{}
		}
		smp := r.s("sample")
		o := Obs{Score: r.f("score"), Bad: r.s("bad") == "1" || r.s("bad") == "true", PD: math.NaN()}
		if _, ok := r.idx["pd"]; ok && r.s("pd") != "" {
			o.PD = r.f("pd")
		}
		m.Scored[smp] = append(m.Scored[smp], o)
		for c := range r.idx {
			if known[c] || c == "" {
				continue
			}
			if m.Chars[smp] == nil {
				m.Chars[smp] = map[string][]string{}
			}
			m.Chars[smp][c] = append(m.Chars[smp][c], r.s(c))
		}
		return r.err
	}); err != nil {
		return nil, err
	}
	if m.Scored == nil && m.Bands != nil {
		m.Scored, m.FromBands = map[string][]Obs{}, true
		for smp, bands := range m.Bands {
			for _, b := range bands {
				mid := (b.Lower + b.Upper) / 2
				o := Obs{Score: mid, PD: m.PD(mid)}
				for i := range b.N {
					o.Bad = i < b.Bads
					m.Scored[smp] = append(m.Scored[smp], o)
				}
			}
		}
	}
	return m, nil
}

// loadPairs reads a boosted card's pairs from its model.json: the pairs
// tried and the kept pairs' grids.
func (m *Model) loadPairs(modelJSON []byte) error {
	var card struct {
		Pairs []scorecard.PairChoice     `json:"pairs"`
		Chars []scorecard.Characteristic `json:"characteristics"`
	}
	if err := json.Unmarshal(modelJSON, &card); err != nil {
		return fmt.Errorf("pairs: %w", err)
	}
	m.Pairs = card.Pairs
	for _, c := range card.Chars {
		if !c.IsPair() {
			continue
		}
		if len(c.Inputs) != 2 {
			return fmt.Errorf("pair %s: %d inputs, want 2", c.Name, len(c.Inputs))
		}
		if na, nb := len(c.Inputs[0].Bins), len(c.Inputs[1].Bins); len(c.Bins) != na*nb {
			return fmt.Errorf("pair %s: %d cells for %d×%d bins", c.Name, len(c.Bins), na, nb)
		}
		m.PairGrids = append(m.PairGrids, c)
	}
	return nil
}

// PD is the model's probability of bad at score s, NaN when the model
// directory does not give the scaling.
func (m *Model) PD(s float64) float64 {
	if m.Scaling == nil {
		return math.NaN()
	}
	return m.Scaling.PD(s)
}

// FindModels returns the model version directories under root
// (root/<name>/<version>/ holding bins.csv), oldest first (by the
// modification time of model.json or bins.csv, then by path), so that the
// newest version's report is written last.
func FindModels(root string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(root, "*", "*", "bins.csv"))
	if err != nil {
		return nil, err
	}
	// Names beginning with "_" or "." are never models (temporary
	// directories of a publication, the commit protocol's _v).
	var ms []string
	for _, m := range all {
		ver := filepath.Dir(m)
		if !hidden(filepath.Base(ver)) && !hidden(filepath.Base(filepath.Dir(ver))) {
			ms = append(ms, m)
		}
	}
	type ver struct {
		dir string
		mod int64
	}
	vs := make([]ver, len(ms))
	for i, m := range ms {
		d := filepath.Dir(m)
		vs[i].dir = d
		for _, f := range []string{"model.json", "bins.csv"} {
			if fi, err := os.Stat(filepath.Join(d, f)); err == nil {
				vs[i].mod = fi.ModTime().UnixNano()
				break
			}
		}
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].mod != vs[j].mod {
			return vs[i].mod < vs[j].mod
		}
		return vs[i].dir < vs[j].dir
	})
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.dir
	}
	return out, nil
}

// row is one CSV record with its header.
type row struct {
	path string
	line int
	idx  map[string]int
	rec  []string
	err  error
}

func (r *row) s(col string) string {
	i, ok := r.idx[col]
	if !ok || i >= len(r.rec) {
		return ""
	}
	return r.rec[i]
}

func (r *row) f(col string) float64 {
	v := strings.TrimSpace(r.s(col))
	switch strings.ToLower(v) {
	case "", "na", "nan", "null":
		return math.NaN()
	case "inf", "+inf":
		return math.Inf(1)
	case "-inf":
		return math.Inf(-1)
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s:%d: column %s: %q is not a number", r.path, r.line, col, v)
	}
	return x
}

func (r *row) i(col string) int64 {
	x := r.f(col)
	if math.IsNaN(x) {
		return 0
	}
	return int64(math.Round(x))
}

// readCSV calls fn for each record of a CSV file with a header holding at
// least the want columns. A missing optional file is not an error.
func readCSV(path string, required bool, want []string, fn func(row) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("model report: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	idx := map[string]int{}
	for i, h := range head {
		idx[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, w := range want {
		if _, ok := idx[w]; !ok {
			return fmt.Errorf("%s: header lacks column %q (has %s)", path, w, strings.Join(head, ","))
		}
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for i, v := range rec {
			rec[i] = csvsafe.Unquote(v) // the artifact's CSVs are neutralised (package csvsafe)
		}
		if err := fn(row{path: path, line: line, idx: idx, rec: rec}); err != nil {
			return err
		}
	}
}

// hidden reports names that are never data: those beginning with "_" or ".".
func hidden(name string) bool { return strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") }

// runs returns the files named file of the dated runs under dir
// (dir/<as_of>/file), in name order, skipping hidden names.
func runs(dir, file string) []string {
	all, _ := filepath.Glob(filepath.Join(dir, "*", file))
	var out []string
	for _, f := range all {
		if !hidden(filepath.Base(filepath.Dir(f))) {
			out = append(out, f)
		}
	}
	return out
}
