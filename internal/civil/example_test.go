package civil_test

import (
	"fmt"

	"qiandun/internal/civil"
)

func Example() {
	n := civil.Days(2024, 2, 28)
	y, m, d := civil.Date(n + 1)
	fmt.Println(n, y, m, d, civil.DaysIn(2024, 2))
	// Output: 19781 2024 2 29 29
}
