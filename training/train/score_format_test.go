//go:build duckdb_arrow

package train

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"qiandun/training/scorecard"
)

// TestAppendScoreIsFormatFloat checks the integer formatting of scores
// against strconv.FormatFloat(score, 'f', 4, 64): on fixed-point scores
// (ScoreOf) of every size and sign, and on values that are not (which
// must fall back to strconv).
func TestAppendScoreIsFormatFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []float64{0, math.Copysign(0, -1), 0.00005, -0.00015, 1.23456789, math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e-300}
	for _, fx := range []int64{0, 1, -1, 9999, -9999, 10000, -10000, 5_000_000, 1 << 49, -(1 << 49), 1<<50 + 3} {
		vals = append(vals, scorecard.ScoreOf(fx))
	}
	for range 200_000 {
		fx := r.Int64N(2e10) - 1e10
		vals = append(vals, scorecard.ScoreOf(fx), r.NormFloat64()*600)
	}
	for _, v := range vals {
		want := strconv.FormatFloat(v, 'f', 4, 64)
		if got := string(appendScore(nil, v)); got != want {
			t.Fatalf("appendScore(%v) = %q, want %q", v, got, want)
		}
	}
}
