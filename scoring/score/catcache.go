// The category cache: a categorical characteristic's values to bins,
// each distinct value looked up once.

package score

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"qiandun/internal/arrowcol"
	"qiandun/training/scorecard"
)

// catCache bins the values of a categorical characteristic, remembering
// every distinct value it has seen.
type catCache struct {
	ci    *charInfo
	short [256]shortSlot // values of up to 7 bytes, by key
	slots [256]catSlot
	seen  map[string]catSlot
}

// shortSlot is the code of a value of at most 7 bytes under its key: the
// bytes, little-endian, with the length in the top byte (so no key of a
// value is ^0, the empty slot).
type shortSlot struct {
	key  uint64
	code int32
}

// catSlot is a value (a string the cache owns, not a view into an Arrow
// buffer) with its code.
type catSlot struct {
	v    string
	code int32
	ok   bool
}

func newCatCache(ci *charInfo) *catCache {
	c := &catCache{ci: ci, seen: map[string]catSlot{}}
	for i := range c.short {
		c.short[i].key = ^uint64(0)
	}
	return c
}

func slotOf(v string) int {
	if len(v) == 0 {
		return 0
	}
	return (len(v)*131 + int(v[0])*31 + int(v[len(v)-1])*7 + int(v[len(v)/2])) & 255
}

func (c *catCache) code(v string) int32 {
	sl := &c.slots[slotOf(v)]
	if sl.ok && sl.v == v {
		return sl.code
	}
	e, ok := c.ci.cat[v]
	if !ok {
		if e, ok = c.seen[v]; !ok {
			v := strings.Clone(v)
			e = catSlot{v: v, code: c.ci.look.CatCode(v, false), ok: true}
			c.seen[v] = e
		}
	}
	*sl = e // two values sharing a slot cost map lookups, not copies
	return e.code
}

func (c *catCache) bin(a arrow.Array, bins []int32) (int, error) {
	if x, ok := a.(*array.String); ok {
		return c.binStrings(x, bins), nil
	}
	col, err := catValues(c.ci.name, a)
	if err != nil {
		return 0, err
	}
	codes := make([]int32, len(col.Values))
	for d, v := range col.Values {
		codes[d] = c.code(v)
	}
	return scorecard.BinCodes(col.Codes, codes, c.ci.null, bins), nil
}

// binStrings is bin for a string array. A value of up to 7 bytes is
// looked up by its key (one 8-byte load, a mask and a multiply), others
// by their text.
func (c *catCache) binStrings(x *array.String, bins []int32) (fb int) {
	bins = bins[:x.Len()]
	offs := x.ValueOffsets()
	data := x.ValueBytes()
	base := offs[0]
	var valid []byte
	off := x.Data().Offset()
	if x.NullN() > 0 {
		valid = x.NullBitmapBytes()
	}
	for i := range bins {
		var code int32
		lo, hi := int(offs[i]-base), int(offs[i+1]-base)
		switch n := hi - lo; {
		case valid != nil && valid[(off+i)>>3]&(1<<((off+i)&7)) == 0:
			code = c.ci.null
		case n <= 7 && lo+8 <= len(data):
			key := binary.LittleEndian.Uint64(data[lo:])&(1<<(8*n)-1) | uint64(n)<<56
			sl := &c.short[(key*0x9E3779B97F4A7C15)>>56]
			if sl.key != key {
				sl.key, sl.code = key, c.code(view(data, lo, hi))
			}
			code = sl.code
		default:
			code = c.code(view(data, lo, hi))
		}
		fb += int(code>>30) & 1 // scorecard.FallbackBit
		bins[i] = code &^ scorecard.FallbackBit
	}
	return fb
}

// view is data[lo:hi] as a string, without a copy: valid while data is.
func view(data []byte, lo, hi int) string {
	if lo == hi {
		return ""
	}
	return unsafe.String(&data[lo], hi-lo)
}

// catValues reads a categorical array through the column adapter
// training uses (arrowcol): strings and booleans as they are, integers
// formatted like strconv 'f' −1, NULL as code −1. Floats and decimals, which
// the score stage does not take as categories (typeOK), are an error.
func catValues(name string, a arrow.Array) (*arrowcol.Dict, error) {
	if t := a.DataType(); !arrowcol.Text(t) && !arrow.IsInteger(t.ID()) {
		return nil, fmt.Errorf("score: characteristic %s is categorical but its column is %s", name, t)
	}
	var d arrowcol.Dict
	d.Append(a)
	return &d, nil
}
