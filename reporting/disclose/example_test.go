package disclose_test

import (
	"fmt"

	"qiandun/reporting/disclose"
)

// A borrower as a project page shows them: the family name, the first 3
// and last 4 characters of the ID number and of the phone.
func ExampleMaskName() {
	fmt.Println(disclose.MaskName("张三丰"), disclose.MaskID("11010519491231002X"), disclose.MaskPhone("13812345678"))
	// Output: 张** 110***********002X 138****5678
}
