//go:build duckdb_arrow

package score

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// BenchmarkBinFew bins a tile of values with 5 breaks, no NULLs, with the
// card's kernel (scorecard.Lookup.BinFloats).
func BenchmarkBinFew(b *testing.B) {
	vals := make([]float64, 2048)
	for i := range vals {
		vals[i] = rand.Float64() * 100
	}
	valid := make([]byte, 256)
	for i := range valid {
		valid[i] = 0xff
	}
	l := &scorecard.Lookup{Kind: binning.Numeric, Breaks: []float64{10, 20, 30, 40, 50}, NaNBin: 5, NaNFalls: true}
	bins := make([]int32, 2048)
	for b.Loop() {
		l.BinFloats(vals, valid, 0, bins)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2048), "ns/value")
}

// BenchmarkAccumulate adds a tile's points, bin counts and reason
// priorities for one characteristic.
func BenchmarkAccumulate(b *testing.B) {
	kb := make([]int32, 2048)
	for i := range kb {
		kb[i] = int32(rand.IntN(6))
	}
	total := make([]int64, 2048)
	t0, t1, t2 := make([]int32, 2048), make([]int32, 2048), make([]int32, 2048)
	for i := range t0 {
		t0[i], t1[i], t2[i] = math.MaxInt32, math.MaxInt32, math.MaxInt32
	}
	fixed := []int64{1, 2, 3, 4, 5, 6}
	prio := []int32{1, 2, 3, noReason, 5, 6}
	cnt := make([]int64, 6)
	for b.Loop() {
		accumulate(kb, total, t0, t1, t2, fixed, prio, cnt)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2048), "ns/value")
}

// BenchmarkCatCache bins a tile of one-letter categories.
func BenchmarkCatCache(b *testing.B) {
	c := &scorecard.Characteristic{Name: "c", Kind: "categorical"}
	for g := range 4 {
		c.Bins = append(c.Bins, scorecard.Bin{Bin: binning.Bin{Label: strconv.Itoa(g), Values: []string{string(rune('A' + g)), string(rune('E' + g))}}, Points: float64(g)})
	}
	ci := &charInfo{name: "c", kind: binning.Categorical, look: c.Lookup()}
	ci.cat = map[string]catSlot{}
	for _, bb := range c.Bins {
		for _, v := range bb.Values {
			ci.cat[v] = catSlot{v: v, code: ci.look.CatCode(v, false), ok: true}
		}
	}
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	for range 2048 {
		sb.Append(string(rune('A' + rand.IntN(8))))
	}
	arr := sb.NewStringArray()
	bins := make([]int32, 2048)
	cc := newCatCache(ci)
	for b.Loop() {
		cc.bin(arr, bins)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2048), "ns/value")
}

// BenchmarkAccumulate2 is BenchmarkAccumulate two characteristics at a
// time.
func BenchmarkAccumulate2(b *testing.B) {
	ka, kb := make([]int32, 2048), make([]int32, 2048)
	for i := range kb {
		ka[i], kb[i] = int32(rand.IntN(6)), int32(rand.IntN(6))
	}
	total := make([]int64, 2048)
	t0, t1, t2 := make([]int32, 2048), make([]int32, 2048), make([]int32, 2048)
	fixed := []int64{1, 2, 3, 4, 5, 6}
	prio := []int32{1, 2, 3, noReason, 5, 6}
	ca, cb := make([]int64, 6), make([]int64, 6)
	for b.Loop() {
		accumulate2(ka, kb, total, t0, t1, t2, fixed, fixed, prio, prio, ca, cb)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*2048), "ns/value")
}
