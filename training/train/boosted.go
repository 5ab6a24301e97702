//go:build duckdb_arrow

package train

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
	"qiandun/training/selection"
)

// trainBoosted fits the boosted card on the candidates that pass the
// missing-rate, single-value and IV screens (no stepwise: a
// characteristic that does not help keeps a near-zero table).
func trainBoosted(ctx context.Context, cfg *Config, cands []selection.Candidate, tr *sample, dropped *[]scorecard.Dropped, names []string, phase time.Time, log *slog.Logger) (*scorecard.Model, error) {
	so := cfg.Selection
	kept, d := selection.Filter(cands, so)
	for _, x := range d {
		*dropped = append(*dropped, scorecard.Dropped{Variable: x.Variable, Reason: x.Reason})
	}
	if len(kept) == 0 {
		return nil, noneKept(names, *dropped)
	}
	cols := make([]*binning.Column, len(kept))
	for j, c := range kept {
		cols[j] = tr.cols[c.Name]
	}
	bm, err := fitBoosted(ctx, cols, tr.y, cfg.Binning, cfg.Boost, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("train: boosted: %w", err)
	}
	// A characteristic no stump split is left out of the card.
	var bins []*binning.Binning
	var tables [][]float64
	for j, t := range bm.tables {
		flat := true
		for _, v := range t {
			flat = flat && math.Abs(v) < 1e-12
		}
		if flat {
			*dropped = append(*dropped, scorecard.Dropped{Variable: bm.bins[j].Variable, Reason: "boosted: no split of it improved the fit before early stopping"})
			continue
		}
		bins, tables = append(bins, bm.bins[j]), append(tables, t)
	}
	bm.bins, bm.tables = bins, tables
	if len(bm.bins) == 0 {
		return nil, noneKept(names, *dropped)
	}
	log.Info("train: boosted", "characteristics", len(bm.bins), "rounds", bm.rounds, "seconds", time.Since(phase).Seconds())
	m, err := scorecard.BuildAdditive(cfg.Name, bm.bins, bm.tables, bm.intercept, cfg.Scaling)
	if err != nil {
		return nil, err
	}
	m.Fit = scorecard.Fit{N: tr.n, Iterations: bm.rounds, L2: cfg.Boost.withDefaults().L2}
	return m, nil
}

// BoostOptions control the boosted additive card (Method "boosted").
type BoostOptions struct {
	Shrinkage float64 // learning rate per stump (default 0.1)
	L2        float64 // added to each side's hessian sum (default 1)
	MaxRounds int     // stumps (default 3000)
	Patience  int     // stumps without a better validation log-likelihood before stopping (default 50)
	ValShare  float64 // share of the train sample held out for early stopping (default 0.2)
	FineBins  int     // equal-frequency fine bins per characteristic (default 255, as histogram gradient boosting bins: LightGBM, scikit-learn)
	MinShare  float64 // minimum share of a bin (default 0.005)
}

func (o BoostOptions) withDefaults() BoostOptions {
	if o.Shrinkage <= 0 {
		o.Shrinkage = 0.1
	}
	if o.L2 <= 0 {
		o.L2 = 1
	}
	if o.MaxRounds <= 0 {
		o.MaxRounds = 3000
	}
	if o.Patience <= 0 {
		o.Patience = 50
	}
	if o.ValShare <= 0 || o.ValShare >= 1 {
		o.ValShare = 0.2
	}
	if o.FineBins <= 1 {
		o.FineBins = 255
	}
	if o.MinShare <= 0 {
		o.MinShare = 0.005
	}
	return o
}

// boosted is a fitted additive model: the log odds of bad are intercept +
// Σ_j tables[j][bin of characteristic j].
type boosted struct {
	bins      []*binning.Binning
	tables    [][]float64
	intercept float64
	rounds    int
}

