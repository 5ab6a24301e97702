// Package scorecard scales a fitted WoE logistic model to points per bin,
// writes and reads the model artifact, exports the card as SQL, and scores
// columns.
//
// # Scaling
//
// score = Offset − Factor·ln(bad:good odds), Factor = PDO/ln 2, with
// Offset chosen so that good:bad odds of BaseOdds score BaseScore
// (defaults 600 at 50:1, PDO 20); higher score = lower risk. With a WoE
// logistic model ln(odds) = β0 + Σ βj·WoE_j, so a characteristic's bin i
// scores −Factor·βj·WoE_ji and the base points are Offset − Factor·β0.
// Points are kept to 4 decimals (or integers with Scaling.Round) and a score
// is their exact sum, so the SQL export and the Go scorer agree exactly.
// PD(score) = 1 / (1 + exp((score − Offset)/Factor)), strictly decreasing.
//
// # Artifact
//
// A model lives in <dir>/<name>/<version>/: model.json (this package's
// Model, schema SchemaVersion), bins.csv, points.csv, coefficients.csv,
// metrics.csv, dropped.csv, scorecard.sql and scorecard.pmml (PMML 4.4,
// see Model.PMML). The version is "v" and the
// first 12 hex digits of the SHA-256 of the model without version and
// checksum, so the same inputs and seed give the same bytes. Checksum is
// "sha256:" + the SHA-256 of the compact JSON of the model with an empty
// checksum field; Load recomputes it and refuses a model that does not
// match (a tampered file).
//
// # Scoring API (for the score stage)
//
//	m, err := scorecard.Load(dir)           // verifies schema and checksum
//	m.Characteristics()                     // names and kinds of the inputs needed
//	f, err := frame.Query(ctx, conn, sql, m.Kinds()) // columns typed as in training (Arrow from DuckDB)
//	s, err := m.Score(f.Cols)               // cols: map[name]*binning.Column
//	s.Score[i], s.PD[i], s.Bin[j][i]        // per row; Bin per characteristic
//	s.Fallbacks[j]                          // rows of characteristic j that fell back
//	m.Reasons(s, i, 3)                      // reason codes of row i
//
// A value never seen in training (an unknown category, or a missing value
// when training had none) takes the characteristic's Fallback bin: its
// missing bin if it has one, else the bin with the lowest points (the most
// conservative); Score counts those rows per characteristic.
//
// # Pairs
//
// A boosted card may hold pairs: characteristics of Kind "pair" with two
// inputs (Characteristic.Inputs, each with its own bins and fallback) and
// a grid of cells, each with its points (PairTable, AddPairs). Score,
// the score stage, scorecard.sql (a CASE over the cell, from a CASE over
// each input) and scorecard.pmml (CompoundPredicate "and") score them
// alike; a pair's reason code is <a>_x_<b>_combo, its text names both
// inputs. Model.Pairs records every pair tried and why it was kept or
// not (pairs.csv).
//
// Reason codes of a row are the characteristics whose points fall
// furthest below that characteristic's best bin, largest shortfall first
// (ties by name); characteristics at their best bin give no reason. A
// reason reads as a code, <characteristic>_<direction> (high, low,
// missing, special, risky), and a short Chinese and English text from the
// reason catalog (reasons.yaml, embedded; ReasonCatalog).
//
// bins.csv carries each bin's label rounded for reading (ReadableLabel:
// 3 significant digits, a category group as its first member and a
// count); points.csv and model.json keep the exact edges and members.
package scorecard

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"qiandun/internal/csvsafe"
	"qiandun/internal/durable"
	"qiandun/internal/hugepage"
	"qiandun/internal/par"
	"qiandun/training/binning"
)

// SchemaVersion identifies the model.json format.
const SchemaVersion = "qiandun.scorecard/v1"

// pointScale is the fixed-point scale of points: 4 decimals.
const pointScale = 1e4

// ErrChecksum is returned by Load for a model whose checksum does not match.
var ErrChecksum = errors.New("scorecard: model checksum mismatch (file modified after training)")

// Scaling maps log odds to points.
type Scaling struct {
	BaseScore float64 `json:"base_score"` // score at BaseOdds (default 600)
	BaseOdds  float64 `json:"base_odds"`  // good:bad odds at BaseScore (default 50)
	PDO       float64 `json:"pdo"`        // points to double the odds (default 20)
	Round     bool    `json:"round"`      // integer points
	Factor    float64 `json:"factor"`     // PDO / ln 2
	Offset    float64 `json:"offset"`     // BaseScore − Factor·ln(BaseOdds)
}

// DefaultScaling is 600 points at 50:1 good:bad, PDO 20.
func DefaultScaling() Scaling { return Scaling{BaseScore: 600, BaseOdds: 50, PDO: 20}.Normalize() }

