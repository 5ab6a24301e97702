package scorecard

import (
	"math"
	"strconv"
	"strings"

	"qiandun/training/binning"
)

// ReadableLabel is a bin's label for reading (bins.csv, reports, reason
// texts): interval edges to 3 significant digits ("[1.89, 31.5)"), more
// only where 3 would make the two edges equal; a category group as its
// first member and how many more ("河北省沧州市 and 41 more"); special
// values and missing as in the exact label. The exact edges and members
// stay in model.json (Bin.Label, Lower, Upper, Values).
func ReadableLabel(b binning.Bin) string {
	var parts []string
	switch {
	case b.Interval:
		parts = append(parts, readableInterval(b.Lower, b.Upper))
	case len(b.Values) == 1:
		parts = append(parts, b.Values[0])
	case len(b.Values) > 1:
		parts = append(parts, b.Values[0]+" and "+strconv.Itoa(len(b.Values)-1)+" more")
	}
	for _, s := range b.Specials {
		parts = append(parts, "special:"+roundSig(s, 3))
	}
	if b.Missing {
		parts = append(parts, "missing")
	}
	if len(parts) == 0 {
		return b.Label
	}
	return strings.Join(parts, " + ")
}

func readableInterval(lo, hi *float64) string {
	for d := 3; ; d++ {
		l, h := "-inf", "inf"
		if lo != nil {
			l = roundSig(*lo, d)
		}
		if hi != nil {
			h = roundSig(*hi, d)
		}
		if l != h || d >= 17 {
			return "[" + l + ", " + h + ")"
		}
	}
}

// roundSig formats v to d significant digits in plain decimal notation
// (no exponent), without trailing zeros: 31.48936 → "31.5", 150000 →
// "150000", 0.0012345 → "0.00123".
func roundSig(v float64, d int) string {
	if math.IsInf(v, 1) {
		return "inf"
	}
	if math.IsInf(v, -1) {
		return "-inf"
	}
	if v == 0 || math.IsNaN(v) {
		return strconv.FormatFloat(math.Abs(v), 'f', -1, 64)
	}
	// decimals kept: d − 1 − the exponent of the leading digit.
	dec := d - 1 - int(math.Floor(math.Log10(math.Abs(v))))
	var s string
	if dec >= 0 {
		s = strconv.FormatFloat(v, 'f', dec, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
	} else {
		p := math.Pow(10, float64(-dec))
		s = strconv.FormatFloat(math.Round(v/p)*p, 'f', 0, 64)
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
