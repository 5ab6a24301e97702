// Package arrowcol turns Arrow columns into the values binning and scoring
// work on, the one conversion training (training/frame) and scoring
// (scoring/score) share, so that a value is binned the same way in both:
//
//   - numbers (AppendFloats): every integer and floating-point type and
//     decimals of any width and scale become float64, NULL → NaN. A
//     decimal whose unscaled integer fits in 53 bits and whose scale is
//     0..18 is converted exactly (integer / 10^scale, one correctly
//     rounded division: DECIMAL(18,2) 0.1 is the float64 nearest 0.1);
//     others take the nearest float64 arrow-go gives.
//   - categories (Dict): strings (also large, view and dictionary-encoded)
//     as they are, booleans as "true"/"false", integers and floats as
//     strconv.FormatFloat(x, 'f', -1, 64) of their float64 ("3", "2.5";
//     an integer beyond 2^53 is rounded first, as training always did),
//     decimals at their scale ("5.00"), NULL → code −1.
//   - text read as numbers (AppendParsed), for a text column a caller
//     declares numeric: strconv.ParseFloat, NULL, empty or unparsable →
//     NaN.
package arrowcol

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// Numeric reports whether columns of type t are numbers: integers, floats
// and decimals. AppendFloats converts them (and the NULL type's columns,
// all NaN).
func Numeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return true
	}
	return false
}

// Text reports whether columns of type t are categorical by nature:
// strings (plain, large, view, or dictionary-encoded) and booleans.
func Text(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BOOL:
		return true
	case arrow.DICTIONARY:
		return Text(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}

// pow10 are the exact powers of ten a decimal's scale divides by.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// scaled is v / 10^scale for an unscaled integer v of at most 53 bits.
func scaled(v int64, scale int32) (float64, bool) {
	if v > -1<<53 && v < 1<<53 && scale >= 0 && int(scale) < len(pow10) {
		return float64(v) / pow10[scale], true
	}
	return 0, false
}

// Decimal128 converts an unscaled DECIMAL value at scale to float64 as
// AppendFloats does.
func Decimal128(n decimal128.Num, scale int32) float64 {
	hi, lo := n.HighBits(), n.LowBits()
	if hi == 0 && lo < 1<<53 || hi == -1 && lo > 1<<64-1<<53 {
		if f, ok := scaled(int64(lo), scale); ok {
			return f
		}
	}
	return n.ToFloat64(scale)
}

func decimal256Float(n decimal256.Num, scale int32) float64 {
	w := n.Array() // little-endian 64-bit words
	if w[1] == w[2] && w[2] == w[3] && (w[3] == 0 && w[0] < 1<<53 || w[3] == math.MaxUint64 && w[0] > 1<<64-1<<53) {
		if f, ok := scaled(int64(w[0]), scale); ok {
			return f
		}
	}
	return n.ToFloat64(scale)
}

// number is an Arrow array of a Go number type.
type number[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64] interface {
	arrow.Array
	Values() []T
}

// appendNum appends a's values as float64, NULL → NaN.
func appendNum[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](dst []float64, a number[T]) []float64 {
	vals := a.Values()
	if a.NullN() == 0 {
		for _, v := range vals {
			dst = append(dst, float64(v))
		}
		return dst
	}
	for i, v := range vals {
		dst = append(dst, nanIf(float64(v), a.IsNull(i)))
	}
	return dst
}

// appendDec appends decimals with conversion f, NULL → NaN.
func appendDec[T any](dst []float64, a interface {
	arrow.Array
	Values() []T
}, f func(T) float64) []float64 {
	for i, v := range a.Values() {
		dst = append(dst, nanIf(f(v), a.IsNull(i)))
	}
	return dst
}

// AppendFloats appends the values of a numeric column (Numeric, or of the
// NULL type) to dst as float64, NULL → NaN; other types are an error.
func AppendFloats(dst []float64, a arrow.Array) ([]float64, error) {
	switch x := a.(type) {
	case *array.Float64:
		return appendNum(dst, x), nil
	case *array.Int64:
		return appendNum(dst, x), nil
	case *array.Int32:
		return appendNum(dst, x), nil
	case *array.Int16:
		return appendNum(dst, x), nil
	case *array.Int8:
		return appendNum(dst, x), nil
	case *array.Uint64:
		return appendNum(dst, x), nil
	case *array.Uint32:
		return appendNum(dst, x), nil
	case *array.Uint16:
		return appendNum(dst, x), nil
	case *array.Uint8:
		return appendNum(dst, x), nil
	case *array.Float32:
		return appendNum(dst, x), nil
	case *array.Float16:
		for i, v := range x.Values() {
			dst = append(dst, nanIf(float64(v.Float32()), x.IsNull(i)))
		}
		return dst, nil
	case *array.Decimal32:
		s := x.DataType().(arrow.DecimalType).GetScale()
		return appendDec(dst, x, func(n decimal.Decimal32) float64 {
			if f, ok := scaled(int64(n), s); ok {
				return f
			}
			return n.ToFloat64(s)
		}), nil
	case *array.Decimal64:
		s := x.DataType().(arrow.DecimalType).GetScale()
		return appendDec(dst, x, func(n decimal.Decimal64) float64 {
			if f, ok := scaled(int64(n), s); ok {
				return f
			}
			return n.ToFloat64(s)
		}), nil
	case *array.Decimal128:
		s := x.DataType().(arrow.DecimalType).GetScale()
		return appendDec(dst, x, func(n decimal128.Num) float64 { return Decimal128(n, s) }), nil
	case *array.Decimal256:
		s := x.DataType().(arrow.DecimalType).GetScale()
		return appendDec(dst, x, func(n decimal256.Num) float64 { return decimal256Float(n, s) }), nil
	case *array.Null:
		for range x.Len() {
			dst = append(dst, math.NaN())
		}
		return dst, nil
	}
	return dst, fmt.Errorf("a %s column is not numeric", a.DataType())
}

// AppendParsed appends the values of any column read as text and parsed
// as numbers (strconv.ParseFloat), NULL, empty or unparsable → NaN.
func AppendParsed(dst []float64, a arrow.Array) []float64 {
	d := Dict{}
	d.Append(a)
	vals := make([]float64, len(d.Values))
	for k, s := range d.Values {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			v = math.NaN()
		}
		vals[k] = v
	}
	for _, c := range d.Codes {
		if c < 0 {
			dst = append(dst, math.NaN())
		} else {
			dst = append(dst, vals[c])
		}
	}
	return dst
}

