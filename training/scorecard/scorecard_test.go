package scorecard_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"qiandun/data/lake"
	"qiandun/training/binning"
	"qiandun/training/internal/gcredit"
	"qiandun/training/logit"
	"qiandun/training/scorecard"
)

// refModel builds the card from the reference's bins and characteristics.
func refModel(t testing.TB, sc scorecard.Scaling) (*scorecard.Model, *gcredit.Data) {
	t.Helper()
	d, err := gcredit.Load()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := gcredit.LoadReference()
	if err != nil {
		t.Fatal(err)
	}
	var bins []*binning.Binning
	var cols [][]float64
	for _, name := range ref.Logit.Variables {
		b, err := binning.Apply(d.Cols[name], d.Y, ref.Variables[name].Spec(), binning.Options{})
		if err != nil {
			t.Fatal(err)
		}
		w, _ := b.WoE(d.Cols[name])
		bins = append(bins, b)
		cols = append(cols, w)
	}
	r, err := logit.Fit(context.Background(), cols, d.Y, logit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	coefs := make([]scorecard.Coef, len(r.Coef))
	for j := range coefs {
		coefs[j] = scorecard.Coef{Estimate: r.Coef[j], StdErr: r.StdErr[j], Z: r.Z[j], PValue: r.PValue[j]}
	}
	m, err := scorecard.Build("gc", bins, coefs, sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Seal(); err != nil {
		t.Fatal(err)
	}
	return m, d
}

func TestScaling(t *testing.T) {
	s := scorecard.DefaultScaling()
	if math.Abs(s.Factor-20/math.Ln2) > 1e-12 {
		t.Errorf("factor %v", s.Factor)
	}
	// 600 points at good:bad 50:1, and 20 points double the odds.
	if pd := s.PD(600); math.Abs(pd-1.0/51) > 1e-12 {
		t.Errorf("PD(600) = %v, want 1/51", pd)
	}
	if pd := s.PD(620); math.Abs(pd-1.0/101) > 1e-12 {
		t.Errorf("PD(620) = %v, want 1/101", pd)
	}
}

// The card's score is a strictly decreasing function of the model's PD,
// and Score's PD equals the logistic model's to the point rounding.
func TestScoreDecreasingInPD(t *testing.T) {
	m, d := refModel(t, scorecard.DefaultScaling())
	s, err := m.Score(d.Cols)
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, len(s.Score))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return int(math.Copysign(1, s.Score[a]-s.Score[b])) })
	for k := 1; k < len(idx); k++ {
		a, b := idx[k-1], idx[k]
		if s.Score[b] > s.Score[a] && !(s.PD[b] < s.PD[a]) {
			t.Fatalf("score %v > %v but PD %v >= %v", s.Score[b], s.Score[a], s.PD[b], s.PD[a])
		}
	}
	// PD from the linear predictor of the fitted model
	for i := range s.Score {
		eta := m.Intercept.Estimate
		for j, c := range m.Chars {
			eta += c.Coef.Estimate * c.Bins[s.Bin[j][i]].WoE
		}
		pd := 1 / (1 + math.Exp(-eta))
		if math.Abs(pd-s.PD[i]) > 1e-4 {
			t.Fatalf("row %d: PD %v, model %v", i, s.PD[i], pd)
		}
	}
}

