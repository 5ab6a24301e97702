package scorecard

import (
	_ "embed"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxReasonText is the longest reason text, in characters (runes).
const MaxReasonText = 64

// Reason directions: the last part of a reason code.
const (
	DirHigh    = "high"    // a numeric bin above the characteristic's best bin
	DirLow     = "low"     // a numeric bin below it
	DirMissing = "missing" // the missing bin
	DirSpecial = "special" // a special-value bin
	DirRisky   = "risky"   // a categorical group scoring below the best group
	// DirValue is the numeric interval bin with the most points when a
	// missing or special bin scores higher still: neither high nor low,
	// so its text names the rounded interval.
	DirValue = "value"
	// DirCombo is a cell of a pair scoring below the pair's best cell:
	// its text names both inputs.
	DirCombo = "combo"
)

var directions = []string{DirHigh, DirLow, DirMissing, DirSpecial, DirRisky}

//go:embed reasons.yaml
var reasonsYAML []byte

// ReasonEntry is what the catalog says about one characteristic: its
// name in Chinese and English and, optionally, the text of each
// direction (else the catalog's template).
type ReasonEntry struct {
	ZH      string `yaml:"zh"`
	EN      string `yaml:"en"`
	High    string `yaml:"high"`
	Low     string `yaml:"low"`
	Missing string `yaml:"missing"`
	Special string `yaml:"special"`
	Risky   string `yaml:"risky"`
}

func (e ReasonEntry) text(dir string) string {
	switch dir {
	case DirHigh:
		return e.High
	case DirLow:
		return e.Low
	case DirMissing:
		return e.Missing
	case DirSpecial:
		return e.Special
	case DirRisky:
		return e.Risky
	}
	return ""
}

// ReasonCatalog gives reason codes their texts (reasons.yaml, embedded:
// DefaultReasonCatalog; or a file of the same form: LoadReasonCatalog).
type ReasonCatalog struct {
	Defaults        map[string]string      `yaml:"defaults"`
	Characteristics map[string]ReasonEntry `yaml:"characteristics"`
}

// DefaultReasonCatalog returns the embedded catalog (reasons.yaml), which
// covers every feature of the A-card and B-card sets.
func DefaultReasonCatalog() (*ReasonCatalog, error) {
	return parseReasonCatalog(reasonsYAML, "reasons.yaml")
}

// LoadReasonCatalog reads a catalog file of reasons.yaml's form.
func LoadReasonCatalog(path string) (*ReasonCatalog, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reason catalog: %w", err)
	}
	return parseReasonCatalog(raw, path)
}

func parseReasonCatalog(raw []byte, name string) (*ReasonCatalog, error) {
	var c ReasonCatalog
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("reason catalog %s: %w", name, err)
	}
	for _, d := range directions {
		if c.Defaults[d] == "" {
			return nil, fmt.Errorf("reason catalog %s: defaults: no template for %q", name, d)
		}
	}
	names := make([]string, 0, len(c.Characteristics))
	for n := range c.Characteristics {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e := c.Characteristics[n]
		if e.ZH == "" || e.EN == "" {
			return nil, fmt.Errorf("reason catalog %s: %s: zh and en names are required", name, n)
		}
		for _, d := range directions {
			if t := c.text(n, e, d); utf8.RuneCountInString(t) > MaxReasonText {
				return nil, fmt.Errorf("reason catalog %s: %s %s: text %q is %d characters, at most %d", name, n, d, t, utf8.RuneCountInString(t), MaxReasonText)
			}
		}
	}
	return &c, nil
}

func (c *ReasonCatalog) text(name string, e ReasonEntry, dir string) string {
	if t := e.text(dir); t != "" {
		return t
	}
	return strings.NewReplacer("{zh}", e.ZH, "{en}", e.EN).Replace(c.Defaults[dir])
}

// Has reports whether the catalog describes characteristic name.
func (c *ReasonCatalog) Has(name string) bool {
	if c == nil {
		return false
	}
	_, ok := c.Characteristics[name]
	return ok
}

// Direction returns the direction of bin k of c as a reason (see the
// Dir constants). A numeric interval bin is high or low by its position
// relative to the interval bin with the most points (DirValue for that
// bin itself, a reason only when a missing or special bin scores higher).
func (c *Characteristic) Direction(k int) string {
	if c.IsPair() {
		return DirCombo
	}
	b := &c.Bins[k]
	switch {
	case b.Interval:
		best := -1
		for i := range c.Bins {
			if !c.Bins[i].Interval {
				continue
			}
			if best < 0 || c.Bins[i].Points > c.Bins[best].Points {
				best = i
			}
		}
		switch {
		case k > best:
			return DirHigh
		case k < best:
			return DirLow
		}
		return DirValue
	case len(b.Values) > 0:
		return DirRisky
	case len(b.Specials) > 0:
		return DirSpecial
	case b.Missing:
		return DirMissing
	}
	return DirRisky
}

// ReasonCode returns the reason code and text of bin k of c: the code is
// <characteristic>_<direction> (inq_7d_total_high); the text is the
// catalog's ("近7天征信查询次数多 / many bureau inquiries in 7 days"), or,
// for a characteristic the catalog lacks, its name and the bin's rounded
// label ("amount_to_income in [1.89, 31.5)"), as with a nil catalog; at most MaxReasonText
// characters, never a list of categories or an unrounded number.
func (cat *ReasonCatalog) ReasonCode(c *Characteristic, k int) (code, text string) {
	dir := c.Direction(k)
	code = c.Name + "_" + dir
	if c.IsPair() {
		return code, cat.pairText(c, k)
	}
	b := c.Bins[k].Bin
	if cat != nil {
		if e, ok := cat.Characteristics[c.Name]; ok {
			if dir == DirValue {
				iv := readableInterval(b.Lower, b.Upper)
				return code, truncateRunes(e.ZH+" "+iv+" / "+e.EN+" "+iv, MaxReasonText)
			}
			return code, cat.text(c.Name, e, dir)
		}
	}
	switch dir {
	case DirHigh, DirLow, DirValue:
		text = c.Name + " in " + readableInterval(b.Lower, b.Upper)
	case DirMissing:
		text = c.Name + " missing"
	default:
		text = c.Name + ": " + ReadableLabel(b)
	}
	return code, truncateRunes(text, MaxReasonText)
}

// pairText is the text of cell k of pair c: both inputs' names from the
// catalog ("负债收入比与逾期次数组合 / debt-to-income with delinquencies"),
// or, for an input the catalog lacks, the inputs' names and their bins'
// rounded labels.
func (cat *ReasonCatalog) pairText(c *Characteristic, k int) string {
	a, b := &c.Inputs[0], &c.Inputs[1]
	if cat != nil {
		ea, oka := cat.Characteristics[a.Name]
		eb, okb := cat.Characteristics[b.Name]
		if oka && okb {
			return truncateRunes(ea.ZH+"与"+eb.ZH+"组合 / "+ea.EN+" with "+eb.EN, MaxReasonText)
		}
	}
	nb := len(b.Bins)
	return truncateRunes(a.Name+" "+ReadableLabel(a.Bins[k/nb].Bin)+" & "+b.Name+" "+ReadableLabel(b.Bins[k%nb].Bin), MaxReasonText)
}

// truncateRunes cuts s to at most n runes, ending in "…" when cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
