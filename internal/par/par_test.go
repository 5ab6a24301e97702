package par_test

import (
	"fmt"
	"sync"
	"testing"

	"qiandun/internal/par"
)

// Sum each half on its own, then add the halves in order.
func ExampleHalves() {
	xs := []float64{1, 2, 3, 4, 5}
	var part [2]float64
	par.Halves(len(xs), func(lo, hi int) {
		w := 0
		if lo > 0 {
			w = 1
		}
		for _, x := range xs[lo:hi] {
			part[w] += x
		}
	})
	fmt.Println(part[0], part[1], part[0]+part[1])
	// Output: 3 12 15
}

// TestHalves: every index is visited once, in two calls at most, split
// at n/2.
func TestHalves(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 10, 1001} {
		seen := make([]int, n)
		var mu sync.Mutex
		var calls [][2]int
		par.Halves(n, func(lo, hi int) {
			mu.Lock()
			calls = append(calls, [2]int{lo, hi})
			mu.Unlock()
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, c)
			}
		}
		want := 2
		if n < 2 {
			want = 1
		}
		if len(calls) != want {
			t.Fatalf("n=%d: %d calls %v, want %d", n, len(calls), calls, want)
		}
		for _, c := range calls {
			if n >= 2 && c != [2]int{0, n / 2} && c != [2]int{n / 2, n} {
				t.Errorf("n=%d: call %v, want the halves at %d", n, c, n/2)
			}
		}
	}
}