// Normalize fills defaults and derives Factor and Offset.
func (s Scaling) Normalize() Scaling {
	if s.BaseScore == 0 {
		s.BaseScore = 600
	}
	if s.BaseOdds <= 0 {
		s.BaseOdds = 50
	}
	if s.PDO <= 0 {
		s.PDO = 20
	}
	s.Factor = s.PDO / math.Ln2
	// BaseScore = Offset − Factor·ln(1/BaseOdds)
	s.Offset = s.BaseScore - s.Factor*math.Log(s.BaseOdds)
	return s
}

// points rounds p to the card's precision.
func (s Scaling) points(p float64) float64 {
	if s.Round {
		return math.Round(p)
	}
	return math.Round(p*pointScale) / pointScale
}

// PD returns the probability of bad at a score.
func (s Scaling) PD(score float64) float64 {
	return 1 / (1 + math.Exp((score-s.Offset)/s.Factor))
}

// Coef is one estimated coefficient.
type Coef struct {
	Term     string  `json:"term"`
	Estimate float64 `json:"estimate"`
	StdErr   float64 `json:"std_error"`
	Z        float64 `json:"z"`
	PValue   float64 `json:"p_value"`
}

// Bin is a bin of a characteristic with its points.
type Bin struct {
	binning.Bin
	Points float64 `json:"points"`
}

// Characteristic is one variable of the card.
type Characteristic struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"` // numeric | categorical
	Coef     Coef      `json:"coefficient"`
	IV       float64   `json:"iv"`
	Breaks   []float64 `json:"breaks,omitempty"`
	Bins     []Bin     `json:"bins"`
	Fallback int       `json:"fallback_bin"`
	// Inputs makes the characteristic a pair (Kind "pair", a boosted
	// card's 2-D interaction table): its two inputs' coarse bins (points
	// 0, each with its own fallback bin), and Bins are then the cells of
	// the grid, row-major: the cell of bins a and b of the inputs is
	// a·len(Inputs[1].Bins) + b. Empty for a one-input characteristic.
	Inputs  []Characteristic `json:"inputs,omitempty"`
	binning *binning.Binning
}

// KindPair is the Kind of a pair characteristic (see Characteristic.Inputs).
const KindPair = "pair"

// IsPair reports whether c is a pair (two inputs, a grid of cells).
func (c *Characteristic) IsPair() bool { return len(c.Inputs) > 0 }

// Cell returns the cell of a pair for bins a and b of its inputs.
func (c *Characteristic) Cell(a, b int) int { return a*len(c.Inputs[1].Bins) + b }

// InputNames returns the input columns c reads: its name, or a pair's
// two inputs.
func (c *Characteristic) InputNames() []string {
	if c.IsPair() {
		return []string{c.Inputs[0].Name, c.Inputs[1].Name}
	}
	return []string{c.Name}
}

// DataFile fingerprints one training input.
type DataFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Sample is the headline validation of one sample.
type Sample struct {
	Sample string  `json:"sample"` // train | test | oot
	N      int     `json:"n"`
	Bads   int     `json:"bads"`
	AUC    float64 `json:"auc"`
	Gini   float64 `json:"gini"`
	KS     float64 `json:"ks"`
	// HL is the Hosmer–Lemeshow statistic (10 groups) and its p-value.
	HL       float64 `json:"hosmer_lemeshow"`
	HLP      float64 `json:"hosmer_lemeshow_p"`
	ScorePSI float64 `json:"score_psi"` // vs train; 0 for train
}

// Dropped is a characteristic left out, with why.
type Dropped struct {
	Variable string `json:"variable"`
	Reason   string `json:"reason"`
}

// Gain is one row of a gains table (Kind "decile", riskiest first) or of
// the bad rate by score band (Kind "band", lowest score first).
type Gain struct {
	Sample    string  `json:"sample"`
	Kind      string  `json:"kind"`
	Band      int     `json:"band"`
	Lower     float64 `json:"lower"`
	Upper     float64 `json:"upper"`
	N         int     `json:"n"`
	Bads      int     `json:"bads"`
	BadRate   float64 `json:"bad_rate"`
	CumBadPct float64 `json:"cum_bad_pct"`
	Lift      float64 `json:"lift"`
	CumLift   float64 `json:"cum_lift"`
}

// CharPSI is the stability of a characteristic's bin distribution
// against the train sample.
type CharPSI struct {
	Variable string  `json:"variable"`
	Sample   string  `json:"sample"`
	PSI      float64 `json:"psi"`
}

// Fit summarises the logistic fit.
type Fit struct {
	N          int     `json:"n"`
	LogLik     float64 `json:"loglik"`
	AIC        float64 `json:"aic"`
	BIC        float64 `json:"bic"`
	Iterations int     `json:"iterations"`
	L2         float64 `json:"l2,omitempty"`
}

