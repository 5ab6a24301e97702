package arrowcol_test

import (
	"math"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/internal/arrowcol"
)

var nan = math.NaN()

// build returns an array of type t from values (nil → NULL), through
// arrow-go's own builders.
func build(t *testing.T, typ arrow.DataType, vals ...any) arrow.Array {
	t.Helper()
	b := array.NewBuilder(memory.DefaultAllocator, typ)
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch bb := b.(type) {
		case *array.Int8Builder:
			bb.Append(int8(v.(int)))
		case *array.Int16Builder:
			bb.Append(int16(v.(int)))
		case *array.Int32Builder:
			bb.Append(int32(v.(int)))
		case *array.Int64Builder:
			bb.Append(int64(v.(int)))
		case *array.Uint8Builder:
			bb.Append(uint8(v.(int)))
		case *array.Uint16Builder:
			bb.Append(uint16(v.(int)))
		case *array.Uint32Builder:
			bb.Append(uint32(v.(int)))
		case *array.Uint64Builder:
			bb.Append(uint64(v.(int)))
		case *array.Float16Builder:
			bb.Append(float16.New(float32(v.(float64))))
		case *array.Float32Builder:
			bb.Append(float32(v.(float64)))
		case *array.Float64Builder:
			bb.Append(v.(float64))
		case *array.Decimal32Builder:
			bb.Append(decimal.Decimal32(v.(int)))
		case *array.Decimal64Builder:
			bb.Append(decimal.Decimal64(v.(int)))
		case *array.Decimal128Builder:
			bb.Append(decimal128.FromI64(int64(v.(int))))
		case *array.Decimal256Builder:
			bb.Append(decimal256.FromI64(int64(v.(int))))
		case *array.Date32Builder:
			bb.Append(arrow.Date32(v.(int)))
		case *array.BooleanBuilder:
			bb.Append(v.(bool))
		case *array.BinaryDictionaryBuilder:
			if err := bb.AppendString(v.(string)); err != nil {
				t.Fatal(err)
			}
		case interface{ Append(string) }: // String, LargeString, StringView
			bb.Append(v.(string))
		default:
			t.Fatalf("no builder for %s", typ)
		}
	}
	return b.NewArray()
}

