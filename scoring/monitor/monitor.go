// Package monitor measures how far a scored population has drifted from
// the population a scorecard was trained on: the PSI of the score and the
// CSI (characteristic stability index) of every characteristic.
//
// The expected distributions come from the model artifact
// (training/scorecard): a characteristic's training distribution is the
// Count of each of its bins, and the score's is the train sample's "band"
// rows of Model.Gains (bands PDO points wide, band b holding
// cut[b-1] <= score < cut[b], the cut points being multiples of the PDO
// counted from the train sample's lowest score). Both indices are
// metrics.PSI over those bins: Σ (a−e)·ln(a/e) of the shares, empty
// shares floored at metrics.PSIEpsilon.
//
// Levels: below Warn (0.10) the population is stable, from Warn to Alert
// (0.25) it has shifted ("warning"), above Alert it has shifted
// materially ("alert").
package monitor

import (
	"fmt"
	"log/slog"
	"math"

	"qiandun/training/metrics"
	"qiandun/training/scorecard"
)

// Thresholds of the stability levels.
const (
	Warn  = 0.10
	Alert = 0.25
)

// Level names the stability of an index value.
func Level(v float64) string {
	switch {
	case math.IsNaN(v):
		return "unknown"
	case v > Alert:
		return "alert"
	case v > Warn:
		return "warning"
	}
	return "stable"
}

// Monitor accumulates the bin and score-band counts of scored rows.
// It is not safe for concurrent use; merge per-worker monitors with Merge.
type Monitor struct {
	m       *scorecard.Model
	cuts    []float64 // score band cut points (nil: no training bands)
	expBand []float64
	bins    [][]float64 // bins[j][k]: rows of characteristic j in bin k
	bands   []float64
	n       int64
}

// New returns an empty monitor for m.
func New(m *scorecard.Model) *Monitor {
	mo := &Monitor{m: m, bins: make([][]float64, len(m.Chars))}
	for j := range m.Chars {
		mo.bins[j] = make([]float64, len(m.Chars[j].Bins))
	}
	mo.cuts, mo.expBand = TrainBands(m)
	if mo.cuts != nil {
		mo.bands = make([]float64, len(mo.cuts)+1)
	}
	return mo
}

// TrainBands reconstructs the score-band cut points of the train sample
// and its row count per band from m.Gains; it returns nil when the model
// has no train bands.
func TrainBands(m *scorecard.Model) (cuts, counts []float64) {
	pdo := m.Scaling.PDO
	lo, maxBand := math.Inf(1), 0
	for _, g := range m.Gains {
		if g.Sample == "train" && g.Kind == "band" {
			lo = math.Min(lo, g.Lower)
			maxBand = max(maxBand, g.Band)
		}
	}
	if maxBand == 0 || pdo <= 0 {
		return nil, nil
	}
	base := math.Floor(lo/pdo) * pdo
	cuts = make([]float64, maxBand-1)
	for k := range cuts {
		cuts[k] = base + float64(k+1)*pdo
	}
	counts = make([]float64, maxBand)
	for _, g := range m.Gains {
		if g.Sample == "train" && g.Kind == "band" {
			counts[g.Band-1] += float64(g.N)
			if g.Band >= 2 {
				cuts[g.Band-2] = g.Lower // the exact cut training used
			}
		}
	}
	return cuts, counts
}

// Add counts rows: bin[j][i] is the bin characteristic j took in row i
// (as scorecard.Scores.Bin) and score[i] the row's score.
func (mo *Monitor) Add(bin [][]int32, score []float64) {
	var cnt []int64
	for j, idx := range bin {
		cnt = append(cnt[:0], make([]int64, len(mo.bins[j]))...)
		for _, k := range idx {
			cnt[k]++
		}
		mo.AddBins(j, cnt)
	}
	mo.AddScores(score)
}

// AddBins adds to characteristic j's bin counts: cnt[k] rows took bin k.
// Rows are counted by AddScores.
func (mo *Monitor) AddBins(j int, cnt []int64) {
	c := mo.bins[j]
	for k, n := range cnt {
		c[k] += float64(n)
	}
}

// AddScores counts the rows of the given scores, by score band.
func (mo *Monitor) AddScores(score []float64) {
	if cuts := mo.cuts; cuts != nil {
		band := make([]int64, len(mo.bands))
		if len(cuts) <= 16 {
			// The band is the number of cuts at or below s, counted
			// without branches (a binary search mispredicts half its
			// steps on scores in random order).
			for _, s := range score {
				k := 0
				for _, c := range cuts {
					k += ge(s, c)
				}
				band[k]++
			}
		} else {
			for _, s := range score {
				lo, hi := 0, len(cuts)
				for lo < hi {
					m := int(uint(lo+hi) >> 1)
					if cuts[m] <= s {
						lo = m + 1
					} else {
						hi = m
					}
				}
				band[lo]++
			}
		}
		for b, n := range band {
			mo.bands[b] += float64(n)
		}
	}
	mo.n += int64(len(score))
}

