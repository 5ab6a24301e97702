package gen_test

import (
	"fmt"

	"qiandun/data/gen"
)

// A 12,000.00 loan at 12% a year over three months, three ways. The level
// payment is 12000 x 0.01 / (1 - 1.01^-3) = 4080.27; the last installment
// takes the rounding residue.
func ExampleSchedule() {
	issue := gen.Day(2021, 1, 31)
	for _, m := range []struct {
		name   string
		method int
	}{{"equal_installment", gen.EqualInstallment}, {"equal_principal", gen.EqualPrincipal}, {"interest_first", gen.InterestFirst}} {
		fmt.Println(m.name)
		for i, in := range gen.Schedule(m.method, 1200000, 120000, 3, issue) {
			fmt.Printf("  %d %s principal %d.%02d interest %d.%02d\n", i+1, gen.FormatDay(in.Due),
				in.Principal/100, in.Principal%100, in.Interest/100, in.Interest%100)
		}
	}
	// Output:
	// equal_installment
	//   1 2021-02-28 principal 3960.27 interest 120.00
	//   2 2021-03-31 principal 3999.87 interest 80.40
	//   3 2021-04-30 principal 4039.86 interest 40.40
	// equal_principal
	//   1 2021-02-28 principal 4000.00 interest 120.00
	//   2 2021-03-31 principal 4000.00 interest 80.00
	//   3 2021-04-30 principal 4000.00 interest 40.00
	// interest_first
	//   1 2021-02-28 principal 0.00 interest 120.00
	//   2 2021-03-31 principal 0.00 interest 120.00
	//   3 2021-04-30 principal 12000.00 interest 120.00
}
