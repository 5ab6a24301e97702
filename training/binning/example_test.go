package binning_test

import (
	"fmt"
	"math"

	"qiandun/training/binning"
)

// Bins fixed by hand: [−inf,30), [30,50), [50,inf) and a missing bin.
func ExampleApply() {
	col := &binning.Column{Name: "age", Num: []float64{22, 25, 28, 33, 41, 47, 52, 60, 64, math.NaN()}}
	y := []float64{1, 1, 0, 1, 0, 0, 0, 0, 1, 1}
	b, _ := binning.Apply(col, y, binning.Spec{Breaks: []float64{30, 50}}, binning.Options{})
	for _, bin := range b.Bins {
		fmt.Printf("%-10s n=%d bad=%d woe=%+.3f smoothed=%v\n", bin.Label, bin.Count, bin.Bad, bin.WoE, bin.Smoothed)
	}
	fmt.Printf("IV %.3f\n", b.IV)
	// Output:
	// [-inf,30)  n=3 bad=2 woe=+0.693 smoothed=false
	// [30,50)    n=3 bad=1 woe=-0.693 smoothed=false
	// [50,inf)   n=3 bad=1 woe=-0.693 smoothed=false
	// missing    n=1 bad=1 woe=+1.099 smoothed=true
	// IV 0.636
}

// The optimal search with an ascending bad rate.
func ExampleFit() {
	var x, y []float64
	for i := 0; i < 1000; i++ {
		v := float64(i % 100)
		x = append(x, v)
		// bad rate rises with x: 10% below 40, 8/30 from 40 to 70, 50% above
		r := 10
		if v >= 70 {
			r = 2
		} else if v >= 40 {
			r = 4
		}
		b := 0.0
		if i%r == 0 {
			b = 1
		}
		y = append(y, b)
	}
	col := &binning.Column{Name: "x", Num: x}
	b, _ := binning.Fit(col, y, binning.Options{Monotonic: binning.Ascending, MaxBins: 3, MinShare: 0.1})
	for _, bin := range b.Bins {
		fmt.Printf("%-9s bad rate %.2f\n", bin.Label, bin.BadRate)
	}
	// Output:
	// [-inf,40) bad rate 0.10
	// [40,70)   bad rate 0.27
	// [70,inf)  bad rate 0.50
}
