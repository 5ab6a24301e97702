package report_test

import (
	"fmt"

	"qiandun/report"
)

// Histogram gives the shares of goods and bads in equal-width score bins
// over the range of all rows (the score-distribution chart's data).
func ExampleHistogram() {
	obs := []report.Obs{{Score: 500, Bad: true}, {Score: 520, Bad: true}, {Score: 580}, {Score: 600}}
	mid, good, bad := report.Histogram(obs, 2)
	fmt.Println(mid, good, bad)
	// Output: [525 575] [0 1] [1 0]
}