// Model is the artifact.
type Model struct {
	Schema      string            `json:"schema"`
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	CodeVersion string            `json:"code_version"`
	Target      string            `json:"target"`
	BadValue    string            `json:"bad_value"`
	Seed        uint64            `json:"seed"`
	Settings    map[string]string `json:"settings,omitempty"`
	// Method is "boosted" for a card built by BuildAdditive (points per
	// bin from boosted tables, coefficients 1); empty for a logistic card.
	Method     string           `json:"method,omitempty"`
	Scaling    Scaling          `json:"scaling"`
	Intercept  Coef             `json:"intercept"`
	BasePoints float64          `json:"base_points"`
	Chars      []Characteristic `json:"characteristics"`
	Fit        Fit              `json:"fit"`
	Metrics    []Sample         `json:"metrics"`
	Dropped    []Dropped        `json:"dropped"`
	// Pairs are the pairs of characteristics a boosted card tried as 2-D
	// interaction tables, kept or not, and why (pairs.csv).
	Pairs    []PairChoice `json:"pairs,omitempty"`
	Gains    []Gain       `json:"gains"`
	PSI      []CharPSI    `json:"characteristic_psi"`
	Data     []DataFile   `json:"training_data"`
	Checksum string       `json:"checksum"`
}

// Build scales a fitted model: binnings[j] has coefficient coefs[j+1],
// coefs[0] is the intercept.
func Build(name string, binnings []*binning.Binning, coefs []Coef, sc Scaling) (*Model, error) {
	if len(coefs) != len(binnings)+1 {
		return nil, fmt.Errorf("scorecard: %d coefficients for %d characteristics plus intercept", len(coefs), len(binnings))
	}
	sc = sc.Normalize()
	m := &Model{Schema: SchemaVersion, Name: name, Scaling: sc, Intercept: coefs[0]}
	m.Intercept.Term = "intercept"
	m.BasePoints = sc.points(sc.Offset - sc.Factor*coefs[0].Estimate)
	for j, b := range binnings {
		c := Characteristic{Name: b.Variable, Kind: b.Kind.String(), Coef: coefs[j+1], IV: b.IV, Breaks: b.Breaks, binning: b}
		c.Coef.Term = b.Variable
		for _, bin := range b.Bins {
			c.Bins = append(c.Bins, Bin{Bin: bin, Points: sc.points(-sc.Factor * coefs[j+1].Estimate * bin.WoE)})
		}
		c.Fallback = fallback(c.Bins)
		m.Chars = append(m.Chars, c)
	}
	return m, nil
}

// BuildAdditive scales an additive model: the log odds of bad are
// intercept + Σ_j tables[j][bin of characteristic j], each table indexed
// like binnings[j].Bins (as a boosted card fits them). Each bin's points
// are −factor × its table value; coefficients are 1 with no standard
// error, and Method is "boosted".
func BuildAdditive(name string, binnings []*binning.Binning, tables [][]float64, intercept float64, sc Scaling) (*Model, error) {
	if len(tables) != len(binnings) {
		return nil, fmt.Errorf("scorecard: %d tables for %d characteristics", len(tables), len(binnings))
	}
	coefs := make([]Coef, len(binnings)+1)
	coefs[0] = Coef{Estimate: intercept}
	for j := range binnings {
		if len(tables[j]) != len(binnings[j].Bins) {
			return nil, fmt.Errorf("scorecard: %s: %d table values for %d bins", binnings[j].Variable, len(tables[j]), len(binnings[j].Bins))
		}
		coefs[j+1] = Coef{Estimate: 1}
	}
	m, err := Build(name, binnings, coefs, sc)
	if err != nil {
		return nil, err
	}
	m.Method = "boosted"
	for j := range m.Chars {
		c := &m.Chars[j]
		for k := range c.Bins {
			c.Bins[k].Points = m.Scaling.points(-m.Scaling.Factor * tables[j][k])
		}
		c.Fallback = fallback(c.Bins)
		c.binning.Fallback = c.Fallback
	}
	return m, nil
}

// PairTable is a boosted pair of a boosted card: the coarse bins of its
// two inputs and its log odds per cell (Table, row-major: the cell of
// bins a and b is a·len(B.Bins) + b), with each cell's training counts.
type PairTable struct {
	A, B      *binning.Binning
	Table     []float64
	Good, Bad []int64
}

// PairChoice is one pair of characteristics tried as a 2-D table: its
// rank by FAST gain (the best two-level tree's gain over its coarse bin
// grid on the residual gradients of the additive card), the validation
// log loss per row before fitting its table, with its inputs' main
// effects on the same grid (the yardstick; the before figure when
// those fit worse), and with its table, and whether it was kept, with
// why. Trees (JSON "trees") counts the Newton iterations that fitted
// its table.
type PairChoice struct {
	Pair      string    `json:"pair"`
	Inputs    [2]string `json:"inputs"`
	Rank      int       `json:"rank"`
	Gain      float64   `json:"gain"`
	ValBefore float64   `json:"validation_logloss_before"`
	ValMain   float64   `json:"validation_logloss_main"` // with its inputs' main effects on its grid instead (at most ValBefore)
	ValAfter  float64   `json:"validation_logloss_after"`
	Z         float64   `json:"validation_z"` // the gain over ValMain over its standard error
	Trees     int       `json:"trees"`
	Kept      bool      `json:"kept"`
	Reason    string    `json:"reason"`
}

