package scorecard_test

import (
	"bytes"
	"encoding/xml"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/internal/gcredit"
	"qiandun/training/scorecard"
)

// node is any PMML element, parsed generically with encoding/xml.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []node     `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n *node) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func (n *node) child(name string) *node {
	for i := range n.Children {
		if n.Children[i].XMLName.Local == name {
			return &n.Children[i]
		}
	}
	return nil
}

func (n *node) all(name string) []*node {
	var out []*node
	for i := range n.Children {
		if n.Children[i].XMLName.Local == name {
			out = append(out, &n.Children[i])
		}
	}
	return out
}

// tri is PMML's three-valued predicate result.
type tri int

const (
	unknown tri = iota
	isFalse
	isTrue
)

func triOf(b bool) tri {
	if b {
		return isTrue
	}
	return isFalse
}

// pmmlEval evaluates a PMML Scorecard by the specification's semantics,
// independently of the code that wrote it.
type pmmlEval struct {
	t        testing.TB
	types    map[string]string // field → dataType
	sc       *node
	initial  float64
	algo     string
	baseline string // the Scorecard's own baselineScore, if any
}

func newPMMLEval(t testing.TB, doc []byte) *pmmlEval {
	var root node
	if err := xml.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	if root.XMLName.Local != "PMML" || root.XMLName.Space != "http://www.dmg.org/PMML-4_4" {
		t.Fatalf("root %v, want PMML in the PMML-4_4 namespace", root.XMLName)
	}
	if v, _ := root.attr("version"); v != "4.4" {
		t.Fatalf("PMML version %q", v)
	}
	e := &pmmlEval{t: t, types: map[string]string{}}
	for _, f := range root.child("DataDictionary").all("DataField") {
		name, _ := f.attr("name")
		e.types[name], _ = f.attr("dataType")
	}
	e.sc = root.child("Scorecard")
	if e.sc == nil {
		t.Fatal("no Scorecard element")
	}
	is, _ := e.sc.attr("initialScore")
	e.initial = e.num(is)
	e.algo = "pointsBelow" // the specification's default
	if a, ok := e.sc.attr("reasonCodeAlgorithm"); ok {
		e.algo = a
	}
	e.baseline, _ = e.sc.attr("baselineScore")
	if u, _ := e.sc.attr("useReasonCodes"); u != "true" {
		t.Fatalf("useReasonCodes %q", u)
	}
	return e
}

func (e *pmmlEval) num(s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		e.t.Fatalf("number %q: %v", s, err)
	}
	return v
}

