//go:build duckdb_arrow

package score

import (
	"math"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// TestNullImprobable: an all-NULL batch is refused exactly when p^n, its
// chance under the training missing share p, is below nullChance.
func TestNullImprobable(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		n    int64
		want bool
	}{
		{0, 1, true},       // never missing in training: one NULL row is already a lost column
		{0.9, 10, false},   // 0.35
		{0.82, 20, false},  // 0.019: a 20-application window of a mostly unsecured book
		{0.82, 183, true},  // 1.7e-16
		{0.95, 183, false}, // 8.4e-5
		{0.5, 19, false},   // 1.9e-6
		{0.5, 20, true},    // 9.5e-7
		{1, 1e9, false},    // always missing in training
	} {
		if got := nullImprobable(tc.p, tc.n); got != tc.want {
			t.Errorf("p=%v n=%d: %v, want %v (p^n = %.2g)", tc.p, tc.n, got, tc.want, math.Pow(tc.p, float64(tc.n)))
		}
	}
}

// TestMissingShare: the missing bin's count over all bins'; unknown when
// the card has no counts.
func TestMissingShare(t *testing.T) {
	bin := func(count int64, missing bool) scorecard.Bin {
		return scorecard.Bin{Bin: binning.Bin{Count: count, Missing: missing}}
	}
	for _, tc := range []struct {
		name      string
		bins      []scorecard.Bin
		share     float64
		wantKnown bool
	}{
		{"missing bin", []scorecard.Bin{bin(30, false), bin(50, false), bin(20, true)}, 0.2, true},
		{"no missing bin", []scorecard.Bin{bin(30, false), bin(70, false)}, 0, true},
		{"empty missing bin", []scorecard.Bin{bin(30, false), bin(0, true)}, 0, true},
		{"no counts", []scorecard.Bin{bin(0, false), bin(0, true)}, 0, false},
	} {
		share, known := missingShare(scorecard.Characteristic{Name: "x", Bins: tc.bins})
		if known != tc.wantKnown || math.Abs(share-tc.share) > 1e-12 {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, share, known, tc.share, tc.wantKnown)
		}
	}
}