// PairName is the name of the pair of inputs a and b: a_x_b.
func PairName(a, b string) string { return a + "_x_" + b }

// AddPairs appends pairs to a card of BuildAdditive, each a
// characteristic of Kind "pair" named PairName(a, b) whose cells score
// −factor × their table value. An input's value never seen in training
// takes that input's fallback bin (its missing bin, else its riskiest).
func (m *Model) AddPairs(pairs []PairTable) error {
	axis := func(b *binning.Binning) Characteristic {
		c := Characteristic{Name: b.Variable, Kind: b.Kind.String(), Breaks: b.Breaks, Fallback: b.Fallback, binning: b}
		for _, bin := range b.Bins {
			c.Bins = append(c.Bins, Bin{Bin: bin})
		}
		return c
	}
	for _, p := range pairs {
		na, nb := len(p.A.Bins), len(p.B.Bins)
		if len(p.Table) != na*nb || len(p.Good) != na*nb || len(p.Bad) != na*nb {
			return fmt.Errorf("scorecard: pair %s, %s: %d cells for %d×%d bins", p.A.Variable, p.B.Variable, len(p.Table), na, nb)
		}
		c := Characteristic{Name: PairName(p.A.Variable, p.B.Variable), Kind: KindPair, Coef: Coef{Term: PairName(p.A.Variable, p.B.Variable), Estimate: 1},
			Inputs: []Characteristic{axis(p.A), axis(p.B)}}
		for k, v := range p.Table {
			bin := binning.Bin{Label: p.A.Bins[k/nb].Label + " × " + p.B.Bins[k%nb].Label, Good: p.Good[k], Bad: p.Bad[k], Count: p.Good[k] + p.Bad[k]}
			if bin.Count > 0 {
				bin.BadRate = float64(bin.Bad) / float64(bin.Count)
			}
			c.Bins = append(c.Bins, Bin{Bin: bin, Points: m.Scaling.points(-m.Scaling.Factor * v)})
		}
		c.Fallback = c.Cell(p.A.Fallback, p.B.Fallback)
		m.Chars = append(m.Chars, c)
	}
	return nil
}

// fallback is the missing bin, else the bin with the lowest points.
func fallback(bins []Bin) int {
	best := 0
	for i, b := range bins {
		if b.Missing {
			return i
		}
		if b.Points < bins[best].Points {
			best = i
		}
	}
	return best
}

// Binning returns the characteristic's bins as a binning.Binning.
func (c *Characteristic) Binning() *binning.Binning {
	if c.binning == nil {
		b := &binning.Binning{Variable: c.Name, Breaks: c.Breaks, Fallback: c.Fallback}
		if c.Kind == "categorical" {
			b.Kind = binning.Categorical
		}
		for _, bin := range c.Bins {
			b.Bins = append(b.Bins, bin.Bin)
			if bin.Values != nil {
				b.Groups = append(b.Groups, bin.Values)
			}
		}
		b.IV = c.IV
		b.Restore()
		c.binning = b
	}
	return c.binning
}

// Input names a column the card needs.
type Input struct {
	Name string
	Kind binning.Kind
}

// Characteristics lists the input columns the card needs, in card order,
// each once (a pair's two inputs after the characteristics before it).
func (m *Model) Characteristics() []Input {
	var out []Input
	seen := map[string]bool{}
	for j := range m.Chars {
		c := &m.Chars[j]
		axes := []*Characteristic{c}
		if c.IsPair() {
			axes = []*Characteristic{&c.Inputs[0], &c.Inputs[1]}
		}
		for _, a := range axes {
			if !seen[a.Name] {
				seen[a.Name] = true
				out = append(out, Input{Name: a.Name, Kind: a.Binning().Kind})
			}
		}
	}
	return out
}

// Kinds returns the kind of every input, for reading the columns to score
// with the same types as in training (frame.Query's kinds argument).
func (m *Model) Kinds() map[string]binning.Kind {
	out := map[string]binning.Kind{}
	for _, in := range m.Characteristics() {
		out[in.Name] = in.Kind
	}
	return out
}

// Scores are the per-row results of Score.
type Scores struct {
	Score     []float64 // total points
	PD        []float64 // probability of bad implied by Score
	Bin       [][]int32 // Bin[j][i]: the bin characteristic j gave row i (its points: the bin's)
	Fallbacks []int     // rows per characteristic that took the fallback bin
}

