package scorecard_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

func f64(v float64) *float64 { return &v }

func TestReadableLabel(t *testing.T) {
	for _, c := range []struct {
		bin  binning.Bin
		want string
	}{
		{binning.Bin{Interval: true, Lower: f64(1.8932038834951457), Upper: f64(31.48936170212766)}, "[1.89, 31.5)"},
		{binning.Bin{Interval: true, Upper: f64(0.0012345)}, "[-inf, 0.00123)"},
		{binning.Bin{Interval: true, Lower: f64(150000)}, "[150000, inf)"},
		{binning.Bin{Interval: true, Lower: f64(123456), Upper: f64(250001)}, "[123000, 250000)"},
		{binning.Bin{Interval: true, Lower: f64(-2.5), Upper: f64(3)}, "[-2.5, 3)"},
		// 3 digits would make the edges equal: more digits, until they differ.
		{binning.Bin{Interval: true, Lower: f64(1.0012), Upper: f64(1.0046)}, "[1.001, 1.005)"},
		{binning.Bin{Values: []string{"河北省沧州市"}}, "河北省沧州市"},
		{binning.Bin{Values: []string{"河北省沧州市", "a", "b"}}, "河北省沧州市 and 2 more"},
		{binning.Bin{Missing: true, Label: "missing"}, "missing"},
		{binning.Bin{Specials: []float64{-1.23456}}, "special:-1.23"},
		{binning.Bin{Interval: true, Lower: f64(0.5), Upper: f64(2.25), Missing: true}, "[0.5, 2.25) + missing"},
	} {
		if got := scorecard.ReadableLabel(c.bin); got != c.want {
			t.Errorf("ReadableLabel(%+v) = %q, want %q", c.bin, got, c.want)
		}
	}
}

// unrounded matches a number with 5 or more decimals.
var unrounded = regexp.MustCompile(`\d\.\d{5,}`)

// Every bin of the German credit card has a code
// <characteristic>_<direction> and a readable text: the characteristics
// are not in the catalog, so the text is the name and the rounded bin.
// Directions follow the points: a numeric bin above the best bin is high,
// below it low.
func TestReasonCodesGermanCredit(t *testing.T) {
	m, _ := refModel(t, scorecard.DefaultScaling())
	cat, err := scorecard.DefaultReasonCatalog()
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]int{}
	for j := range m.Chars {
		c := &m.Chars[j]
		best := 0
		for k := range c.Bins {
			if c.Bins[k].Interval && (!c.Bins[best].Interval || c.Bins[k].Points > c.Bins[best].Points) {
				best = k
			}
		}
		for k := range c.Bins {
			code, text := cat.ReasonCode(c, k)
			dir := strings.TrimPrefix(code, c.Name+"_")
			dirs[dir]++
			if utf8.RuneCountInString(text) > scorecard.MaxReasonText || unrounded.MatchString(text) || strings.Contains(text, " | ") {
				t.Errorf("%s bin %q: text %q is not readable", c.Name, c.Bins[k].Label, text)
			}
			if !strings.HasPrefix(text, c.Name) {
				t.Errorf("%s: generated text %q does not name the characteristic", c.Name, text)
			}
			b := c.Bins[k]
			switch {
			case b.Interval && k > best && dir != scorecard.DirHigh, b.Interval && k < best && dir != scorecard.DirLow:
				t.Errorf("%s bin %d (best interval bin %d): code %s", c.Name, k, best, code)
			case len(b.Values) > 0 && dir != scorecard.DirRisky:
				t.Errorf("%s bin %q: categorical code %s", c.Name, b.Label, code)
			}
		}
	}
	if dirs[scorecard.DirRisky] == 0 || dirs[scorecard.DirHigh]+dirs[scorecard.DirLow] == 0 {
		t.Errorf("directions %v: want categorical and numeric reasons", dirs)
	}
}

// A catalogued characteristic reads as the catalog says, and a text over
// 64 characters in a catalog file is refused with its name.
func TestReasonCatalogTexts(t *testing.T) {
	cat, err := scorecard.DefaultReasonCatalog()
	if err != nil {
		t.Fatal(err)
	}
	one, three := 1.0, 3.0
	c := &scorecard.Characteristic{Name: "inq_7d_total", Kind: "numeric", Bins: []scorecard.Bin{
		{Bin: binning.Bin{Interval: true, Upper: &one}, Points: 5},
		{Bin: binning.Bin{Interval: true, Lower: &one, Upper: &three}, Points: 10},
		{Bin: binning.Bin{Interval: true, Lower: &three}, Points: -5},
		{Bin: binning.Bin{Missing: true}, Points: 0},
	}}
	for k, want := range map[int]struct{ code, text string }{
		0: {"inq_7d_total_low", "近7天征信查询次数偏低 / low bureau inquiries in 7 days"},
		2: {"inq_7d_total_high", "近7天征信查询次数多 / many bureau inquiries in 7 days"},
		3: {"inq_7d_total_missing", "近7天征信查询次数缺失 / bureau inquiries in 7 days missing"},
	} {
		code, text := cat.ReasonCode(c, k)
		if code != want.code || text != want.text {
			t.Errorf("bin %d: %q %q, want %q %q", k, code, text, want.code, want.text)
		}
	}
	// With the missing bin scoring best, the best interval bin is a
	// reason too, neither high nor low: its text names the interval.
	c.Bins[3].Points = 20
	if code, text := cat.ReasonCode(c, 1); code != "inq_7d_total_value" || text != "近7天征信查询次数 [1, 3) / bureau inquiries in 7 days [1, 3)" {
		t.Errorf("best interval below the missing bin: %q %q", code, text)
	}
	path := t.TempDir() + "/r.yaml"
	long := strings.Repeat("长", 65)
	if err := writeFile(path, "defaults: {high: h, low: l, missing: m, special: s, risky: r}\ncharacteristics:\n  x: {zh: 甲, en: x, high: "+long+"}\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := scorecard.LoadReasonCatalog(path); err == nil || !strings.Contains(err.Error(), "x high") {
		t.Errorf("a 65-character text: error %v, want one naming x high", err)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