// scorecard.sql run by DuckDB over the training table gives exactly the
// Go scores, including rows with missing and unseen values.
func TestSQLMatchesGo(t *testing.T) {
	for _, c := range []struct{ round, pairs bool }{{false, false}, {true, false}, {false, true}} {
		round := c.round
		sc := scorecard.DefaultScaling()
		sc.Round = round
		m, d := refModel(t, sc)
		if c.pairs {
			m = withPairs(t, m, d)
		}
		ctx := context.Background()
		db, err := lake.OpenDuckDB(ctx, lake.DBOptions{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "CREATE TABLE input AS SELECT row_number() OVER () AS rid, * FROM read_csv("+lake.Quote(gcredit.CSVPath())+", header = true)"); err != nil {
			t.Fatal(err)
		}
		// Missing and unseen values: NULL a numeric and a categorical, and an unknown purpose.
		for _, q := range []string{
			"UPDATE input SET age_in_years = NULL WHERE rid % 17 = 0",
			"UPDATE input SET purpose = NULL WHERE rid % 23 = 0",
			"UPDATE input SET purpose = 'vacation' WHERE rid % 29 = 0",
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		age := d.Cols["age_in_years"]
		pur := d.Cols["purpose"]
		pur.Dict = append(pur.Dict, "vacation")
		for i := range age.Num {
			rid := i + 1
			if rid%17 == 0 {
				age.Num[i] = math.NaN()
			}
			if rid%23 == 0 {
				pur.Codes[i] = -1
			}
			if rid%29 == 0 {
				pur.Codes[i] = int32(len(pur.Dict) - 1)
			}
		}
		s, err := m.Score(d.Cols)
		if err != nil {
			t.Fatal(err)
		}
		if fb := s.Fallbacks[slices.IndexFunc(m.Chars, func(c scorecard.Characteristic) bool { return c.Name == "purpose" })]; fb == 0 {
			t.Errorf("no purpose fallbacks counted")
		}
		rows, err := db.QueryContext(ctx, "SELECT rid, CAST(score AS VARCHAR) FROM ("+m.SQL("input")+") ORDER BY rid")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var rid int
			var got string
			if err := rows.Scan(&rid, &got); err != nil {
				t.Fatal(err)
			}
			want := strconv.FormatFloat(s.Score[rid-1], 'f', 4, 64)
			if got != want {
				t.Errorf("round=%v row %d: SQL score %s, Go %s", round, rid, got, want)
			}
			if round && !strings.HasSuffix(got, ".0000") {
				t.Errorf("row %d: rounded card gives %s", rid, got)
			}
			n++
		}
		rows.Close()
		if n != len(s.Score) {
			t.Fatalf("SQL returned %d rows, want %d", n, len(s.Score))
		}
	}
}

// An artifact loads back identically; a modified one is refused.
func TestWriteLoadTamper(t *testing.T) {
	m, d := refModel(t, scorecard.DefaultScaling())
	dir, err := m.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != m.Version || !strings.HasPrefix(m.Version, "v") || len(m.Version) != 13 {
		t.Errorf("dir %s version %s", dir, m.Version)
	}
	for _, f := range []string{"model.json", "bins.csv", "points.csv", "coefficients.csv", "metrics.csv", "dropped.csv", "scorecard.sql", "scorecard.pmml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	m2, err := scorecard.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := m.Score(d.Cols)
	b, err := m2.Score(d.Cols)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Score, b.Score) {
		t.Error("loaded model scores differently")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "model.json"))
	for _, tamper := range []struct{ old, new string }{
		{`"base_points": `, `"base_points": 1`},
		{`"pdo": 20`, `"pdo": 21`},
		{`"label": "[-inf,26)"`, `"label": "[-inf,27)"`},
	} {
		if !strings.Contains(string(raw), tamper.old) {
			t.Fatalf("model.json lacks %q", tamper.old)
		}
		bad := strings.Replace(string(raw), tamper.old, tamper.new, 1)
		if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := scorecard.Load(dir); !errors.Is(err, scorecard.ErrChecksum) {
			t.Errorf("tampered %q: error %v, want ErrChecksum", tamper.new, err)
		}
	}
}

func TestReasons(t *testing.T) {
	m, d := refModel(t, scorecard.DefaultScaling())
	s, _ := m.Score(d.Cols)
	for i := 0; i < 50; i++ {
		rs := m.Reasons(s, i, 3)
		for k, r := range rs {
			if r.Shortfall <= 0 || (k > 0 && r.Shortfall > rs[k-1].Shortfall) {
				t.Fatalf("row %d: reasons not by decreasing shortfall: %+v", i, rs)
			}
		}
		// a row at the best bin of every characteristic would have none;
		// the shortfalls sum to at most the distance to the best score
		best := m.BasePoints
		for _, c := range m.Chars {
			mx := math.Inf(-1)
			for _, b := range c.Bins {
				mx = math.Max(mx, b.Points)
			}
			best += mx
		}
		sum := 0.0
		for _, r := range m.Reasons(s, i, 100) {
			sum += r.Shortfall
		}
		if math.Abs(best-s.Score[i]-sum) > 1e-6 {
			t.Fatalf("row %d: shortfalls %v, best-score %v", i, sum, best-s.Score[i])
		}
	}
}