// Score scores the rows of cols (every characteristic must be present,
// with the same length). The fallback for unseen values is documented in
// the package comment. The bins come from the scoring kernel the score
// stage runs over Arrow batches (kernel.go: Lookup.BinFloats, BinCodes),
// the points from the bins' fixed-point Fixed points (Base, ScoreOf).
func (m *Model) Score(cols map[string]*binning.Column) (*Scores, error) {
	n, err := m.checkCols(cols)
	if err != nil {
		return nil, err
	}
	s := &Scores{Score: hugepage.Make[float64](n, 0), PD: hugepage.Make[float64](n, 0), Fallbacks: make([]int, len(m.Chars))}
	luts := make([]*Lookup, len(m.Chars))
	// Every characteristic's bins in one block: per characteristic, a
	// million-row sample's 4 MB held at most one whole huge page.
	bins := hugepage.Make[int32](n*len(m.Chars), 0)
	for j := range m.Chars {
		luts[j] = m.Chars[j].Lookup()
		s.Bin = append(s.Bin, bins[j*n:(j+1)*n:(j+1)*n])
	}
	// The rows in two halves, one per core; each half's fallbacks apart.
	var fbs [2][]int
	par.Halves(n, func(lo, hi int) {
		fb := make([]int, len(m.Chars))
		total := hugepage.Make[int64](hi-lo, 0)
		for i := range total {
			total[i] = m.Base()
		}
		for j := range m.Chars {
			c, l, idx := &m.Chars[j], luts[j], s.Bin[j][lo:hi]
			if c.IsPair() {
				other := make([]int32, hi-lo)
				fb[j] = l.Axes[0].binColumn(rows(cols[c.Inputs[0].Name], lo, hi), idx) + l.Axes[1].binColumn(rows(cols[c.Inputs[1].Name], lo, hi), other)
				l.Cells(idx, other)
			} else {
				fb[j] = l.binColumn(rows(cols[c.Name], lo, hi), idx)
			}
			for i, k := range idx {
				total[i] += l.Fixed[k]
			}
		}
		for i, t := range total {
			s.Score[lo+i] = ScoreOf(t)
			s.PD[lo+i] = m.Scaling.PD(s.Score[lo+i])
		}
		fbs[min(lo, 1)] = fb
	})
	for _, fb := range fbs {
		for j, f := range fb {
			s.Fallbacks[j] += f
		}
	}
	return s, nil
}

// rows is rows lo to hi of col, sharing its values.
func rows(col *binning.Column, lo, hi int) *binning.Column {
	r := *col
	if r.Kind == binning.Categorical {
		r.Codes = r.Codes[lo:hi]
	} else {
		r.Num = r.Num[lo:hi]
	}
	return &r
}

// checkCols checks that cols hold every input, of its kind, all of one
// length, and returns the length.
func (m *Model) checkCols(cols map[string]*binning.Column) (int, error) {
	n := -1
	for _, in := range m.Characteristics() {
		col, ok := cols[in.Name]
		if !ok {
			return 0, fmt.Errorf("scorecard: input column %q missing", in.Name)
		}
		if n < 0 {
			n = col.Len()
		} else if col.Len() != n {
			return 0, fmt.Errorf("scorecard: column %q has %d rows, want %d", in.Name, col.Len(), n)
		}
		if (in.Kind == binning.Categorical) != (col.Kind == binning.Categorical) {
			return 0, fmt.Errorf("scorecard: column %q is %s, the card wants %s", in.Name, col.Kind, in.Kind)
		}
	}
	if n < 0 {
		return 0, errors.New("scorecard: the card has no characteristics")
	}
	return n, nil
}

// unseenMask reports rows whose value has no bin of its own in b (the
// card's fallback applies, which may differ from binning's).
func unseenMask(b *binning.Binning, col *binning.Column) func(int) bool {
	hasMissing := false
	for _, bin := range b.Bins {
		hasMissing = hasMissing || bin.Missing
	}
	if col.Kind == binning.Categorical {
		known := make([]bool, len(col.Dict))
		for c, v := range col.Dict {
			for _, bin := range b.Bins {
				if slices.Contains(bin.Values, v) {
					known[c] = true
				}
			}
			if v == "" && hasMissing {
				known[c] = true
			}
		}
		return func(i int) bool {
			c := col.Codes[i]
			if c < 0 {
				return !hasMissing
			}
			return !known[c]
		}
	}
	if hasMissing {
		return nil
	}
	return func(i int) bool { return math.IsNaN(col.Num[i]) }
}

// Reason is one reason code: a characteristic and its shortfall in points
// from its best bin, with the reason's code and text (ReasonCatalog).
type Reason struct {
	Characteristic string
	Bin            string // the bin's exact label
	Shortfall      float64
	Code           string // <characteristic>_<direction>, e.g. inq_7d_total_high
	Text           string // the catalog's text, at most MaxReasonText characters
}

