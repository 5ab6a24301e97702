package monitor

import (
	"math/rand/v2"
	"testing"
)

// TestAddScoresBands: a score's band is the number of cuts at or below
// it, by the branch-free count (up to 16 cuts) and the binary search
// (more), scores on the cuts included.
func TestAddScoresBands(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, ncut := range []int{1, 5, 16, 17, 40} {
		cuts := make([]float64, ncut)
		for k := range cuts {
			cuts[k] = 400 + 20*float64(k)
		}
		mo := &Monitor{cuts: cuts, bands: make([]float64, ncut+1)}
		var scores []float64
		want := make([]float64, ncut+1)
		for range 5000 {
			s := 380 + rng.Float64()*(20*float64(ncut)+40)
			if rng.IntN(5) == 0 {
				s = cuts[rng.IntN(ncut)]
			}
			scores = append(scores, s)
			k := 0
			for _, c := range cuts {
				if c <= s {
					k++
				}
			}
			want[k]++
		}
		mo.AddScores(scores)
		for k := range want {
			if mo.bands[k] != want[k] {
				t.Fatalf("%d cuts: band %d has %v rows, want %v", ncut, k, mo.bands[k], want[k])
			}
		}
		if mo.n != int64(len(scores)) {
			t.Errorf("%d cuts: n %d", ncut, mo.n)
		}
	}
}
