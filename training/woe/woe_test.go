package woe_test

import (
	"fmt"
	"math"
	"testing"

	"qiandun/training/woe"
)

func TestCompute(t *testing.T) {
	tests := []struct {
		name      string
		good, bad []int64
		woe       []float64
		smoothed  []bool
	}{
		// hand-computed: totals 100 goods, 50 bads
		{"plain", []int64{60, 40}, []int64{20, 30},
			[]float64{math.Log((20.0 / 50) / (60.0 / 100)), math.Log((30.0 / 50) / (40.0 / 100))}, []bool{false, false}},
		// zero bads: 0.5 added to both counts of that bin only
		{"zero bads smoothed", []int64{10, 90}, []int64{0, 50},
			[]float64{math.Log((0.5 / 50) / (10.5 / 100)), math.Log((50.0 / 50) / (90.0 / 100))}, []bool{true, false}},
		{"zero goods smoothed", []int64{0, 100}, []int64{5, 45},
			[]float64{math.Log((5.5 / 50) / (0.5 / 100)), math.Log((45.0 / 50) / (100.0 / 100))}, []bool{true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, iv, err := woe.Compute(tc.good, tc.bad)
			if err != nil {
				t.Fatal(err)
			}
			gt, bt := 0.0, 0.0
			for i := range tc.good {
				gt += float64(tc.good[i])
				bt += float64(tc.bad[i])
			}
			sum := 0.0
			for i, s := range st {
				if math.Abs(s.WoE-tc.woe[i]) > 1e-12 || s.Smoothed != tc.smoothed[i] {
					t.Errorf("bin %d: woe %v smoothed %v, want %v %v", i, s.WoE, s.Smoothed, tc.woe[i], tc.smoothed[i])
				}
				if s.IV < 0 {
					t.Errorf("bin %d: negative IV term %v", i, s.IV)
				}
				sum += s.IV
			}
			if math.Abs(sum-iv) > 1e-15 {
				t.Errorf("IV %v is not the sum of bin terms %v", iv, sum)
			}
		})
	}
}

func TestComputeErrors(t *testing.T) {
	for _, tc := range []struct{ good, bad []int64 }{
		{[]int64{1, 2}, []int64{0, 0}},
		{[]int64{0, 0}, []int64{1, 2}},
		{[]int64{1}, []int64{1, 2}},
		{[]int64{-1, 3}, []int64{1, 2}},
	} {
		if _, _, err := woe.Compute(tc.good, tc.bad); err == nil {
			t.Errorf("Compute(%v, %v): no error", tc.good, tc.bad)
		}
	}
}

func ExampleCompute() {
	st, iv, _ := woe.Compute([]int64{60, 40}, []int64{20, 30})
	for _, s := range st {
		fmt.Printf("count %d bad rate %.2f woe %+.4f\n", s.Count, s.BadRate, s.WoE)
	}
	fmt.Printf("IV %.4f\n", iv)
	// Output:
	// count 80 bad rate 0.25 woe -0.4055
	// count 70 bad rate 0.43 woe +0.4055
	// IV 0.1622
}
