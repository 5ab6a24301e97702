package arrowcol_test

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/internal/arrowcol"
)

func strconv2Float(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

// A DECIMAL(18,2) money column becomes numbers for binning, and the same
// column read as a category becomes its text at its scale.
func Example() {
	b := array.NewDecimal128Builder(memory.DefaultAllocator, &arrow.Decimal128Type{Precision: 18, Scale: 2})
	b.Append(decimal128.FromI64(1050)) // 10.50
	b.AppendNull()
	b.Append(decimal128.FromI64(10)) // 0.10
	a := b.NewArray()
	defer a.Release()

	num, err := arrowcol.AppendFloats(nil, a)
	fmt.Println(num, err)

	var d arrowcol.Dict
	d.Append(a)
	fmt.Println(d.Codes, d.Values)
	// Output:
	// [10.5 NaN 0.1] <nil>
	// [0 -1 1] [10.50 0.10]
}
