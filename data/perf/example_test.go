package perf_test

import (
	"fmt"
	"time"

	"qiandun/data/perf"
)

// The default label definitions are DESIGN.md's: A-card bad = 90+ DPD
// within 12 months on book, good = never past 30; B-card bad = 60+ DPD
// within 6 months of a month-end observation at MOB >= 3.
func ExampleDefaultConfig() {
	c := perf.DefaultConfig()
	fmt.Printf("A-card: window %d months, bad >= %d DPD, good <= %d DPD\n", c.ACard.WindowMonths, c.ACard.BadDPD, c.ACard.GoodMaxDPD)
	fmt.Printf("B-card: mob >= %d, window %d months, bad >= %d DPD\n", c.BCard.MinMOB, c.BCard.WindowMonths, c.BCard.BadDPD)
	fmt.Println("LGD defaults:", c.LGD)
	// Output:
	// A-card: window 12 months, bad >= 90 DPD, good <= 30 DPD
	// B-card: mob >= 3, window 6 months, bad >= 60 DPD
	// LGD defaults: map[car:0.45 house:0.25 none:0.9]
}

// The as-of date must be a month end: the panel has one row per loan and
// month end.
func ExampleIsMonthEnd() {
	for _, d := range []string{"2024-02-29", "2023-02-28", "2024-02-28"} {
		t, _ := time.Parse(time.DateOnly, d)
		fmt.Println(d, perf.IsMonthEnd(t))
	}
	// Output:
	// 2024-02-29 true
	// 2023-02-28 true
	// 2024-02-28 false
}
