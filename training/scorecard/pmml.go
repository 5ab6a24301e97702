package scorecard

import (
	"encoding/xml"
	"math"
	"strconv"
	"strings"
)

// PMML returns the card as a PMML 4.4 Scorecard model (scorecard.pmml of
// the artifact), for a loan system that runs PMML rather than SQL:
//
//   - DataDictionary and MiningSchema: one field per characteristic,
//     continuous double or categorical string, missing and unseen values
//     passed as they are (the card's own attributes handle them);
//   - Scorecard: initialScore is the base points; each Characteristic has
//     baselineScore = its best bin's points (baselineMethod "max") and
//     its Attributes, in the order an evaluator must try them (the first
//     whose predicate is true gives the partial score): missing (and "",
//     for a categorical: a CompoundPredicate "or") → the missing bin, or
//     the fallback bin when training saw no missing value; special values
//     (SimpleSetPredicate isIn); the intervals [a, b) in break order
//     (greaterOrEqual a and lessThan b) or the category groups
//     (SimpleSetPredicate isIn); for a categorical, a last <True/>
//     attribute gives an unseen value the fallback bin, as Score does;
//     a pair (Characteristic.Inputs) has an Attribute per combination of
//     its inputs' predicates, a CompoundPredicate "and" of the two, in
//     the first input's order then the second's, so that the first true
//     is the cell of each input's first true predicate;
//   - reason codes: useReasonCodes with reasonCodeAlgorithm "pointsBelow",
//     so a characteristic's reason ranks by baselineScore − partialScore,
//     the shortfall that Reasons ranks by; each Attribute carries its
//     bin's reason code (ReasonCatalog.ReasonCode) and, in an Extension,
//     the code's text;
//   - Output: score (predictedValue), pd (a transformedValue,
//     1 / (1 + exp((score − Offset) / Factor))) and reason_1..reason_3.
//
// Partial scores are the card's 4-decimal points, so an evaluator's sum
// equals the Go score to rounding of the sum (far below 1e-9).
func (m *Model) PMML(cat *ReasonCatalog) ([]byte, error) {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	p4 := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	doc := pmmlDoc{
		Version: "4.4",
		Xmlns:   "http://www.dmg.org/PMML-4_4",
		Header: pmmlHeader{
			Copyright:   "qiandun",
			Description: "qiandun scorecard " + m.Name + " " + m.Version + " (" + m.Checksum + ")",
			Application: pmmlApplication{Name: "qiandun", Version: m.CodeVersion},
		},
	}
	sc := &doc.Scorecard
	sc.ModelName = m.Name + "_" + m.Version
	sc.FunctionName = "regression"
	sc.AlgorithmName = "woe_logistic_scorecard"
	sc.InitialScore = p4(m.BasePoints)
	sc.UseReasonCodes = "true"
	sc.ReasonCodeAlgorithm = "pointsBelow"
	sc.BaselineMethod = "max"
	seen := map[string]bool{}
	for j := range m.Chars {
		c := &m.Chars[j]
		axes := []*Characteristic{c}
		if c.IsPair() {
			axes = []*Characteristic{&c.Inputs[0], &c.Inputs[1]}
		}
		for _, a := range axes {
			if seen[a.Name] {
				continue
			}
			seen[a.Name] = true
			df := pmmlDataField{Name: a.Name, Optype: "continuous", DataType: "double"}
			if a.Kind == "categorical" {
				df.Optype, df.DataType = "categorical", "string"
			}
			doc.DataDictionary.Fields = append(doc.DataDictionary.Fields, df)
			sc.MiningSchema.Fields = append(sc.MiningSchema.Fields, pmmlMiningField{Name: a.Name, UsageType: "active",
				MissingValueTreatment: "asIs", InvalidValueTreatment: "asIs"})
		}
		best := math.Inf(-1)
		for _, b := range c.Bins {
			best = math.Max(best, b.Points)
		}
		ch := pmmlCharacteristic{Name: c.Name, BaselineScore: p4(best)}
		attr := func(k int, pred any) {
			code, text := cat.ReasonCode(c, k)
			a := pmmlAttribute{PartialScore: p4(c.Bins[k].Points), ReasonCode: code, Predicate: pred,
				Extension: []pmmlExtension{{Extender: "qiandun", Name: "bin", Value: c.Bins[k].Label}, {Extender: "qiandun", Name: "reason_text", Value: text}}}
			ch.Attributes = append(ch.Attributes, a)
		}
		if !c.IsPair() {
			for _, bp := range binPredicates(c) {
				attr(bp.bin, bp.pred)
			}
		} else {
			// The first true of the cells in the order of the first
			// input's predicates, then the second's, is the cell of
			// the first true predicate of each.
			for _, pa := range binPredicates(&c.Inputs[0]) {
				for _, pb := range binPredicates(&c.Inputs[1]) {
					attr(c.Cell(pa.bin, pb.bin), pmmlCompound{BooleanOperator: "and", Predicates: []any{pa.pred, pb.pred}})
				}
			}
		}
		sc.Characteristics = append(sc.Characteristics, ch)
	}
	sc.Output.Fields = append(sc.Output.Fields, pmmlOutputField{Name: "score", Feature: "predictedValue", DataType: "double", Optype: "continuous"})
	num := func(v float64) pmmlConstant { return pmmlConstant{DataType: "double", Value: f(v)} }
	sc.Output.Fields = append(sc.Output.Fields, pmmlOutputField{Name: "pd", Feature: "transformedValue", DataType: "double", Optype: "continuous",
		Expr: pmmlApply{Function: "/", Args: []any{num(1), pmmlApply{Function: "+", Args: []any{num(1), pmmlApply{Function: "exp", Args: []any{
			pmmlApply{Function: "/", Args: []any{pmmlApply{Function: "-", Args: []any{pmmlFieldRef{Field: "score"}, num(m.Scaling.Offset)}}, num(m.Scaling.Factor)}}}}}}}}})
	for k := 1; k <= 3; k++ {
		sc.Output.Fields = append(sc.Output.Fields, pmmlOutputField{Name: "reason_" + strconv.Itoa(k), Feature: "reasonCode", Rank: k, DataType: "string", Optype: "categorical"})
	}
	doc.DataDictionary.N = len(doc.DataDictionary.Fields)
	out, err := xml.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

func ptr(s string) *string { return &s }

// binPred is a predicate that puts a value in bin bin.
type binPred struct {
	bin  int
	pred any
}

// binPredicates returns the predicates of one-input characteristic c's
// bins in the order an evaluator must try them (the package comment of
// PMML): the first true gives a value's bin.
func binPredicates(c *Characteristic) []binPred {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	var out []binPred
	attr := func(k int, pred any) { out = append(out, binPred{k, pred}) }
	missing := c.Fallback
	for k, b := range c.Bins {
		if b.Missing {
			missing = k
		}
	}
	isMissing := pmmlSimple{XMLName: xml.Name{Local: "SimplePredicate"}, Field: c.Name, Operator: "isMissing"}
	if c.Kind == "categorical" {
		attr(missing, pmmlCompound{BooleanOperator: "or", Predicates: []any{isMissing,
			pmmlSimple{XMLName: xml.Name{Local: "SimplePredicate"}, Field: c.Name, Operator: "equal", Value: ptr("")}}})
		for k, b := range c.Bins {
			if len(b.Values) > 0 {
				attr(k, pmmlSet{Field: c.Name, Operator: "isIn", Array: pmmlArray{N: len(b.Values), Type: "string", Text: pmmlStrings(b.Values)}})
			}
		}
		attr(c.Fallback, pmmlTrue{})
		return out
	}
	attr(missing, isMissing)
	for k, b := range c.Bins {
		if len(b.Specials) > 0 {
			vals := make([]string, len(b.Specials))
			for i, s := range b.Specials {
				vals[i] = f(s)
			}
			attr(k, pmmlSet{Field: c.Name, Operator: "isIn", Array: pmmlArray{N: len(vals), Type: "real", Text: strings.Join(vals, " ")}})
		}
	}
	for k, b := range c.Bins {
		if !b.Interval {
			continue
		}
		var preds []any
		if b.Lower != nil {
			preds = append(preds, pmmlSimple{XMLName: xml.Name{Local: "SimplePredicate"}, Field: c.Name, Operator: "greaterOrEqual", Value: ptr(f(*b.Lower))})
		}
		if b.Upper != nil {
			preds = append(preds, pmmlSimple{XMLName: xml.Name{Local: "SimplePredicate"}, Field: c.Name, Operator: "lessThan", Value: ptr(f(*b.Upper))})
		}
		switch len(preds) {
		case 0:
			attr(k, pmmlTrue{})
		case 1:
			attr(k, preds[0])
		default:
			attr(k, pmmlCompound{BooleanOperator: "and", Predicates: preds})
		}
	}
	return out
}

// pmmlStrings is a PMML string Array's content: each value quoted, with
// quotes and backslashes escaped.
func pmmlStrings(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
	}
	return strings.Join(q, " ")
}