func nanIf(v float64, null bool) float64 {
	if null {
		return math.NaN()
	}
	return v
}

// Dict is a categorical column: Codes index Values, −1 for NULL. Append
// extends it batch by batch; Values are distinct, in order of first
// appearance, and copied (they do not alias Arrow buffers).
type Dict struct {
	Codes  []int32
	Values []string
	index  map[string]int32
}

// code returns the code of s, adding it to Values if new.
func (d *Dict) code(s string) int32 {
	if d.index == nil {
		d.index = map[string]int32{}
	}
	k, ok := d.index[s]
	if !ok {
		s = strings.Clone(s) // Arrow strings alias the batch's buffers
		k = int32(len(d.Values))
		d.index[s] = k
		d.Values = append(d.Values, s)
	}
	return k
}

// Append appends the values of a as categories (see the package comment);
// a type with no conversion of its own (a date, say) is taken as its
// arrow-go text (ValueStr).
func (d *Dict) Append(a arrow.Array) {
	n := a.Len()
	if x, ok := a.(*array.Dictionary); ok {
		// Each dictionary entry once, then the indices.
		var sub Dict
		sub.index = d.index
		sub.Values = d.Values
		sub.Append(x.Dictionary())
		d.index, d.Values = sub.index, sub.Values
		for i := range n {
			if x.IsNull(i) || sub.Codes[x.GetValueIndex(i)] < 0 {
				d.Codes = append(d.Codes, -1)
			} else {
				d.Codes = append(d.Codes, sub.Codes[x.GetValueIndex(i)])
			}
		}
		return
	}
	text := textOf(a)
	allNull := a.DataType().ID() == arrow.NULL // no bitmap: IsNull is false
	for i := range n {
		if allNull || a.IsNull(i) {
			d.Codes = append(d.Codes, -1)
		} else {
			d.Codes = append(d.Codes, d.code(text(i)))
		}
	}
}

// textOf returns the category text of value i of a (not NULL).
func textOf(a arrow.Array) func(i int) string {
	num := func(f func(i int) float64) func(int) string {
		return func(i int) string { return strconv.FormatFloat(f(i), 'f', -1, 64) }
	}
	switch x := a.(type) {
	case interface{ Value(int) string }: // String, LargeString, StringView
		return x.Value
	case *array.Boolean:
		return func(i int) string { return strconv.FormatBool(x.Value(i)) }
	case *array.Decimal32:
		s := x.DataType().(arrow.DecimalType).GetScale()
		return func(i int) string { return x.Value(i).ToString(s) }
	case *array.Decimal64:
		s := x.DataType().(arrow.DecimalType).GetScale()
		return func(i int) string { return x.Value(i).ToString(s) }
	case *array.Decimal128:
		s := x.DataType().(arrow.DecimalType).GetScale()
		return func(i int) string { return x.Value(i).ToString(s) }
	case *array.Decimal256:
		s := x.DataType().(arrow.DecimalType).GetScale()
		return func(i int) string { return x.Value(i).ToString(s) }
	}
	if Numeric(a.DataType()) || a.DataType().ID() == arrow.NULL {
		vals, _ := AppendFloats(nil, a)
		return num(func(i int) float64 { return vals[i] })
	}
	return a.ValueStr
}
