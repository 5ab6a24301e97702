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

// TestNumericAtomsNaive: the atoms (distinct regular values ascending,
// goods and bads each) and the missing and special counts equal a
// map-based count, on columns with ties, −0 and +0, NaN and specials,
// short (under the radix threshold) and long.
func TestNumericAtomsNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	specials := []float64{-1, 999}
	for _, n := range []int{0, 1, 7, 300, 20000} {
		x, y := make([]float64, n), make([]float64, n)
		for i := range x {
			switch r.IntN(8) {
			case 0:
				x[i] = math.NaN()
			case 1:
				x[i] = specials[r.IntN(2)]
			case 2:
				x[i] = math.Copysign(0, float64(r.IntN(2))-0.5)
			case 3:
				x[i] = float64(r.IntN(20)) - 10
			default:
				x[i] = math.Round(r.NormFloat64()*1e4) / 100
			}
			y[i] = float64(r.IntN(3) / 2)
		}
		type gb struct{ g, b int64 }
		want := map[float64]*gb{}
		var wantMiss [2]int64
		wantSpec := make([][2]int64, len(specials))
		for i, v := range x {
			c := int(y[i])
			switch {
			case math.IsNaN(v):
				wantMiss[c]++
			case slices.Contains(specials, v):
				wantSpec[slices.Index(specials, v)][c]++
			default:
				if want[v] == nil {
					want[v] = &gb{}
				}
				if c == 1 {
					want[v].b++
				} else {
					want[v].g++
				}
			}
		}
		atoms, miss, spec := numericAtoms(x, y, specials)
		if miss != wantMiss || !slices.Equal(spec, wantSpec) || len(atoms) != len(want) {
			t.Fatalf("n=%d: miss %v want %v, spec %v want %v, %d atoms want %d", n, miss, wantMiss, spec, wantSpec, len(atoms), len(want))
		}
		for k, a := range atoms {
			w := want[a.x]
			if w == nil || a.good != w.g || a.bad != w.b || a.count != w.g+w.b || k > 0 && !(atoms[k-1].x < a.x) || math.Signbit(a.x) && a.x == 0 {
				t.Fatalf("n=%d: atom %d = %+v, want %+v (ascending, +0)", n, k, a, w)
			}
		}
	}
}
