package binning

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortFloats(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 5, 255, 256, 1000, 100000} {
		x := make([]float64, n)
		for i := range x {
			switch i % 5 {
			case 0:
				x[i] = r.NormFloat64() * 1e6
			case 1:
				x[i] = float64(r.IntN(10)) - 5
			case 2:
				x[i] = math.Inf(1 - 2*(i/5%2))
			case 3:
				x[i] = math.Copysign(0, -1)
			default:
				x[i] = r.Float64() * 1e-300
			}
		}
		want := slices.Clone(x)
		slices.Sort(want)
		sortFloats(x)
		for i := range x {
			if x[i] != want[i] {
				t.Fatalf("n=%d: x[%d] = %v, want %v", n, i, x[i], want[i])
			}
		}
	}
}
