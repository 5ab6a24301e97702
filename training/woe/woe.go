// Package woe computes weight of evidence (WoE) and information value (IV)
// of binned characteristics, as defined in DESIGN.md:
//
//	WoE_i = ln( (bad_i / bad_total) / (good_i / good_total) )   (positive = riskier)
//	IV    = Σ_i (bad_i/bad_total − good_i/good_total) · WoE_i
//
// A bin with zero goods or zero bads has an infinite WoE. Such a bin is
// smoothed: 0.5 is added to both its good and its bad count (the totals
// are left unchanged) before its WoE and IV term are computed, and the
// bin is flagged Smoothed so reports can show it.
package woe

import (
	"fmt"
	"math"
)

// Smoothing is the pseudo-count added to both counts of a bin that has no
// goods or no bads.
const Smoothing = 0.5

// Stat is one bin's counts and evidence.
type Stat struct {
	Count    int64   // rows in the bin
	Good     int64   // good rows
	Bad      int64   // bad rows
	BadRate  float64 // Bad / Count (NaN for an empty bin)
	WoE      float64 // weight of evidence, positive = riskier
	IV       float64 // the bin's IV term
	Smoothed bool    // counts were smoothed because Good or Bad was zero
}

// Compute returns the statistics of every bin and the total IV, given each
// bin's good and bad counts. Both totals must be positive.
func Compute(good, bad []int64) ([]Stat, float64, error) {
	if len(good) != len(bad) {
		return nil, 0, fmt.Errorf("woe: %d good counts but %d bad counts", len(good), len(bad))
	}
	var gt, bt int64
	for i := range good {
		if good[i] < 0 || bad[i] < 0 {
			return nil, 0, fmt.Errorf("woe: bin %d has a negative count", i)
		}
		gt += good[i]
		bt += bad[i]
	}
	if gt == 0 || bt == 0 {
		return nil, 0, fmt.Errorf("woe: need both goods and bads (goods %d, bads %d)", gt, bt)
	}
	out := make([]Stat, len(good))
	total := 0.0
	for i := range good {
		s := Stat{Count: good[i] + bad[i], Good: good[i], Bad: bad[i], BadRate: math.NaN()}
		if s.Count > 0 {
			s.BadRate = float64(s.Bad) / float64(s.Count)
		}
		s.WoE, s.IV, s.Smoothed = Term(good[i], bad[i], gt, bt)
		total += s.IV
		out[i] = s
	}
	return out, total, nil
}

// Term returns the WoE and IV term of one bin with the given counts, out
// of goodTotal goods and badTotal bads, smoothing the bin as the package
// comment says when it has no goods or no bads (an empty bin gets WoE 0).
func Term(good, bad, goodTotal, badTotal int64) (woe, iv float64, smoothed bool) {
	if good == 0 && bad == 0 {
		return 0, 0, false
	}
	g, b := float64(good), float64(bad)
	if good == 0 || bad == 0 {
		g += Smoothing
		b += Smoothing
		smoothed = true
	}
	bs := b / float64(badTotal)
	gs := g / float64(goodTotal)
	woe = math.Log(bs / gs)
	return woe, (bs - gs) * woe, smoothed
}
