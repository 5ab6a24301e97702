//go:build duckdb_arrow

package score

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// TestBinNumericMatchesLookup checks the branch-free bin count against
// scorecard.Lookup.Num (a binary search, as binning does) on values at,
// between and beyond the breaks, ±0, ±Inf, NaN and NULL, for cards with
// and without a missing bin and with a special value, and on a sliced
// array (a NULL bitmap that does not start at bit 0).
func TestBinNumericMatchesLookup(t *testing.T) {
	for _, breaks := range [][]float64{
		{-2.5, 0, 0.9797252747252747, 3, 1e6},
		{-math.MaxFloat64, -1, 0, 1, 2, 3, 4, math.MaxFloat64}, // 8: the unrolled loop, full
		{0},
		{-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5}, // more than 8: the plain loop
	} {
		testBinNumeric(t, breaks)
	}
	// Every unrolled count.
	for n := 1; n <= 8; n++ {
		var breaks []float64
		for k := range n {
			breaks = append(breaks, float64(k*3-n)+0.5)
		}
		testBinNumeric(t, breaks)
	}
}

func testBinNumeric(t *testing.T, breaks []float64) {
	bins := func(missing bool, special bool) []scorecard.Bin {
		var out []scorecard.Bin
		for k := range len(breaks) + 1 {
			out = append(out, scorecard.Bin{Bin: binning.Bin{Label: "i", Interval: true}, Points: float64(k*7%5) - 2})
		}
		if special {
			out = append(out, scorecard.Bin{Bin: binning.Bin{Label: "special:-9", Specials: []float64{-9}}, Points: 4})
		}
		if missing {
			out = append(out, scorecard.Bin{Bin: binning.Bin{Label: "missing", Missing: true}, Points: 1})
		}
		return out
	}
	rng := rand.New(rand.NewPCG(3, 4))
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	defer b.Release()
	for i := range 20000 {
		switch i % 9 {
		case 0:
			b.AppendNull()
		case 1:
			b.Append(breaks[rng.IntN(len(breaks))])
		case 2:
			b.Append(math.Copysign(0, -1))
		case 3:
			b.Append([]float64{math.Inf(1), math.Inf(-1), math.NaN(), -9, math.Nextafter(3, 0), math.Nextafter(0, 1), math.MaxFloat64, -math.MaxFloat64}[rng.IntN(8)])
		default:
			b.Append(rng.NormFloat64() * 5)
		}
	}
	full := b.NewFloat64Array()
	defer full.Release()
	arr := array.NewSlice(full, 3, int64(full.Len())).(*array.Float64)
	defer arr.Release()
	for _, tc := range []struct{ missing, special bool }{{true, false}, {false, false}, {true, true}} {
		c := &scorecard.Characteristic{Name: "x", Kind: "numeric", Breaks: breaks, Bins: bins(tc.missing, tc.special)}
		c.Fallback = len(c.Bins) - 1
		ci := &charInfo{name: "x", kind: binning.Numeric, look: c.Lookup()}
		n := arr.Len()
		got := make([]int32, n)
		fb, _, err := binNumeric(ci, arr, got, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantFB := 0
		for i := range n {
			x := arr.Value(i)
			if arr.IsNull(i) {
				x = math.NaN()
			}
			k, f := ci.look.Num(x)
			if f {
				wantFB++
			}
			if got[i] != k {
				t.Fatalf("%+v: value %v: bin %d, want %d", tc, x, got[i], k)
			}
		}
		if fb != wantFB {
			t.Errorf("%+v: %d fallbacks, want %d", tc, fb, wantFB)
		}
		if !tc.missing && fb == 0 {
			t.Errorf("%+v: NULL and NaN should fall back", tc)
		}
	}
}

// TestCatCacheMatchesLookup checks the per-unit category cache against
// scorecard.Lookup.Cat on many distinct values (so that slots collide),
// unseen values, the empty string and NULL, for cards with and without a
// missing bin.
func TestCatCacheMatchesLookup(t *testing.T) {
	var known []string
	for i := range 300 {
		known = append(known, "城市"+strconv.Itoa(i*7919%1000))
	}
	for _, missing := range []bool{false, true} {
		c := &scorecard.Characteristic{Name: "city", Kind: "categorical"}
		for g := range 4 {
			var vals []string
			for i := g; i < len(known); i += 4 {
				vals = append(vals, known[i])
			}
			c.Bins = append(c.Bins, scorecard.Bin{Bin: binning.Bin{Label: strconv.Itoa(g), Values: vals}, Points: float64(g * 3)})
		}
		if missing {
			c.Bins = append(c.Bins, scorecard.Bin{Bin: binning.Bin{Label: "missing", Missing: true}, Points: 1})
		}
		c.Fallback = 0
		ci := &charInfo{name: "city", kind: binning.Categorical, look: c.Lookup()}
		ci.cat = map[string]catSlot{}
		for _, b := range c.Bins {
			for _, v := range append(append([]string{}, b.Values...), "") {
				ci.cat[v] = catSlot{v: v, code: ci.look.CatCode(v, false), ok: true}
			}
		}
		ci.null = ci.look.CatCode("", true)
		rng := rand.New(rand.NewPCG(5, 6))
		sb := array.NewStringBuilder(memory.DefaultAllocator)
		for range 30000 {
			switch r := rng.IntN(20); {
			case r == 0:
				sb.AppendNull()
			case r == 1:
				sb.Append("")
			case r == 2:
				sb.Append("unseen" + strconv.Itoa(rng.IntN(50)))
			default:
				sb.Append(known[rng.IntN(len(known))])
			}
		}
		arr := sb.NewStringArray()
		sb.Release()
		n := arr.Len()
		bins := make([]int32, n)
		fb, err := newCatCache(ci).bin(arr, bins)
		if err != nil {
			t.Fatal(err)
		}
		wantFB := 0
		for i := range n {
			k, f := ci.look.Cat(arr.Value(i), arr.IsNull(i))
			if f {
				wantFB++
			}
			if bins[i] != k {
				t.Fatalf("missing bin %v: %q (null %v): bin %d, want %d", missing, arr.Value(i), arr.IsNull(i), bins[i], k)
			}
		}
		if fb != wantFB || fb == 0 {
			t.Errorf("missing bin %v: %d fallbacks, want %d (> 0)", missing, fb, wantFB)
		}
		arr.Release()
	}
}

// TestNumValues: every numeric Arrow type reads as float64, NULL as NaN.
func TestNumValues(t *testing.T) {
	mem := memory.DefaultAllocator
	valid := []bool{true, false, true}
	arrs := map[string]arrow.Array{}
	add := func(name string, b array.Builder, app func()) {
		app()
		arrs[name] = b.NewArray()
		b.Release()
	}
	{
		b := array.NewInt8Builder(mem)
		add("int8", b, func() { b.AppendValues([]int8{1, 0, 3}, valid) })
	}
	{
		b := array.NewInt16Builder(mem)
		add("int16", b, func() { b.AppendValues([]int16{1, 0, 3}, valid) })
	}
	{
		b := array.NewInt32Builder(mem)
		add("int32", b, func() { b.AppendValues([]int32{1, 0, 3}, valid) })
	}
	{
		b := array.NewInt64Builder(mem)
		add("int64", b, func() { b.AppendValues([]int64{1, 0, 3}, valid) })
	}
	{
		b := array.NewUint8Builder(mem)
		add("uint8", b, func() { b.AppendValues([]uint8{1, 0, 3}, valid) })
	}
	{
		b := array.NewUint16Builder(mem)
		add("uint16", b, func() { b.AppendValues([]uint16{1, 0, 3}, valid) })
	}
	{
		b := array.NewUint32Builder(mem)
		add("uint32", b, func() { b.AppendValues([]uint32{1, 0, 3}, valid) })
	}
	{
		b := array.NewUint64Builder(mem)
		add("uint64", b, func() { b.AppendValues([]uint64{1, 0, 3}, valid) })
	}
	{
		b := array.NewFloat32Builder(mem)
		add("float32", b, func() { b.AppendValues([]float32{1, 0, 3}, valid) })
	}
	{
		b := array.NewFloat64Builder(mem)
		add("float64", b, func() { b.AppendValues([]float64{1, 0, 3}, valid) })
	}
	{
		b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 18, Scale: 2})
		add("decimal", b, func() {
			b.AppendValues([]decimal128.Num{decimal128.FromI64(100), {}, decimal128.FromI64(300)}, valid)
		})
	}
	for name, a := range arrs {
		got, err := numValues("x", a, []float64{-1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 4 || got[0] != -1 || got[1] != 1 || !math.IsNaN(got[2]) || got[3] != 3 {
			t.Errorf("%s: %v, want [-1 1 NaN 3]", name, got)
		}
		a.Release()
	}
	sb := array.NewStringBuilder(mem)
	sb.Append("1")
	s := sb.NewArray()
	if _, err := numValues("x", s, nil); err == nil {
		t.Error("a string column read as numeric")
	}
}
