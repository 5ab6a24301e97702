package logit_test

import (
	"context"
	"fmt"
	"math"

	"qiandun/training/logit"
)

// One binary regressor: the slope is the log odds ratio of the 2×2 table.
func ExampleFit() {
	// x=0: 10 bads, 40 goods; x=1: 30 bads, 20 goods
	var x, y []float64
	for _, c := range []struct {
		x, y float64
		n    int
	}{{0, 1, 10}, {0, 0, 40}, {1, 1, 30}, {1, 0, 20}} {
		for i := 0; i < c.n; i++ {
			x = append(x, c.x)
			y = append(y, c.y)
		}
	}
	r, err := logit.Fit(context.Background(), [][]float64{x}, y, logit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("slope %.4f (ln(30·40/(20·10)) = %.4f), se %.4f\n", r.Coef[1], math.Log(6), r.StdErr[1]) // se = √(1/10+1/40+1/30+1/20)
	fmt.Printf("AIC %.3f after %d iterations\n", r.AIC, r.Iterations)
	// Output:
	// slope 1.7918 (ln(30·40/(20·10)) = 1.7918), se 0.4564
	// AIC 121.341 after 5 iterations
}
