package monitor_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"qiandun/scoring/monitor"
	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

func model() *scorecard.Model {
	bin := func(n int64) scorecard.Bin { return scorecard.Bin{Bin: binning.Bin{Count: n}} }
	return &scorecard.Model{
		Scaling: scorecard.DefaultScaling(),
		Chars: []scorecard.Characteristic{
			{Name: "x", Kind: "numeric", Breaks: []float64{10}, Bins: []scorecard.Bin{bin(50), bin(50)}},
			{Name: "y", Kind: "numeric", Breaks: []float64{1, 2}, Bins: []scorecard.Bin{bin(20), bin(30), bin(50)}},
		},
		// Train bands 20 points wide from the lowest train score 483:
		// [-inf,500) 10 rows, [500,520) 30, [520,inf) 60.
		Gains: []scorecard.Gain{
			{Sample: "train", Kind: "band", Band: 1, Lower: 483, Upper: 500, N: 10},
			{Sample: "train", Kind: "band", Band: 2, Lower: 500, Upper: 520, N: 30},
			{Sample: "train", Kind: "band", Band: 3, Lower: 520, Upper: 590, N: 60},
			{Sample: "test", Kind: "band", Band: 1, Lower: 400, Upper: 500, N: 99},
			{Sample: "train", Kind: "decile", Band: 1, Lower: 0.1, Upper: 0.2, N: 99},
		},
	}
}

// psi is the textbook formula, written out.
func psi(e, a []float64) float64 {
	var s float64
	for i := range e {
		s += (a[i] - e[i]) * math.Log(a[i]/e[i])
	}
	return s
}

func TestIndices(t *testing.T) {
	m := model()
	cuts, counts := monitor.TrainBands(m)
	if len(cuts) != 2 || cuts[0] != 500 || cuts[1] != 520 || counts[0] != 10 || counts[1] != 30 || counts[2] != 60 {
		t.Fatalf("train bands %v %v", cuts, counts)
	}
	mo := monitor.New(m)
	// x: 80 rows in bin 0, 20 in bin 1; y: the training shares exactly.
	// Scores: 30 below 500, 500 itself (band 2, left-closed) plus 29 in
	// [500,520), 40 at 520 or above.
	var bx, by []int32
	var score []float64
	for i := range 100 {
		bx = append(bx, map[bool]int32{true: 0, false: 1}[i < 80])
		switch {
		case i < 20:
			by = append(by, 0)
		case i < 50:
			by = append(by, 1)
		default:
			by = append(by, 2)
		}
		switch {
		case i < 30:
			score = append(score, 499.9999)
		case i < 60:
			score = append(score, 500+float64(i-30)/2)
		default:
			score = append(score, 520)
		}
	}
	// Two halves merged give the same as one pass.
	half := monitor.New(m)
	half.Add([][]int32{bx[50:], by[50:]}, score[50:])
	mo.Add([][]int32{bx[:50], by[:50]}, score[:50])
	mo.Merge(half)
	r := mo.Report()
	if r.Rows != 100 {
		t.Fatalf("rows %d", r.Rows)
	}
	if want := psi([]float64{.5, .5}, []float64{.8, .2}); math.Abs(r.CSI[0].CSI-want) > 1e-12 || r.CSI[0].Level != "alert" {
		t.Fatalf("CSI x %+v, want %v alert", r.CSI[0], want)
	}
	if r.CSI[1].CSI != 0 || r.CSI[1].Level != "stable" {
		t.Fatalf("CSI y %+v, want 0", r.CSI[1])
	}
	if want := psi([]float64{.1, .3, .6}, []float64{.3, .3, .4}); math.Abs(r.ScorePSI-want) > 1e-12 {
		t.Fatalf("score PSI %v, want %v", r.ScorePSI, want)
	}
	if r.ScoreLevel != monitor.Level(r.ScorePSI) || r.Alerts != 2 {
		t.Fatalf("score level %s, alerts %d (PSI %v)", r.ScoreLevel, r.Alerts, r.ScorePSI)
	}
}

func TestLevel(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{{0, "stable"}, {0.1, "stable"}, {0.1000001, "warning"}, {0.25, "warning"}, {0.26, "alert"}, {math.NaN(), "unknown"}} {
		if got := monitor.Level(tc.v); got != tc.want {
			t.Errorf("Level(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestNoTrainBands(t *testing.T) {
	m := model()
	m.Gains = nil
	mo := monitor.New(m)
	mo.Add([][]int32{{0}, {0}}, []float64{500})
	if r := mo.Report(); r.ScoreLevel != "unknown" || r.Note == "" {
		t.Fatalf("report without train bands: %+v", r)
	}
}

// TestCounts: a monitor carried as Counts (through JSON, as qiandun-beam's
// parts carry them) and added to another gives the report of one monitor
// that saw every row; counts of another shape are refused.
func TestCounts(t *testing.T) {
	m := model()
	all, a, b := monitor.New(m), monitor.New(m), monitor.New(m)
	bins := [][]int32{{0, 1, 1, 0, 0}, {2, 0, 1, 2, 2}}
	scores := []float64{490, 505, 530, 521, 499}
	all.Add(bins, scores)
	a.Add([][]int32{bins[0][:2], bins[1][:2]}, scores[:2])
	b.Add([][]int32{bins[0][2:], bins[1][2:]}, scores[2:])
	js, err := json.Marshal(b.Counts())
	if err != nil {
		t.Fatal(err)
	}
	var c monitor.Counts
	if err := json.Unmarshal(js, &c); err != nil {
		t.Fatal(err)
	}
	if err := a.AddCounts(c); err != nil {
		t.Fatal(err)
	}
	if got, want := a.Report(), all.Report(); !reflect.DeepEqual(got, want) {
		t.Fatalf("merged through Counts %+v, want %+v", got, want)
	}
	c.Bins = c.Bins[:1]
	if err := a.AddCounts(c); err == nil {
		t.Fatal("counts of one characteristic added to a monitor of two")
	}
}
