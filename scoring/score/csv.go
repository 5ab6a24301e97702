// CSV rendering of scored rows (scores.csv).

package score

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"qiandun/internal/csvsafe"
)

// CSVHeader is the header line of scores.csv.
const CSVHeader = "entity_id,as_of,model,model_version,score,pd,grade,reason_1,reason_2,reason_3,reason_text_1,reason_text_2,reason_text_3,fraud_flags,decision\n"

// field is a piece of CSV text padded to a fixed size, so that it is
// copied with one fixed-size move rather than a call to memmove (a row has
// nine pieces; the calls cost more than the bytes). Longer text is kept
// whole in s.
type field struct {
	b [fieldBytes]byte
	n int
	s string
}

const fieldBytes = 48

func newField(s string) field {
	f := field{n: len(s), s: s}
	copy(f.b[:], s)
	return f
}

// put writes f at buf[at:] (buf has fieldBytes of room past the text)
// and returns the position after it.
func (f *field) put(buf []byte, at int) int {
	if f.n <= fieldBytes {
		*(*[fieldBytes]byte)(buf[at : at+fieldBytes]) = f.b
		return at + f.n
	}
	return at + copy(buf[at:], f.s)
}

// appendRows renders rows lo..hi of the unit as CSV.
func appendRows(csv []byte, o *Output, ids *array.String, idPlain bool, flags *array.String, b *unitBufs, lo, hi int) []byte {
	idOff, idData := ids.ValueOffsets(), ids.ValueBytes()
	base := idOff[0]
	at := len(csv)
	for i := lo; i < hi; i++ {
		s, e := int(idOff[i]-base), int(idOff[i+1]-base)
		// Room for every piece at its longest and the last one's padding.
		room := o.rowRoom + 2*(e-s) + 3
		if flags != nil {
			room += 2*flags.ValueLen(i) + 3
		}
		if at+room > cap(csv) {
			csv = slices.Grow(csv[:at], room+cap(csv))
		}
		buf := csv[:cap(csv)]
		switch {
		case !ids.IsValid(i):
		case e > s && csvsafe.Risky(idData[s]):
			at = len(appendCSV(buf[:at], ids.Value(i)))
		case idPlain && e-s <= 16 && s+16 <= len(idData):
			*(*[16]byte)(buf[at : at+16]) = *(*[16]byte)(idData[s : s+16])
			at += e - s
		case idPlain:
			at += copy(buf[at:], idData[s:e])
		default:
			at = len(appendCSV(buf[:at], ids.Value(i)))
		}
		at = o.mid.put(buf, at)
		at = len(strconv.AppendInt(buf[:at], int64(b.score[i]), 10))
		buf[at] = ','
		at = len(strconv.AppendFloat(buf[:at+1], b.pd[i], 'g', -1, 64))
		at = o.gradeCSV[b.grade[i]].put(buf, at)
		for k := range Reasons {
			if bitutil.BitIsSet(b.valid[k], i) {
				at = o.reasonCSV[b.reason[k][i]].put(buf, at)
			} else {
				buf[at] = ','
				at++
			}
		}
		for k := range Reasons {
			if bitutil.BitIsSet(b.valid[k], i) {
				at = o.textCSV[b.text[k][i]].put(buf, at)
			} else {
				buf[at] = ','
				at++
			}
		}
		buf[at] = ','
		at++
		if flags != nil {
			at = len(appendCSV(buf[:at], flags.Value(i)))
		}
		at = o.decisionCSV[b.dec[i]].put(buf, at)
	}
	return csv[:at]
}

// csvField renders s as a CSV text field: a formula-leading cell
// neutralised (package csvsafe), quoted when it holds a comma, quote or
// line break.
func csvField(s string) string { return csvsafe.Field(s) }

// plainCSV reports whether b holds none of the bytes that make CSV quote
// a field (a whole column's values at once). Each value's first byte is
// still checked for a formula (csvsafe.Risky).
func plainCSV(b []byte) bool {
	return bytes.IndexByte(b, ',') < 0 && bytes.IndexByte(b, '"') < 0 && bytes.IndexByte(b, '\n') < 0 && bytes.IndexByte(b, '\r') < 0
}

func appendCSV(b []byte, s string) []byte { return csvsafe.AppendField(b, s) }
