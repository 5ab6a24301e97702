package bureau_test

import (
	"fmt"

	"qiandun/reporting/bureau"
)

// The repayment-status code of an open account from its DPD at the month
// end: N when current, * when current with nothing due in the month, then
// one code per 30 days overdue up to 7 (over 180).
func ExampleRpyStatusForDPD() {
	for _, dpd := range []int{0, 1, 30, 31, 90, 91, 180, 181, 400} {
		fmt.Print(bureau.RpyStatusForDPD(dpd, 100), " ")
	}
	fmt.Println(bureau.RpyStatusForDPD(0, 0))
	// Output: N 1 1 2 3 4 6 7 7 *
}
