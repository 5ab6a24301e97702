package report_test

import (
	"fmt"

	"qiandun/report"
)

// ROC refuses the lowest scores first: AUC is the probability that a bad
// scores below a good, KS the largest gap between the cumulative shares
// of bads and goods.
func ExampleROC() {
	obs := []report.Obs{{Score: 1, Bad: true}, {Score: 2}, {Score: 3, Bad: true}, {Score: 4}}
	_, auc, ks := report.ROC(obs)
	fmt.Printf("AUC %.2f KS %.2f\n", auc, ks)
	// Output: AUC 0.75 KS 0.50
}

// PSI compares a distribution with the development one over fixed bins:
// 0.25·ln(0.625/0.375) + 0.125·ln(2) + 0.125·ln(1.5) = 0.2650.
func ExamplePSI() {
	dev := []float64{500, 520, 540, 560, 580, 600, 620, 640}
	now := []float64{500, 505, 510, 520, 540, 560, 600, 640}
	psi, e, a := report.PSI(dev, now, []float64{550, 600})
	fmt.Printf("expected %v actual %v PSI %.4f\n", e, a, psi)
	// Output: expected [0.375 0.25 0.375] actual [0.625 0.125 0.25] PSI 0.2650
}