type pmmlDoc struct {
	XMLName        xml.Name      `xml:"PMML"`
	Xmlns          string        `xml:"xmlns,attr"`
	Version        string        `xml:"version,attr"`
	Header         pmmlHeader    `xml:"Header"`
	DataDictionary pmmlDataDict  `xml:"DataDictionary"`
	Scorecard      pmmlScorecard `xml:"Scorecard"`
}

type pmmlHeader struct {
	Copyright   string          `xml:"copyright,attr"`
	Description string          `xml:"description,attr"`
	Application pmmlApplication `xml:"Application"`
}

type pmmlApplication struct {
	Name    string `xml:"name,attr"`
	Version string `xml:"version,attr,omitempty"`
}

type pmmlDataDict struct {
	N      int             `xml:"numberOfFields,attr"`
	Fields []pmmlDataField `xml:"DataField"`
}

type pmmlDataField struct {
	Name     string `xml:"name,attr"`
	Optype   string `xml:"optype,attr"`
	DataType string `xml:"dataType,attr"`
}

type pmmlScorecard struct {
	ModelName           string               `xml:"modelName,attr"`
	FunctionName        string               `xml:"functionName,attr"`
	AlgorithmName       string               `xml:"algorithmName,attr"`
	InitialScore        string               `xml:"initialScore,attr"`
	UseReasonCodes      string               `xml:"useReasonCodes,attr"`
	ReasonCodeAlgorithm string               `xml:"reasonCodeAlgorithm,attr"`
	BaselineMethod      string               `xml:"baselineMethod,attr"`
	MiningSchema        pmmlMiningSchema     `xml:"MiningSchema"`
	Output              pmmlOutput           `xml:"Output"`
	Characteristics     []pmmlCharacteristic `xml:"Characteristics>Characteristic"`
}