// fitBoosted fits the boosted additive card by gradient boosting of
// stumps: each round takes, over every characteristic, the split of its
// ordered fine bins (equal-frequency bins on the fitting rows, then its
// special and missing bins) into a prefix and the rest with the largest
// gain G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ) (G, H the gradient and
// hessian sums of the log-likelihood), and adds the shrunk Newton step
// η·G/(H+λ) of each side to that characteristic's table; early-stopped
// on a stratified validation share of the train rows at the round with
// the best validation log-likelihood. The sum of stumps of one
// characteristic is a step function of its fine bins: the card stays a
// points table per characteristic.
func fitBoosted(ctx context.Context, cols []*binning.Column, y []float64, bo binning.Options, o BoostOptions, seed uint64) (*boosted, error) {
	o = o.withDefaults()
	all := make([]int, len(y))
	for i := range all {
		all[i] = i
	}
	fitIdx, valIdx := stratifiedSplit(all, y, o.ValShare, seed^0xb005)
	fy, vy := take(y, fitIdx), take(y, valIdx)
	fo := bo
	fo.Method, fo.MaxBins, fo.MinShare, fo.BinCount = binning.EqualFreq, o.FineBins, o.MinShare, "fixed"
	var fitCols []*binning.Column
	for _, c := range cols {
		fitCols = append(fitCols, c.Take(fitIdx))
	}
	bins, errs := binning.FitAll(ctx, fitCols, fy, fo, nil, 2)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := &boosted{}
	var fIdx, vIdx [][]int32
	for j, b := range bins {
		if errs[j] != nil || len(b.Bins) < 2 {
			continue
		}
		fi, _ := b.Index(fitCols[j])
		vi, _ := b.Index(cols[j].Take(valIdx))
		m.bins = append(m.bins, b)
		fIdx, vIdx = append(fIdx, fi), append(vIdx, vi)
		m.tables = append(m.tables, make([]float64, len(b.Bins)))
	}
	var bads float64
	for _, v := range fy {
		bads += v
	}
	m.intercept = math.Log(bads / (float64(len(fy)) - bads))
	fEta := make([]float64, len(fy))
	vEta := make([]float64, len(vy))
	for i := range fEta {
		fEta[i] = m.intercept
	}
	for i := range vEta {
		vEta[i] = m.intercept
	}
	best := loglik(vEta, vy)
	bestTables := cloneTables(m.tables)
	since := 0
	g := make([][]float64, len(m.tables))
	h := make([][]float64, len(m.tables))
	for j, t := range m.tables {
		g[j], h[j] = make([]float64, len(t)), make([]float64, len(t))
	}
	prob := make([]float64, len(fy))
	for round := 1; round <= o.MaxRounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i, e := range fEta {
			prob[i] = 1 / (1 + math.Exp(-e))
		}
		// The best stump of all characteristics: a split of one
		// characteristic's ordered fine bins into a prefix and the rest,
		// by the gain G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ).
		bj, bk, bGain := -1, 0, 0.0
		for j := range m.tables {
			clear(g[j])
			clear(h[j])
			for i, k := range fIdx[j] {
				g[j][k] += fy[i] - prob[i]
				h[j][k] += prob[i] * (1 - prob[i])
			}
			var gt, ht float64
			for k := range g[j] {
				gt += g[j][k]
				ht += h[j][k]
			}
			var gl, hl float64
			for k := 0; k+1 < len(g[j]); k++ {
				gl += g[j][k]
				hl += h[j][k]
				gr, hr := gt-gl, ht-hl
				gain := gl*gl/(hl+o.L2) + gr*gr/(hr+o.L2) - gt*gt/(ht+o.L2)
				if gain > bGain {
					bj, bk, bGain = j, k, gain
				}
			}
		}
		if bj < 0 {
			break
		}
		t := m.tables[bj]
		var gl, hl, gt, ht float64
		for k := range t {
			gt += g[bj][k]
			ht += h[bj][k]
			if k <= bk {
				gl += g[bj][k]
				hl += h[bj][k]
			}
		}
		d := make([]float64, len(t))
		for k := range t {
			if k <= bk {
				d[k] = o.Shrinkage * gl / (hl + o.L2)
			} else {
				d[k] = o.Shrinkage * (gt - gl) / (ht - hl + o.L2)
			}
			t[k] += d[k]
		}
		for i, k := range fIdx[bj] {
			fEta[i] += d[k]
		}
		for i, k := range vIdx[bj] {
			vEta[i] += d[k]
		}
		ll := loglik(vEta, vy)
		if ll > best+1e-9 {
			best, bestTables, m.rounds, since = ll, cloneTables(m.tables), round, 0
			continue
		}
		if since++; since >= o.Patience {
			break
		}
	}
	m.tables = bestTables
	// Centre each table on its fitting-row mean (the intercept takes the
	// shift): a bin's points then read as above or below the average.
	for j, t := range m.tables {
		var s float64
		for _, k := range fIdx[j] {
			s += t[k]
		}
		mean := s / float64(len(fIdx[j]))
		for k := range t {
			t[k] -= mean
		}
		m.intercept += mean
	}
	return m, nil
}

func take(y []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = y[i]
	}
	return out
}

func cloneTables(t [][]float64) [][]float64 {
	out := make([][]float64, len(t))
	for j := range t {
		out[j] = append([]float64(nil), t[j]...)
	}
	return out
}

// loglik is the Bernoulli log-likelihood of y at log odds eta.
func loglik(eta, y []float64) float64 {
	var s float64
	for i, e := range eta {
		if y[i] == 1 {
			s -= softplus(-e)
		} else {
			s -= softplus(e)
		}
	}
	return s
}

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
