package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBandModel writes a model directory the way training does (no
// scored.csv; gains.csv with PDO-wide score bands; psi.csv) from per-row
// observations, and returns it.
func writeBandModel(t testing.TB, dir string, samples map[string][]Obs, width float64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"model.json":       `{"schema":"qiandun.scorecard/v1","name":"bcard","version":"v2","scaling":{"pdo":20,"factor":28.853900817779268,"offset":487.1228762045055},"fit":{"n":3000,"aic":1234.5}}`,
		"bins.csv":         "variable,bin,count,good,bad,bad_rate,woe,bin_iv,points,smoothed\nmax_dpd_6m,\"[-inf,1)\",2500,2400,100,0.04,-0.5,0.1,10,false\nmax_dpd_6m,\"[1,30)\",500,400,100,0.2,1.2,0.3,-20,false\n",
		"coefficients.csv": "term,estimate,std_error,z,p_value\nintercept,-2.1,0.05,-42,0\nmax_dpd_6m,1.0,0.08,12.5,7e-36\n",
		"psi.csv":          "variable,sample,psi\nmax_dpd_6m,test,0.0012\nmax_dpd_6m,oot,0.1312\n",
	}
	var g strings.Builder
	g.WriteString("sample,kind,band,lower,upper,n,bads,bad_rate,cum_bad_pct,lift,cum_lift\n")
	for name, obs := range samples {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, o := range obs {
			lo, hi = math.Min(lo, o.Score), math.Max(hi, o.Score)
		}
		band := 0
		for l := math.Floor(lo/width) * width; l <= hi; l += width {
			n, b := 0, 0
			for _, o := range obs {
				if o.Score >= l && o.Score < l+width {
					n++
					if o.Bad {
						b++
					}
				}
			}
			if n == 0 {
				continue
			}
			band++
			fmt.Fprintf(&g, "%s,band,%d,%g,%g,%d,%d,0,0,0,0\n", name, band, l, l+width, n, b)
		}
		g.WriteString(name + ",decile,1,0,1,1,0,0,0,0,0\n") // decile rows are ignored
	}
	files["gains.csv"] = g.String()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Without per-row scores the curves come from the score bands; at every
// band edge the ROC point must equal the per-row cumulative shares.
func TestBandCurvesMatchRowsAtEdges(t *testing.T) {
	rows := sample(11, 3000, 0.12)
	dir := filepath.Join(t.TempDir(), "bcard", "v2")
	writeBandModel(t, dir, map[string][]Obs{"train": rows}, 20)
	m, err := LoadModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.FromBands || len(m.Scored["train"]) != len(rows) {
		t.Fatalf("FromBands %v, %d synthesised rows for %d", m.FromBands, len(m.Scored["train"]), len(rows))
	}
	if m.Name != "bcard" || m.Version != "v2" || len(m.CSI) != 2 {
		t.Fatalf("name %q version %q CSI %v", m.Name, m.Version, m.CSI)
	}
	if got, want := m.PD(487.1228762045055), 0.5; math.Abs(got-want) > 1e-12 {
		t.Fatalf("PD at the offset = %v, want 0.5", got)
	}
	bandPts, _, _ := roc(m.Scored["train"])
	var nb, ng float64
	for _, o := range rows {
		if o.Bad {
			nb++
		} else {
			ng++
		}
	}
	checked := 0
	for _, b := range m.Bands["train"] {
		// Synthesised rows sit at band mid-points, so the ROC point at cut
		// mid covers exactly the rows below the band's upper edge.
		mid := (b.Lower + b.Upper) / 2
		var cb, cg float64
		for _, o := range rows {
			if o.Score < b.Upper {
				if o.Bad {
					cb++
				} else {
					cg++
				}
			}
		}
		for _, p := range bandPts {
			if -p.Cut == mid {
				if math.Abs(p.TPR-cb/nb) > 1e-12 || math.Abs(p.FPR-cg/ng) > 1e-12 {
					t.Fatalf("band [%v,%v): ROC (%v,%v), rows (%v,%v)", b.Lower, b.Upper, p.FPR, p.TPR, cg/ng, cb/nb)
				}
				checked++
			}
		}
	}
	if checked != len(m.Bands["train"]) || checked < 5 {
		t.Fatalf("checked %d of %d band edges", checked, len(m.Bands["train"]))
	}
}

// TestScoreRunUnknownIndex: an index the score stage could not compute
// (level "unknown", value −1 in manifest.json) is missing in the report,
// not a PSI of −1; a computed one is kept.
func TestScoreRunUnknownIndex(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "2024-01-31")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "scores.csv"), []byte("entity_id,model,model_version,score\na,m,v1,600\nb,m,v1,610\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	man := `{"models":[{"name":"m","version":"v1","monitoring":{"score_psi":-1,"score_level":"unknown",` +
		`"csi":[{"variable":"age","csi":-1,"level":"unknown"},{"variable":"x","csi":0.2,"level":"warning"}]}}]}`
	if err := os.WriteFile(filepath.Join(run, "manifest.json"), []byte(man), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadScoreRun(dir, "m", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Scores) != 2 || !math.IsNaN(r.ScorePSI) || !math.IsNaN(r.CSI["age"]) || r.CSI["x"] != 0.2 {
		t.Fatalf("scores %v, score PSI %v, CSI %v; want 2 scores, NaN, age NaN and x 0.2", r.Scores, r.ScorePSI, r.CSI)
	}
}