// TestCSVFilesNeutraliseFormulas: a category that starts with a formula
// character is written to bins.csv and points.csv with a leading quote,
// while negative numbers (WoE, points) stay numbers.
func TestCSVFilesNeutraliseFormulas(t *testing.T) {
	n := 600
	x := &binning.Column{Name: "city", Kind: binning.Categorical, Codes: make([]int32, n), Dict: []string{"=cmd|' /C calc'!A0", "北京", "-dash"}}
	y := make([]float64, n)
	for i := range n {
		x.Codes[i] = int32(i % 3)
		if i%(3+i%3) == 0 {
			y[i] = 1
		}
	}
	b, err := binning.Fit(x, y, binning.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := scorecard.Build("inj", []*binning.Binning{b}, []scorecard.Coef{{Estimate: -1}, {Estimate: 1}}, scorecard.DefaultScaling())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Seal(); err != nil {
		t.Fatal(err)
	}
	dir, err := m.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"bins.csv", "points.csv"} {
		raw, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		quoted, negative := 0, 0
		for _, rec := range recs {
			for _, cell := range rec {
				switch {
				case cell == "":
				case strings.HasPrefix(cell, "'") && strings.ContainsAny(cell[1:2], "=-"):
					quoted++
				case strings.ContainsAny(cell[:1], "=+-@\t\r"):
					if _, err := strconv.ParseFloat(cell, 64); err != nil {
						t.Errorf("%s: formula-leading cell %q", f, cell)
					}
					negative++
				}
			}
		}
		if quoted == 0 {
			t.Errorf("%s: no neutralised category:\n%s", f, raw)
		}
		if f == "bins.csv" && negative == 0 {
			t.Errorf("%s: no negative number left as a number:\n%s", f, raw)
		}
	}
}

// An additive card whose tables are β_j·WoE of a logistic card scores
// every row exactly as that card, writes and loads back, and says it is
// boosted.
func TestBuildAdditiveMatchesLogistic(t *testing.T) {
	m, d := refModel(t, scorecard.DefaultScaling())
	var bins []*binning.Binning
	var tables [][]float64
	for _, c := range m.Chars {
		b := c.Binning()
		tab := make([]float64, len(b.Bins))
		for k, bin := range b.Bins {
			tab[k] = c.Coef.Estimate * bin.WoE
		}
		bins, tables = append(bins, b), append(tables, tab)
	}
	a, err := scorecard.BuildAdditive("gc", bins, tables, m.Intercept.Estimate, scorecard.DefaultScaling())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Seal(); err != nil {
		t.Fatal(err)
	}
	want, err := m.Score(d.Cols)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Score(d.Cols)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Score {
		if math.Abs(got.Score[i]-want.Score[i]) > 1e-3 || math.Abs(got.PD[i]-want.PD[i]) > 1e-6 {
			t.Fatalf("row %d: additive %v / %v, logistic %v / %v", i, got.Score[i], got.PD[i], want.Score[i], want.PD[i])
		}
	}
	dir, err := a.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	back, err := scorecard.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Method != "boosted" || a.Method != "boosted" || m.Method != "" {
		t.Errorf("methods: built %q, loaded %q, logistic %q", a.Method, back.Method, m.Method)
	}
	if _, err := scorecard.BuildAdditive("gc", bins, tables[:1], 0, scorecard.DefaultScaling()); err == nil {
		t.Error("tables for one characteristic of several accepted")
	}
}

// withPairs adds to a German credit card two pairs with made-up cell
// tables, a numeric × numeric one whose first input has a special value
// and a categorical × numeric one, and seals it again: the card the
// Go, SQL and PMML scorers must agree on when it has pairs.
func withPairs(t testing.TB, m *scorecard.Model, d *gcredit.Data) *scorecard.Model {
	t.Helper()
	fit := func(name string, o binning.Options) *binning.Binning {
		b, err := binning.Fit(d.Cols[name], d.Y, o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var pairs []scorecard.PairTable
	for k, ab := range [][2]*binning.Binning{
		{fit("age_in_years", binning.Options{MaxBins: 4, Specials: []float64{30}}), fit("duration_in_month", binning.Options{MaxBins: 3})},
		{fit("purpose", binning.Options{MaxBins: 3}), fit("credit_amount", binning.Options{MaxBins: 3})},
	} {
		n := len(ab[0].Bins) * len(ab[1].Bins)
		p := scorecard.PairTable{A: ab[0], B: ab[1], Table: make([]float64, n), Good: make([]int64, n), Bad: make([]int64, n)}
		for c := range n {
			p.Table[c] = math.Sin(float64(7*c+k+1)) / 3 // distinct cells, some ties broken by the reason order
		}
		pairs = append(pairs, p)
	}
	if err := m.AddPairs(pairs); err != nil {
		t.Fatal(err)
	}
	m.Version = ""
	if err := m.Seal(); err != nil {
		t.Fatal(err)
	}
	return m
}
