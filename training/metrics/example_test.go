package metrics_test

import (
	"fmt"

	"qiandun/training/metrics"
)

// ROC refuses the riskiest scores first; AUC is the probability that a bad
// scores above a good, KS the largest gap between the shares of bads and
// goods refused.
func ExampleROC() {
	risk := []float64{4, 3, 2, 1}
	bad := []float64{1, 0, 1, 0}
	pts, _ := metrics.ROC(risk, bad)
	s, _ := metrics.Summarize(risk, bad)
	fmt.Printf("%d points, AUC %.2f KS %.2f\n", len(pts), s.AUC, s.KS)
	// Output: 5 points, AUC 0.75 KS 0.50
}

// PSI compares a distribution with the development one over its bands:
// 0.25·ln(0.625/0.375) + 0.125·ln(2) + 0.125·ln(1.5) = 0.2650.
func ExamplePSIOfShares() {
	dev := []float64{500, 520, 540, 560, 580, 600, 620, 640}
	now := []float64{500, 505, 510, 520, 540, 560, 600, 640}
	cuts := []float64{550, 600}
	e, a := metrics.Shares(dev, cuts), metrics.Shares(now, cuts)
	psi, _ := metrics.PSIOfShares(e, a)
	fmt.Printf("expected %v actual %v PSI %.4f\n", e, a, psi)
	// Output: expected [0.375 0.25 0.375] actual [0.625 0.125 0.25] PSI 0.2650
}