type pmmlMiningSchema struct {
	Fields []pmmlMiningField `xml:"MiningField"`
}

type pmmlMiningField struct {
	Name                  string `xml:"name,attr"`
	UsageType             string `xml:"usageType,attr"`
	MissingValueTreatment string `xml:"missingValueTreatment,attr"`
	InvalidValueTreatment string `xml:"invalidValueTreatment,attr"`
}

type pmmlOutput struct {
	Fields []pmmlOutputField `xml:"OutputField"`
}

type pmmlOutputField struct {
	Name     string `xml:"name,attr"`
	Feature  string `xml:"feature,attr"`
	Rank     int    `xml:"rank,attr,omitempty"`
	DataType string `xml:"dataType,attr"`
	Optype   string `xml:"optype,attr"`
	Expr     any    `xml:",omitempty"`
}

type pmmlApply struct {
	XMLName  xml.Name `xml:"Apply"`
	Function string   `xml:"function,attr"`
	Args     []any
}

type pmmlConstant struct {
	XMLName  xml.Name `xml:"Constant"`
	DataType string   `xml:"dataType,attr"`
	Value    string   `xml:",chardata"`
}

type pmmlFieldRef struct {
	XMLName xml.Name `xml:"FieldRef"`
	Field   string   `xml:"field,attr"`
}

type pmmlCharacteristic struct {
	Name          string          `xml:"name,attr"`
	BaselineScore string          `xml:"baselineScore,attr"`
	Attributes    []pmmlAttribute `xml:"Attribute"`
}

type pmmlExtension struct {
	Extender string `xml:"extender,attr"`
	Name     string `xml:"name,attr"`
	Value    string `xml:"value,attr"`
}

type pmmlAttribute struct {
	ReasonCode   string          `xml:"reasonCode,attr"`
	PartialScore string          `xml:"partialScore,attr"`
	Extension    []pmmlExtension `xml:"Extension"`
	Predicate    any
}

type pmmlSimple struct {
	XMLName  xml.Name
	Field    string  `xml:"field,attr"`
	Operator string  `xml:"operator,attr"`
	Value    *string `xml:"value,attr"`
}

type pmmlSet struct {
	XMLName  xml.Name  `xml:"SimpleSetPredicate"`
	Field    string    `xml:"field,attr"`
	Operator string    `xml:"booleanOperator,attr"`
	Array    pmmlArray `xml:"Array"`
}

type pmmlArray struct {
	N    int    `xml:"n,attr"`
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type pmmlCompound struct {
	XMLName         xml.Name `xml:"CompoundPredicate"`
	BooleanOperator string   `xml:"booleanOperator,attr"`
	Predicates      []any
}

type pmmlTrue struct {
	XMLName xml.Name `xml:"True"`
}
