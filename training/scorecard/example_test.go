package scorecard_test

import (
	"fmt"

	"qiandun/training/scorecard"
)

// The default scaling: 600 points at good:bad odds of 50:1, and every 20
// points double the odds.
func ExampleScaling() {
	s := scorecard.DefaultScaling()
	for _, score := range []float64{560, 580, 600, 620} {
		pd := s.PD(score)
		fmt.Printf("score %.0f: PD %.4f, good:bad %.1f:1\n", score, pd, (1-pd)/pd)
	}
	// Output:
	// score 560: PD 0.0741, good:bad 12.5:1
	// score 580: PD 0.0385, good:bad 25.0:1
	// score 600: PD 0.0196, good:bad 50.0:1
	// score 620: PD 0.0099, good:bad 100.0:1
}
