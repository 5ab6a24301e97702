package scorecard_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// FuzzDecode: loading any model.json document never panics, and a model
// that loads can be used: every characteristic's lookup, Score on a few
// rows, the SQL and the artifact files. The checksum is no signature, so
// each input is also tried re-sealed (a hand-edited model.json with a
// recomputed checksum) to reach past the checksum check. The seed corpus
// is in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		use(t, raw)
		var m scorecard.Model
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		m.Checksum = ""
		if m.Seal() != nil {
			return
		}
		resealed, err := json.Marshal(&m)
		if err != nil {
			return
		}
		use(t, resealed)
	})
}

func use(t *testing.T, raw []byte) {
	m, err := scorecard.Decode(raw, "model.json")
	if err != nil {
		return
	}
	cols := map[string]*binning.Column{}
	for j := range m.Chars {
		c := &m.Chars[j]
		l := c.Lookup()
		if c.Kind == "numeric" {
			for _, x := range []float64{math.NaN(), math.Inf(-1), -1, 0, 1, 1e300} {
				if k, _ := l.Num(x); k < 0 || int(k) >= len(c.Bins) {
					t.Fatalf("%s: value %v to bin %d of %d", c.Name, x, k, len(c.Bins))
				}
			}
			cols[c.Name] = &binning.Column{Name: c.Name, Kind: binning.Numeric, Num: []float64{math.NaN(), 0, 1e9}}
		} else {
			for _, v := range []string{"", "unseen"} {
				if k, _ := l.Cat(v, v == ""); k < 0 || int(k) >= len(c.Bins) {
					t.Fatalf("%s: value %q to bin %d of %d", c.Name, v, k, len(c.Bins))
				}
			}
			cols[c.Name] = &binning.Column{Name: c.Name, Kind: binning.Categorical, Codes: []int32{-1, 0, 1}, Dict: []string{"unseen", ""}}
		}
	}
	if _, err := m.Score(cols); err != nil {
		t.Fatalf("a loaded model does not score: %v", err)
	}
	_ = m.SQL("t")
	if _, err := m.Files(); err != nil {
		t.Fatalf("a loaded model does not write: %v", err)
	}
}

// TestDecodeRefusesBrokenStructure: a model.json with a correct checksum
// but a structure scoring cannot use (a fallback bin that does not exist,
// no bins, breaks out of order, an unknown kind, no characteristics) is
// refused by Decode with an error naming the problem; before the checks,
// the first of these panicked in Score (index out of range).
func TestDecodeRefusesBrokenStructure(t *testing.T) {
	m, _ := refModel(t, scorecard.DefaultScaling())
	good, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scorecard.Decode(good, "model.json"); err != nil {
		t.Fatalf("the reference model does not load: %v", err)
	}
	numeric := -1
	for j, c := range m.Chars {
		if c.Kind == "numeric" && len(c.Breaks) >= 2 {
			numeric = j
		}
	}
	if numeric < 0 {
		t.Fatal("the reference card has no numeric characteristic with two breaks")
	}
	for _, tc := range []struct {
		name, want string
		edit       func(m *scorecard.Model)
	}{
		{"fallback", "fallback bin 99", func(m *scorecard.Model) { m.Chars[0].Fallback = 99 }},
		{"no bins", "has no bins", func(m *scorecard.Model) { m.Chars[0].Bins = nil }},
		{"breaks", "not finite and increasing", func(m *scorecard.Model) {
			b := m.Chars[numeric].Breaks
			b[0], b[1] = b[1], b[0]
		}},
		{"too few bins", "bins for", func(m *scorecard.Model) {
			m.Chars[numeric].Bins, m.Chars[numeric].Fallback = m.Chars[numeric].Bins[:1], 0
		}},
		{"kind", `kind "text"`, func(m *scorecard.Model) { m.Chars[0].Kind = "text" }},
		{"no characteristics", "no characteristics", func(m *scorecard.Model) { m.Chars = nil }},
		{"twice", "appears twice", func(m *scorecard.Model) { m.Chars[1].Name = m.Chars[0].Name }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var bad scorecard.Model
			if err := json.Unmarshal(good, &bad); err != nil {
				t.Fatal(err)
			}
			tc.edit(&bad)
			bad.Checksum = ""
			if err := bad.Seal(); err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(&bad)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := scorecard.Decode(raw, "model.json"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