// Reasons returns up to k reason codes for row i of s, with the texts of
// the embedded reason catalog.
func (m *Model) Reasons(s *Scores, i, k int) []Reason {
	cat, _ := DefaultReasonCatalog() // nil (generated texts) cannot happen: a test parses the embedded file
	return m.ReasonsIn(cat, s, i, k)
}

// ReasonsIn is Reasons with the texts of catalog cat.
func (m *Model) ReasonsIn(cat *ReasonCatalog, s *Scores, i, k int) []Reason {
	var out []Reason
	for j := range m.Chars {
		c := &m.Chars[j]
		best := math.Inf(-1)
		for _, b := range c.Bins {
			best = math.Max(best, b.Points)
		}
		bin := int(s.Bin[j][i])
		if gap := best - c.Bins[bin].Points; gap > 0 {
			code, text := cat.ReasonCode(c, bin)
			out = append(out, Reason{Characteristic: c.Name, Bin: c.Bins[bin].Label, Shortfall: gap, Code: code, Text: text})
		}
	}
	slices.SortStableFunc(out, func(a, b Reason) int {
		if a.Shortfall != b.Shortfall {
			if a.Shortfall > b.Shortfall {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Characteristic, b.Characteristic)
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

func (m *Model) digest() (string, error) {
	c := *m
	c.Checksum = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// Seal sets the version (when empty: "v" + 12 hex of the content digest)
// and the checksum. Call it after the model is complete.
func (m *Model) Seal() error {
	if m.Version == "" {
		d, err := m.digest()
		if err != nil {
			return err
		}
		m.Version = "v" + d[:12]
	}
	d, err := m.digest()
	if err != nil {
		return err
	}
	m.Checksum = "sha256:" + d
	return nil
}

// Verify recomputes the checksum.
func (m *Model) Verify() error {
	d, err := m.digest()
	if err != nil {
		return err
	}
	if m.Checksum != "sha256:"+d {
		return ErrChecksum
	}
	return nil
}

// Load reads dir/model.json, checks its schema, checksum and structure.
func Load(dir string) (*Model, error) {
	p := filepath.Join(dir, "model.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("scorecard: %w", err)
	}
	return Decode(raw, p)
}

// Decode parses a model.json document (named name in errors) and checks
// its schema, checksum and structure. The checksum catches a file changed
// by accident; it is no signature, so the structure is checked too: a
// hand-made model.json is refused with an error, never a panic later.
func Decode(raw []byte, name string) (*Model, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var m Model
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("scorecard: %s: %w", name, err)
	}
	if m.Schema != SchemaVersion {
		return nil, fmt.Errorf("scorecard: %s: schema %q, want %q", name, m.Schema, SchemaVersion)
	}
	if err := m.Verify(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, name)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("scorecard: %s: %w", name, err)
	}
	return &m, nil
}

// validate checks what scoring relies on: at least one characteristic,
// unique names, a known kind, at least one bin, a fallback bin that
// exists, finite points, numeric breaks finite and increasing with a bin
// for every interval, and every category mapped to a bin that exists; a
// pair has two distinct inputs, each valid, and a cell per pair of their
// bins.
func (m *Model) validate() error {
	if len(m.Chars) == 0 {
		return errors.New("the card has no characteristics")
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(m.BasePoints) || !finite(m.Scaling.Factor) || !finite(m.Scaling.Offset) || m.Scaling.Factor == 0 {
		return errors.New("base points or scaling not finite")
	}
	seen := map[string]bool{}
	for j := range m.Chars {
		c := &m.Chars[j]
		if seen[c.Name] {
			return fmt.Errorf("characteristic %q appears twice", c.Name)
		}
		seen[c.Name] = true
		if c.Kind != KindPair {
			if err := validateChar(c, j); err != nil {
				return err
			}
			continue
		}
		if len(c.Inputs) != 2 || c.Inputs[0].Name == c.Inputs[1].Name {
			return fmt.Errorf("pair %q: %d inputs, want two distinct", c.Name, len(c.Inputs))
		}
		for k := range c.Inputs {
			if c.Inputs[k].IsPair() {
				return fmt.Errorf("pair %q: an input is itself a pair", c.Name)
			}
			if err := validateChar(&c.Inputs[k], k); err != nil {
				return fmt.Errorf("pair %q: %w", c.Name, err)
			}
		}
		if len(c.Bins) != len(c.Inputs[0].Bins)*len(c.Inputs[1].Bins) || c.Fallback < 0 || c.Fallback >= len(c.Bins) {
			return fmt.Errorf("pair %q: %d cells for %d×%d bins", c.Name, len(c.Bins), len(c.Inputs[0].Bins), len(c.Inputs[1].Bins))
		}
		for _, b := range c.Bins {
			if !finite(b.Points) || math.Abs(b.Points) > 1e12 {
				return fmt.Errorf("pair %q: cell %q has points %v", c.Name, b.Label, b.Points)
			}
		}
	}
	return nil
}

// validateChar is validate of one one-input characteristic (the j-th).
func validateChar(c *Characteristic, j int) error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.Name == "":
		return fmt.Errorf("characteristic %d has no name", j+1)
	case c.Kind != "numeric" && c.Kind != "categorical":
		return fmt.Errorf("characteristic %q: kind %q, want numeric, categorical or pair", c.Name, c.Kind)
	case len(c.Inputs) > 0:
		return fmt.Errorf("characteristic %q: inputs on a %s characteristic", c.Name, c.Kind)
	case len(c.Bins) == 0:
		return fmt.Errorf("characteristic %q has no bins", c.Name)
	case c.Fallback < 0 || c.Fallback >= len(c.Bins):
		return fmt.Errorf("characteristic %q: fallback bin %d of %d bins", c.Name, c.Fallback, len(c.Bins))
	}
	for _, b := range c.Bins {
		if !finite(b.Points) || math.Abs(b.Points) > 1e12 {
			return fmt.Errorf("characteristic %q: bin %q has points %v", c.Name, b.Label, b.Points)
		}
	}
	if c.Kind == "numeric" {
		for k, x := range c.Breaks {
			if !finite(x) || k > 0 && x <= c.Breaks[k-1] {
				return fmt.Errorf("characteristic %q: breaks %v not finite and increasing", c.Name, c.Breaks)
			}
		}
		if len(c.Bins) < len(c.Breaks)+1 {
			return fmt.Errorf("characteristic %q: %d bins for %d breaks", c.Name, len(c.Bins), len(c.Breaks))
		}
		return nil
	}
	if len(c.Breaks) > 0 {
		return fmt.Errorf("characteristic %q: a categorical characteristic with breaks", c.Name)
	}
	l := c.Lookup()
	for _, b := range c.Bins {
		for _, v := range append(slices.Clone(b.Values), "") {
			if k, _ := l.Cat(v, false); k < 0 || int(k) >= len(c.Bins) {
				return fmt.Errorf("characteristic %q: category %q maps to no bin", c.Name, v)
			}
		}
	}
	if k, _ := l.Cat("", true); k < 0 || int(k) >= len(c.Bins) {
		return fmt.Errorf("characteristic %q: missing values map to no bin", c.Name)
	}
	return nil
}

// Write writes the artifact into root/<name>/<version>/, publishing the
// directory atomically, and returns that directory. The model must be
// sealed.
func (m *Model) Write(root string) (string, error) { return m.WriteWith(root, nil) }

// WriteWith is Write with extra files published in the same directory,
// such as the per-row scored.csv the model report reads: each file is
// the concatenation of its parts (name → parts), written in order.
//
// A version directory is content-addressed and never replaced: when it is
// absent, the files are written into a temporary directory beside it
// (.<version>.tmp-*), synced, and published by one rename; when it is
// present it holds the same model (the version is a digest of the
// content), so nothing is written and its model.json is touched so that
// it counts as the latest. A present version whose model.json differs (a
// version named by hand) is an error. Temporary directories of writers
// that died, and the <version>.old directories of the move-aside
// publication this replaces, are removed first (one writer at a time:
// the caller holds the lake's writer lock).
func (m *Model) WriteWith(root string, extra map[string][][]byte) (string, error) {
	if err := m.Verify(); err != nil {
		return "", fmt.Errorf("scorecard: write an unsealed model: %w", err)
	}
	dst := filepath.Join(root, m.Name, m.Version)
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	if err := removeDebris(parent); err != nil {
		return "", fmt.Errorf("scorecard: %w", err)
	}
	files, err := m.Files()
	if err != nil {
		return "", err
	}
	if old, err := os.ReadFile(filepath.Join(dst, "model.json")); err == nil {
		if !bytes.Equal(old, files["model.json"]) {
			return "", fmt.Errorf("scorecard: %s exists with another model.json (a version is never replaced; name another)", dst)
		}
		now := time.Now()
		if err := os.Chtimes(filepath.Join(dst, "model.json"), now, now); err != nil {
			return "", fmt.Errorf("scorecard: %w", err)
		}
		return dst, nil
	}
	tmp, err := os.MkdirTemp(parent, "."+m.Version+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	parts := make(map[string][][]byte, len(files)+len(extra))
	for name, data := range files {
		parts[name] = [][]byte{data}
	}
	for name, data := range extra {
		if _, dup := files[name]; dup {
			return "", fmt.Errorf("scorecard: extra file %s would replace an artifact file", name)
		}
		parts[name] = data
	}
	for name, data := range parts {
		if err := writeSynced(filepath.Join(tmp, name), data...); err != nil {
			return "", fmt.Errorf("scorecard: %w", err)
		}
	}
	if err := syncDir(tmp); err != nil {
		return "", fmt.Errorf("scorecard: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("scorecard: publish %s: %w", dst, err)
	}
	if err := syncDir(parent); err != nil {
		return "", fmt.Errorf("scorecard: %w", err)
	}
	return dst, nil
}

// removeDebris removes what an interrupted publication left in a model's
// directory: .<version>.tmp-* directories and <version>.old directories.
func removeDebris(dir string) error {
	if err := durable.CleanTemp(dir); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".old") {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeSynced(path string, parts ...[]byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	for _, data := range parts {
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Files returns the artifact's files by name.
func (m *Model) Files() (map[string][]byte, error) {
	js, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	cat, err := DefaultReasonCatalog()
	if err != nil {
		return nil, err
	}
	pmml, err := m.PMML(cat)
	if err != nil {
		return nil, fmt.Errorf("scorecard: pmml: %w", err)
	}
	out := map[string][]byte{"model.json": append(js, '\n'), "scorecard.sql": []byte(m.SQL("input")), "scorecard.pmml": pmml}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	p4 := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	bins := [][]string{{"variable", "bin", "count", "good", "bad", "bad_rate", "woe", "bin_iv", "points", "smoothed"}}
	points := [][]string{{"variable", "bin", "points"}, {"base_points", "", p4(m.BasePoints)}}
	for _, c := range m.Chars {
		for _, b := range c.Bins {
			bins = append(bins, []string{c.Name, ReadableLabel(b.Bin), strconv.FormatInt(b.Count, 10), strconv.FormatInt(b.Good, 10),
				strconv.FormatInt(b.Bad, 10), f(b.BadRate), f(b.WoE), f(b.IV), p4(b.Points), strconv.FormatBool(b.Smoothed)})
			points = append(points, []string{c.Name, b.Label, p4(b.Points)})
		}
	}
	coefs := [][]string{{"term", "estimate", "std_error", "z", "p_value"}}
	for _, c := range append([]Coef{m.Intercept}, m.coefs()...) {
		coefs = append(coefs, []string{c.Term, f(c.Estimate), f(c.StdErr), f(c.Z), f(c.PValue)})
	}
	met := [][]string{{"sample", "n", "bads", "auc", "gini", "ks", "hosmer_lemeshow", "hosmer_lemeshow_p", "score_psi"}}
	for _, s := range m.Metrics {
		met = append(met, []string{s.Sample, strconv.Itoa(s.N), strconv.Itoa(s.Bads), f(s.AUC), f(s.Gini), f(s.KS), f(s.HL), f(s.HLP), f(s.ScorePSI)})
	}
	drop := [][]string{{"variable", "reason"}}
	for _, d := range m.Dropped {
		drop = append(drop, []string{d.Variable, d.Reason})
	}
	gains := [][]string{{"sample", "kind", "band", "lower", "upper", "n", "bads", "bad_rate", "cum_bad_pct", "lift", "cum_lift"}}
	for _, g := range m.Gains {
		gains = append(gains, []string{g.Sample, g.Kind, strconv.Itoa(g.Band), f(g.Lower), f(g.Upper), strconv.Itoa(g.N),
			strconv.Itoa(g.Bads), f(g.BadRate), f(g.CumBadPct), f(g.Lift), f(g.CumLift)})
	}
	psi := [][]string{{"variable", "sample", "psi"}}
	for _, p := range m.PSI {
		psi = append(psi, []string{p.Variable, p.Sample, f(p.PSI)})
	}
	if len(m.Pairs) > 0 {
		pairs := [][]string{{"pair", "input_1", "input_2", "rank", "gain", "validation_logloss_before", "validation_logloss_main", "validation_logloss_after", "validation_z", "trees", "kept", "reason"}}
		for _, p := range m.Pairs {
			pairs = append(pairs, []string{p.Pair, p.Inputs[0], p.Inputs[1], strconv.Itoa(p.Rank), f(p.Gain), f(p.ValBefore), f(p.ValMain), f(p.ValAfter), f(p.Z),
				strconv.Itoa(p.Trees), strconv.FormatBool(p.Kept), p.Reason})
		}
		if err := writeCSV(out, "pairs.csv", pairs); err != nil {
			return nil, err
		}
	}
	for name, rows := range map[string][][]string{"gains.csv": gains, "psi.csv": psi, "bins.csv": bins, "points.csv": points, "coefficients.csv": coefs, "metrics.csv": met, "dropped.csv": drop} {
		if err := writeCSV(out, name, rows); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writeCSV puts rows as CSV in out[name], formula-leading text
// neutralised (numbers stay).
func writeCSV(out map[string][]byte, name string, rows [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, r := range rows {
		csvsafe.Record(r)
	}
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	out[name] = buf.Bytes()
	return nil
}

func (m *Model) coefs() []Coef {
	out := make([]Coef, len(m.Chars))
	for j, c := range m.Chars {
		out[j] = c.Coef
	}
	return out
}