func TestConvert(t *testing.T) {
	strDict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	tests := []struct {
		name  string
		typ   arrow.DataType
		vals  []any
		num   []float64 // AppendFloats; nil: not numeric, an error
		text  []string  // Dict values by row, "<NULL>" for NULL
		isTxt bool      // Text(typ)
	}{
		{"int8", arrow.PrimitiveTypes.Int8, []any{-128, nil, 127}, []float64{-128, nan, 127}, []string{"-128", "<NULL>", "127"}, false},
		{"int16", arrow.PrimitiveTypes.Int16, []any{-3, 0, nil}, []float64{-3, 0, nan}, []string{"-3", "0", "<NULL>"}, false},
		{"int32", arrow.PrimitiveTypes.Int32, []any{7, nil, 7}, []float64{7, nan, 7}, []string{"7", "<NULL>", "7"}, false},
		{"int64", arrow.PrimitiveTypes.Int64, []any{1 << 40, -5}, []float64{1 << 40, -5}, []string{"1099511627776", "-5"}, false},
		{"uint8", arrow.PrimitiveTypes.Uint8, []any{255, nil}, []float64{255, nan}, []string{"255", "<NULL>"}, false},
		{"uint16", arrow.PrimitiveTypes.Uint16, []any{65535}, []float64{65535}, []string{"65535"}, false},
		{"uint32", arrow.PrimitiveTypes.Uint32, []any{nil, 4000000000}, []float64{nan, 4e9}, []string{"<NULL>", "4000000000"}, false},
		{"uint64", arrow.PrimitiveTypes.Uint64, []any{1 << 62}, []float64{1 << 62}, []string{"4611686018427388000"}, false}, // as a float64, shortest text
		{"float16", arrow.FixedWidthTypes.Float16, []any{0.5, nil}, []float64{0.5, nan}, []string{"0.5", "<NULL>"}, false},
		{"float32", arrow.PrimitiveTypes.Float32, []any{2.5, nil, -0.25}, []float64{2.5, nan, -0.25}, []string{"2.5", "<NULL>", "-0.25"}, false},
		{"float64", arrow.PrimitiveTypes.Float64, []any{0.1, nil, 3.0, math.Inf(1)}, []float64{0.1, nan, 3, math.Inf(1)}, []string{"0.1", "<NULL>", "3", "+Inf"}, false},
		// Decimals: unscaled integer / 10^scale, the float64 nearest the
		// decimal value (0.1, not 1 * 0.1).
		{"decimal32(9,2)", &arrow.Decimal32Type{Precision: 9, Scale: 2}, []any{10, nil, -12345}, []float64{0.1, nan, -123.45}, []string{"0.10", "<NULL>", "-123.45"}, false},
		{"decimal64(18,2)", &arrow.Decimal64Type{Precision: 18, Scale: 2}, []any{30, 500}, []float64{0.3, 5}, []string{"0.30", "5.00"}, false},
		{"decimal128(18,2)", &arrow.Decimal128Type{Precision: 18, Scale: 2}, []any{nil, 1, -1, 999999999999999999}, []float64{nan, 0.01, -0.01, 9999999999999999.99}, []string{"<NULL>", "0.01", "-0.01", "9999999999999999.99"}, false},
		{"decimal128(38,0)", &arrow.Decimal128Type{Precision: 38, Scale: 0}, []any{42}, []float64{42}, []string{"42"}, false},
		{"decimal128(38,10)", &arrow.Decimal128Type{Precision: 38, Scale: 10}, []any{12345678901}, []float64{1.2345678901}, []string{"1.2345678901"}, false},
		{"decimal128(38,20) scale beyond 10^18", &arrow.Decimal128Type{Precision: 38, Scale: 20}, []any{5}, []float64{5e-20}, []string{"0.00000000000000000005"}, false},
		{"decimal256(40,3)", &arrow.Decimal256Type{Precision: 40, Scale: 3}, []any{-7, nil}, []float64{-0.007, nan}, []string{"-0.007", "<NULL>"}, false},
		{"string", arrow.BinaryTypes.String, []any{"b", nil, "a", "b", ""}, nil, []string{"b", "<NULL>", "a", "b", ""}, true},
		{"large string", arrow.BinaryTypes.LargeString, []any{"x", nil}, nil, []string{"x", "<NULL>"}, true},
		{"string view", arrow.BinaryTypes.StringView, []any{"a value longer than twelve bytes", "v"}, nil, []string{"a value longer than twelve bytes", "v"}, true},
		{"dictionary", strDict, []any{"hi", "lo", nil, "hi"}, nil, []string{"hi", "lo", "<NULL>", "hi"}, true},
		{"bool", arrow.FixedWidthTypes.Boolean, []any{true, nil, false}, nil, []string{"true", "<NULL>", "false"}, true},
		{"null", arrow.Null, []any{nil, nil}, []float64{nan, nan}, []string{"<NULL>", "<NULL>"}, false},
		{"date (as text)", arrow.FixedWidthTypes.Date32, []any{1, nil}, nil, []string{"1970-01-02", "<NULL>"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := build(t, tc.typ, tc.vals...)
			defer a.Release()
			if got := arrowcol.Numeric(tc.typ); got != (tc.num != nil && tc.name != "null") {
				t.Errorf("Numeric = %v", got)
			}
			if got := arrowcol.Text(tc.typ); got != tc.isTxt {
				t.Errorf("Text = %v, want %v", got, tc.isTxt)
			}
			prefix := []float64{-1}
			got, err := arrowcol.AppendFloats(prefix, a)
			switch {
			case tc.num == nil && tc.name != "null":
				if err == nil {
					t.Errorf("AppendFloats of %s: no error", tc.typ)
				}
			case err != nil:
				t.Fatal(err)
			case !sameFloats(got, append([]float64{-1}, tc.num...)):
				t.Errorf("AppendFloats = %v, want -1 then %v", got, tc.num)
			}
			var d arrowcol.Dict
			d.Append(a)
			d.Append(a) // a second batch: same values, same codes
			if len(d.Codes) != 2*len(tc.text) {
				t.Fatalf("%d codes for 2×%d rows", len(d.Codes), len(tc.text))
			}
			var rows []string
			for _, c := range d.Codes {
				if c < 0 {
					rows = append(rows, "<NULL>")
				} else {
					rows = append(rows, d.Values[c])
				}
			}
			if !slices.Equal(rows, append(slices.Clone(tc.text), tc.text...)) {
				t.Errorf("Dict rows = %q, want %q twice", rows, tc.text)
			}
			seen := map[string]bool{}
			for _, v := range d.Values {
				if seen[v] {
					t.Errorf("value %q twice in Dict.Values %q", v, d.Values)
				}
				seen[v] = true
			}
		})
	}
}

// TestAppendParsed: text read as numbers, unparsable and NULL → NaN.
func TestAppendParsed(t *testing.T) {
	a := build(t, arrow.BinaryTypes.String, "1.5", nil, "", "x", "-2", "1.5")
	defer a.Release()
	got := arrowcol.AppendParsed(nil, a)
	if want := []float64{1.5, nan, nan, nan, -2, 1.5}; !sameFloats(got, want) {
		t.Errorf("AppendParsed = %v, want %v", got, want)
	}
}

// TestDecimalExact: every DECIMAL(18,2) cent value of 53 bits converts to
// the float64 nearest it, as strconv.ParseFloat of its text does (the
// property a model's breaks, learned on decimals, rely on).
func TestDecimalExact(t *testing.T) {
	for _, v := range []int64{1, 7, 10, 29, 99, 101, 123456789, 1<<53 - 1, -(1<<53 - 1), -33} {
		n := decimal128.FromI64(v)
		want, err := strconv2Float(n.ToString(2))
		if err != nil {
			t.Fatal(err)
		}
		if got := arrowcol.Decimal128(n, 2); got != want {
			t.Errorf("Decimal128(%d, 2) = %v, want %v", v, got, want)
		}
	}
}

func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || x != x && y != y })
}