// compare orders a field value and a literal by the field's type.
func (e *pmmlEval) compare(field, v, lit string) int {
	if e.types[field] == "string" {
		return strings.Compare(v, lit)
	}
	a, b := e.num(v), e.num(lit)
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// array splits a PMML Array's content: whitespace-separated, strings
// in double quotes with \" and \\ escapes.
func array(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch {
		case s[i] == ' ' || s[i] == '\n' || s[i] == '\t':
			i++
		case s[i] == '"':
			var b strings.Builder
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++
			out = append(out, b.String())
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\n' && s[j] != '\t' {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

func (e *pmmlEval) pred(p *node, row map[string]*string) tri {
	switch p.XMLName.Local {
	case "True":
		return isTrue
	case "False":
		return isFalse
	case "SimplePredicate":
		field, _ := p.attr("field")
		op, _ := p.attr("operator")
		v := row[field]
		switch op {
		case "isMissing":
			return triOf(v == nil)
		case "isNotMissing":
			return triOf(v != nil)
		}
		if v == nil {
			return unknown
		}
		lit, _ := p.attr("value")
		c := e.compare(field, *v, lit)
		switch op {
		case "equal":
			return triOf(c == 0)
		case "notEqual":
			return triOf(c != 0)
		case "lessThan":
			return triOf(c < 0)
		case "lessOrEqual":
			return triOf(c <= 0)
		case "greaterThan":
			return triOf(c > 0)
		case "greaterOrEqual":
			return triOf(c >= 0)
		}
		e.t.Fatalf("SimplePredicate operator %q", op)
	case "SimpleSetPredicate":
		field, _ := p.attr("field")
		op, _ := p.attr("booleanOperator")
		v := row[field]
		if v == nil {
			return unknown
		}
		in := slices.ContainsFunc(array(p.child("Array").Text), func(lit string) bool { return e.compare(field, *v, lit) == 0 })
		return triOf(in == (op == "isIn"))
	case "CompoundPredicate":
		op, _ := p.attr("booleanOperator")
		var rs []tri
		for i := range p.Children {
			rs = append(rs, e.pred(&p.Children[i], row))
		}
		switch op {
		case "and":
			if slices.Contains(rs, isFalse) {
				return isFalse
			}
			if slices.Contains(rs, unknown) {
				return unknown
			}
			return isTrue
		case "or":
			if slices.Contains(rs, isTrue) {
				return isTrue
			}
			if slices.Contains(rs, unknown) {
				return unknown
			}
			return isFalse
		case "surrogate":
			for _, r := range rs {
				if r != unknown {
					return r
				}
			}
			return unknown
		}
		e.t.Fatalf("CompoundPredicate booleanOperator %q", op)
	}
	e.t.Fatalf("predicate element %s", p.XMLName.Local)
	return unknown
}

// predicateOf is an Attribute's predicate (its one child that is not an
// Extension).
func predicateOf(a *node) *node {
	for i := range a.Children {
		if a.Children[i].XMLName.Local != "Extension" {
			return &a.Children[i]
		}
	}
	return nil
}

// eval returns the score, the outputs (pd) and the ranked reason codes
// of a row (nil value = missing).
func (e *pmmlEval) eval(row map[string]*string) (score, pd float64, reasons []string) {
	score = e.initial
	points := map[string]float64{}
	for _, ch := range e.sc.child("Characteristics").all("Characteristic") {
		name, _ := ch.attr("name")
		var hit *node
		for _, a := range ch.all("Attribute") {
			if e.pred(predicateOf(a), row) == isTrue { // the first true predicate wins
				hit = a
				break
			}
		}
		if hit == nil {
			e.t.Fatalf("characteristic %s: no attribute matches %v", name, row[name])
		}
		ps, _ := hit.attr("partialScore")
		partial := e.num(ps)
		score += partial
		base, ok := ch.attr("baselineScore")
		if !ok {
			base = e.baseline
		}
		code, ok := hit.attr("reasonCode")
		if !ok {
			code, _ = ch.attr("reasonCode")
		}
		diff := e.num(base) - partial
		if e.algo == "pointsAbove" {
			diff = -diff
		}
		points[code] += diff // a code shared by characteristics sums their differences
	}
	for code, d := range points {
		if d > 0 {
			reasons = append(reasons, code)
		}
	}
	slices.SortFunc(reasons, func(a, b string) int {
		if points[a] != points[b] {
			if points[a] > points[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	// Output: the transformedValue pd, an expression of score.
	for _, of := range e.sc.child("Output").all("OutputField") {
		if n, _ := of.attr("name"); n == "pd" {
			pd = e.expr(&of.Children[0], map[string]float64{"score": score})
		}
	}
	return score, pd, reasons
}

func (e *pmmlEval) expr(n *node, fields map[string]float64) float64 {
	switch n.XMLName.Local {
	case "Constant":
		return e.num(n.Text)
	case "FieldRef":
		f, _ := n.attr("field")
		return fields[f]
	case "Apply":
		fn, _ := n.attr("function")
		var a []float64
		for i := range n.Children {
			a = append(a, e.expr(&n.Children[i], fields))
		}
		switch fn {
		case "+":
			return a[0] + a[1]
		case "-":
			return a[0] - a[1]
		case "*":
			return a[0] * a[1]
		case "/":
			return a[0] / a[1]
		case "exp":
			return math.Exp(a[0])
		}
		e.t.Fatalf("function %q", fn)
	}
	e.t.Fatalf("expression element %s", n.XMLName.Local)
	return 0
}

// TestPMMLGermanCredit: scorecard.pmml, parsed with encoding/xml and
// evaluated by the PMML 4.4 Scorecard semantics (the first attribute
// whose predicate is true, initialScore plus partial scores, reason codes
// ranked by baselineScore − partialScore under "pointsBelow"), gives the
// Go scorer's score (to 1e-9), PD and top three reasons on every German
// credit row, and on rows with missing values and unseen categories.
func TestPMMLGermanCredit(t *testing.T) {
	m, d := refModel(t, scorecard.DefaultScaling())
	testPMML(t, m, d)
}

// A card with pairs: each cell an Attribute whose CompoundPredicate "and"
// joins a predicate of each input.
func TestPMMLGermanCreditPairs(t *testing.T) {
	m, d := refModel(t, scorecard.DefaultScaling())
	testPMML(t, withPairs(t, m, d), d)
}

func testPMML(t *testing.T, m *scorecard.Model, d *gcredit.Data) {
	files, err := m.Files()
	if err != nil {
		t.Fatal(err)
	}
	doc := files["scorecard.pmml"]
	if !bytes.HasPrefix(doc, []byte("<?xml")) {
		t.Fatalf("scorecard.pmml does not start with an XML declaration")
	}
	e := newPMMLEval(t, doc)
	if got := len(e.sc.child("Characteristics").all("Characteristic")); got != len(m.Chars) {
		t.Fatalf("%d characteristics in the PMML, %d in the card", got, len(m.Chars))
	}
	// Every row as the loan system would pass it, then a few rows with a
	// missing value or an unseen category in every characteristic.
	n := len(d.Y)
	cols := map[string]*binning.Column{}
	for _, c := range m.Characteristics() {
		src := d.Cols[c.Name]
		dst := &binning.Column{Name: c.Name, Kind: src.Kind, Dict: slices.Clone(src.Dict)}
		if src.Kind == binning.Categorical {
			dst.Codes = append(slices.Clone(src.Codes), -1, int32(len(dst.Dict)))
			dst.Dict = append(dst.Dict, "never_seen")
		} else {
			dst.Num = append(slices.Clone(src.Num), math.NaN(), math.NaN())
		}
		cols[c.Name] = dst
	}
	s, err := m.Score(cols)
	if err != nil {
		t.Fatal(err)
	}
	reasonsSeen := 0
	for i := range n + 2 {
		row := map[string]*string{}
		for name, c := range cols {
			var v string
			if c.Kind == binning.Categorical {
				if c.Codes[i] < 0 {
					continue
				}
				v = c.Dict[c.Codes[i]]
			} else {
				if math.IsNaN(c.Num[i]) {
					continue
				}
				v = strconv.FormatFloat(c.Num[i], 'g', -1, 64)
			}
			row[name] = &v
		}
		score, pd, reasons := e.eval(row)
		if math.Abs(score-s.Score[i]) > 1e-9 {
			t.Fatalf("row %d: PMML score %v, Go %v", i, score, s.Score[i])
		}
		if math.Abs(pd-s.PD[i]) > 1e-12 {
			t.Fatalf("row %d: PMML pd %v, Go %v", i, pd, s.PD[i])
		}
		var want []string
		for _, r := range m.Reasons(s, i, 3) {
			want = append(want, r.Code)
		}
		if got := reasons[:min(3, len(reasons))]; !slices.Equal(got, want) {
			t.Fatalf("row %d: PMML reasons %v, Go %v", i, got, want)
		}
		reasonsSeen += len(want)
	}
	if reasonsSeen < n {
		t.Fatalf("only %d reasons in %d rows", reasonsSeen, n)
	}
}