// Merge adds the counts of o (a monitor of the same model) to mo.
func (mo *Monitor) Merge(o *Monitor) {
	for j := range mo.bins {
		for k := range mo.bins[j] {
			mo.bins[j][k] += o.bins[j][k]
		}
	}
	for k := range mo.bands {
		mo.bands[k] += o.bands[k]
	}
	mo.n += o.n
}

// CSI is one characteristic's stability.
type CSI struct {
	Variable string  `json:"variable"`
	CSI      float64 `json:"csi"`
	Level    string  `json:"level"`
}

// Report is the stability of a scored population.
type Report struct {
	Rows       int64   `json:"rows"`
	ScorePSI   float64 `json:"score_psi"`
	ScoreLevel string  `json:"score_level"`
	ScoreBands int     `json:"score_bands"`
	CSI        []CSI   `json:"csi"`
	Warnings   int     `json:"warnings"`
	Alerts     int     `json:"alerts"`
	Note       string  `json:"note,omitempty"`
}

// Report computes the indices. A NaN index (no training distribution, or
// no rows) is reported as level "unknown" and encoded as -1.
func (mo *Monitor) Report() Report {
	r := Report{Rows: mo.n, ScorePSI: -1, ScoreLevel: "unknown"}
	if mo.cuts == nil {
		r.Note = "the model has no train score bands; score PSI not computed"
	} else if p, err := metrics.PSI(mo.expBand, mo.bands); err == nil {
		r.ScorePSI, r.ScoreLevel, r.ScoreBands = p, Level(p), len(mo.bands)
	}
	count := func(l string) {
		switch l {
		case "warning":
			r.Warnings++
		case "alert":
			r.Alerts++
		}
	}
	count(r.ScoreLevel)
	for j := range mo.m.Chars {
		c := &mo.m.Chars[j]
		exp := make([]float64, len(c.Bins))
		for k, b := range c.Bins {
			exp[k] = float64(b.Count)
		}
		v := CSI{Variable: c.Name, CSI: -1, Level: "unknown"}
		if p, err := metrics.PSI(exp, mo.bins[j]); err == nil {
			v.CSI, v.Level = p, Level(p)
		}
		count(v.Level)
		r.CSI = append(r.CSI, v)
	}
	return r
}

// Log writes a warning for every index above Warn and an error-level
// alert for every index above Alert.
func (r Report) Log(log *slog.Logger, model string) {
	emit := func(what string, v float64, level string) {
		switch level {
		case "alert":
			log.Error("ALERT: population shift above "+fmt.Sprint(Alert), "model", model, "index", what, "value", round4(v))
		case "warning":
			log.Warn("population shift above "+fmt.Sprint(Warn), "model", model, "index", what, "value", round4(v))
		}
	}
	emit("score_psi", r.ScorePSI, r.ScoreLevel)
	for _, c := range r.CSI {
		emit("csi:"+c.Variable, c.CSI, c.Level)
	}
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// ge is 1 when x ≥ c, else 0 (a SETcc, not a branch).
func ge(x, c float64) int {
	if x >= c {
		return 1
	}
	return 0
}

// Counts are a monitor's counts as plain values, so that the monitors of
// workers in other processes (qiandun-beam) can be carried as JSON and
// merged with AddCounts.
type Counts struct {
	Bins  [][]float64 `json:"bins"`  // Bins[j][k]: rows of characteristic j in bin k
	Bands []float64   `json:"bands"` // rows per training score band
	N     int64       `json:"n"`
}

// Counts returns a copy of mo's counts.
func (mo *Monitor) Counts() Counts {
	c := Counts{Bins: make([][]float64, len(mo.bins)), Bands: append([]float64(nil), mo.bands...), N: mo.n}
	for j := range mo.bins {
		c.Bins[j] = append([]float64(nil), mo.bins[j]...)
	}
	return c
}

// AddCounts adds c (counts of a monitor of the same model) to mo.
func (mo *Monitor) AddCounts(c Counts) error {
	if len(c.Bins) != len(mo.bins) || len(c.Bands) != len(mo.bands) {
		return fmt.Errorf("monitor: counts of %d characteristics and %d bands, want %d and %d", len(c.Bins), len(c.Bands), len(mo.bins), len(mo.bands))
	}
	for j := range mo.bins {
		if len(c.Bins[j]) != len(mo.bins[j]) {
			return fmt.Errorf("monitor: characteristic %d has %d bins, want %d", j, len(c.Bins[j]), len(mo.bins[j]))
		}
		for k, v := range c.Bins[j] {
			mo.bins[j][k] += v
		}
	}
	for k, v := range c.Bands {
		mo.bands[k] += v
	}
	mo.n += c.N
	return nil
}
