package repair_test

import (
	"fmt"

	"qiandun/collection/repair"
)

// A loan with six candidates, one of which reaches the borrower: a random
// order puts it in the top 3 half the time, which is the baseline the
// back-test compares the ranking with.
func ExampleRandomHit() {
	fmt.Printf("%.2f\n", repair.RandomHit(6, 1, 3))
	fmt.Printf("%.2f\n", repair.RandomHit(6, 1, 1))
	// Output:
	// 0.50
	// 0.17
}

// The default weights: a phone the borrower gave after losing contact
// first, bureau activity (no phone) last.
func ExampleDefaultConfig() {
	c := repair.DefaultConfig()
	fmt.Println(c.OwnAfterLoss, c.Device, c.Own, c.IP, c.Bureau, c.HalfLifeDays, c.Top)
	// Output: 1 0.6 0.4 0.2 0.1 180 3
}
