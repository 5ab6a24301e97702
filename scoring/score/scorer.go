package score

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"qiandun/scoring/monitor"
	"qiandun/training/binning"
	"qiandun/training/scorecard"
)

// Reasons is the number of reason-code columns (reason_1..reason_3, and
// their texts reason_text_1..reason_text_3).
const Reasons = 3

// Scorer scores Arrow record batches with a scorecard. The arithmetic is
// the card's own (scorecard.Lookup: the bins and fixed-point points that
// scorecard.Model.Score uses), applied column by column to the Arrow
// arrays; Scorer adds the integer score, grade, reason codes and
// decision.
type Scorer struct {
	Model *scorecard.Model
	dec   *decider
	chars []charInfo
	base  int64
	// Reason codes: the (characteristic, bin) pairs with a shortfall, in
	// reason order (largest shortfall first, ties by name); a row's
	// reasons are its three lowest priorities.
	reasons  []string  // by priority, the code: "inq_7d_total_high"
	texts    []string  // by priority, the catalog's text
	decNames [3]string // the words of the decision codes
	bufs     sync.Pool // *unitBufs
}

type charInfo struct {
	name string
	kind binning.Kind
	look *scorecard.Lookup
	prio []int32            // reason priority of each bin; noReason when at its best
	cat  map[string]catSlot // categorical: every value of the card's bins → its slot
	null int32              // categorical: CatCode of NULL
	// axes, for a pair, are its two inputs (look, kind, cat and null of
	// each); its own look gives the cells' points.
	axes []*charInfo
}

// inputInfo is the charInfo of a one-input characteristic's (or a pair
// input's) value-to-bin lookup.
func inputInfo(c *scorecard.Characteristic) charInfo {
	ci := charInfo{name: c.Name, kind: c.Binning().Kind, look: c.Lookup()}
	if ci.kind == binning.Categorical {
		ci.cat = map[string]catSlot{}
		for _, b := range c.Bins {
			for _, v := range append(slices.Clone(b.Values), "") {
				ci.cat[v] = catSlot{v: v, code: ci.look.CatCode(v, false), ok: true}
			}
		}
		ci.null = ci.look.CatCode("", true)
	}
	return ci
}

// noReason is the priority of a bin at its characteristic's best points.
const noReason = math.MaxInt32

// NewScorer prepares m for scoring under rules.
func NewScorer(m *scorecard.Model, rules Rules) (*Scorer, error) {
	dec, err := newDecider(rules, m.Scaling)
	if err != nil {
		return nil, fmt.Errorf("score: rules: %w", err)
	}
	s := &Scorer{Model: m, dec: dec, base: m.Base(), decNames: decisions}
	cat, err := scorecard.DefaultReasonCatalog()
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	type cand struct {
		j, k int
		gap  float64
	}
	var cands []cand
	for j := range m.Chars {
		c := &m.Chars[j]
		var ci charInfo
		if c.IsPair() {
			a, b := inputInfo(&c.Inputs[0]), inputInfo(&c.Inputs[1])
			ci = charInfo{name: c.Name, look: c.Lookup(), axes: []*charInfo{&a, &b}}
		} else {
			ci = inputInfo(c)
		}
		best := math.Inf(-1)
		for _, b := range c.Bins {
			best = math.Max(best, b.Points)
		}
		ci.prio = make([]int32, len(c.Bins))
		for k, b := range c.Bins {
			ci.prio[k] = noReason
			if gap := best - b.Points; gap > 0 {
				cands = append(cands, cand{j, k, gap})
			}
		}
		s.chars = append(s.chars, ci)
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.gap != b.gap {
			if a.gap > b.gap {
				return -1
			}
			return 1
		}
		return strings.Compare(m.Chars[a.j].Name, m.Chars[b.j].Name)
	})
	for p, c := range cands {
		s.chars[c.j].prio[c.k] = int32(p)
		code, text := cat.ReasonCode(&m.Chars[c.j], c.k)
		s.reasons = append(s.reasons, code)
		s.texts = append(s.texts, text)
	}
	return s, nil
}

// Cutoffs returns the minimum score of grades A..D.
func (s *Scorer) Cutoffs() [4]float64 { return s.dec.cuts }

// Layout says where the scorer finds its inputs in a record batch.
type Layout struct {
	ID     int   // entity id column (string), or −1 (the row's 1-based ordinal is used)
	Chars  []int // column of each characteristic (a pair's first input), in card order
	Pairs  []int // column of each pair's second input, −1 for a one-input characteristic (nil: no pairs)
	Flags  int   // ';'-joined fraud flags (string, no NULLs), or −1
	Target int   // 1/0 outcome (numeric, NULL = unknown), or −1
}

// Unit is a run of consecutive input rows scored together.
type Unit struct {
	Seq   int
	Start int64 // 0-based ordinal of the first row
	Recs  []arrow.RecordBatch
	N     int
}

// Result is a scored unit.
type Result struct {
	Seq       int
	Rec       arrow.RecordBatch // the rows in Output's schema
	CSV       []byte            // the rows as CSV (no header), when Output.CSV
	N         int
	Fallbacks []int
	Monitor   *monitor.Monitor
	PD, Y     []float64 // valid until Release; Y only with a target (NaN = unknown)
	Grades    [5]int64
	Decisions [3]int64 // by decision code (see Decision)
	Err       error
	bufs      *unitBufs
}

// Release frees the result's batch and hands its buffers back to s for
// the next unit. The result must not be used afterwards.
func (s *Scorer) Release(r *Result) {
	if r.Rec != nil {
		r.Rec.Release()
		r.Rec = nil
	}
	if r.bufs != nil {
		s.bufs.Put(r.bufs)
		r.bufs = nil
	}
	r.CSV, r.PD = nil, nil
}

// decisions are the decisions in decision-code order (an array value,
// copied, never changed).
var decisions = [3]string{Approve, Review, Decline}

// Decision returns the decision of a decision code.
func Decision(code int) string { return decisions[code] }

// SetDecisionNames sets the words the output gives the decision codes
// (approve, review, decline), e.g. Rules.DecisionNames("bcard"). Call it
// before NewOutput.
func (s *Scorer) SetDecisionNames(names [3]string) { s.decNames = names }

// DecisionName returns the word of a decision code in this scorer's
// output.
func (s *Scorer) DecisionName(code int) string { return s.decNames[code] }

// tileRows is how many rows Score takes through all the characteristics
// at a time: a tile's working columns stay in the core's cache. DuckDB
// hands its rows over in vectors of this size.
const tileRows = 2048

// tile is a tile's working columns.
type tile struct {
	kb, kb2    []int32 // two characteristics' bins
	kp         []int32 // a pair's second input's bins
	total      []int64 // fixed-point points so far
	t0, t1, t2 []int32 // the three lowest reason priorities so far
	scores     []float64
	buf        []float64 // non-float64 numeric values
	cnt        [][]int64 // per characteristic, rows per bin
}

// Score scores a unit into o's layout.
func (s *Scorer) Score(u *Unit, lay Layout, o *Output) *Result {
	n := u.N
	b := s.getBufs(n)
	res := &Result{Seq: u.Seq, N: n, bufs: b, Fallbacks: make([]int, len(s.chars)), Monitor: monitor.New(s.Model)}
	fail := func(err error) *Result {
		s.Release(res)
		res.Err = err
		return res
	}
	ids, err := b.strings(u, lay.ID, &b.ids, &b.idOff, &b.idValid)
	if err != nil {
		return fail(err)
	}
	defer ids.Release()
	var flags *array.String
	if lay.Flags >= 0 {
		if flags, err = b.strings(u, lay.Flags, &b.flags, &b.flOff, &b.flValid); err != nil {
			return fail(err)
		}
		defer flags.Release()
	}
	if lay.Target >= 0 {
		t, err := column(charInfo{name: "target", kind: binning.Numeric}, u, lay.Target)
		if err != nil {
			return fail(err)
		}
		res.Y = t.Num
	}
	var csv []byte
	if o.CSV {
		csv = b.csv[:0]
	}
	idPlain := plainCSV(ids.ValueBytes())
	caches := make([][2]*catCache, len(s.chars))
	for j := range s.chars {
		ci := &s.chars[j]
		if ci.axes == nil && ci.kind == binning.Categorical {
			caches[j][0] = newCatCache(ci)
		}
		for k, a := range ci.axes {
			if a.kind == binning.Categorical {
				caches[j][k] = newCatCache(a)
			}
		}
	}
	row := 0
	for _, rec := range u.Recs {
		m := int(rec.NumRows())
		for lo := 0; lo < m; lo += tileRows {
			hi := min(m, lo+tileRows)
			t := rec
			if lo > 0 || hi < m {
				t = rec.NewSlice(int64(lo), int64(hi))
			}
			err := s.scoreTile(t, lay, o, caches, res, row)
			if t != rec {
				t.Release()
			}
			if err != nil {
				return fail(err)
			}
			if o.CSV {
				csv = appendRows(csv, o, ids, idPlain, flags, b, row, row+hi-lo)
			}
			row += hi - lo
		}
	}
	b.csv = csv
	res.CSV = csv
	res.PD = b.pd
	for j, c := range b.tile.cnt {
		res.Monitor.AddBins(j, c)
	}
	res.Rec = o.batch(b, ids, flags, n)
	return res
}

// scoreTile scores the rows of t, rows row.. of the unit.
func (s *Scorer) scoreTile(t arrow.RecordBatch, lay Layout, o *Output, caches [][2]*catCache, res *Result, row int) error {
	b := res.bufs
	w := &b.tile
	m := int(t.NumRows())
	total := w.total[:m]
	t0, t1, t2 := w.t0[:m], w.t1[:m], w.t2[:m]
	for i := range total {
		total[i] = s.base
		t0[i], t1[i], t2[i] = noReason, noReason, noReason
	}
	input := func(ci *charInfo, cache *catCache, col int, kb []int32) (int, error) {
		a := t.Column(col)
		var fb int
		var err error
		if ci.kind == binning.Numeric {
			fb, w.buf, err = binNumeric(ci, a, kb, w.buf)
		} else {
			fb, err = cache.bin(a, kb)
		}
		return fb, err
	}
	// A pair's cells: its first input's bins × its second's count plus
	// its second input's bins; a row counts a fallback per input.
	bin := func(j int, kb []int32) error {
		ci := &s.chars[j]
		if ci.axes == nil {
			fb, err := input(ci, caches[j][0], lay.Chars[j], kb)
			res.Fallbacks[j] += fb
			return err
		}
		fa, err := input(ci.axes[0], caches[j][0], lay.Chars[j], kb)
		if err != nil {
			return err
		}
		kp := w.kp[:m]
		fb, err := input(ci.axes[1], caches[j][1], lay.Pairs[j], kp)
		ci.look.Cells(kb, kp)
		res.Fallbacks[j] += fa + fb
		return err
	}
	// Two characteristics per pass over the running columns.
	nc := len(s.chars)
	for j := 0; j < nc; j += 2 {
		ka := w.kb[:m]
		if err := bin(j, ka); err != nil {
			return err
		}
		a := &s.chars[j]
		if j+1 == nc {
			accumulate(ka, total, t0, t1, t2, a.look.Fixed, a.prio, w.cnt[j])
			break
		}
		kb := w.kb2[:m]
		if err := bin(j+1, kb); err != nil {
			return err
		}
		b := &s.chars[j+1]
		accumulate2(ka, kb, total, t0, t1, t2, a.look.Fixed, b.look.Fixed, a.prio, b.prio, w.cnt[j], w.cnt[j+1])
	}
	scores := w.scores[:m]
	pd, ints, grades, decs := b.pd[row:row+m], b.score[row:row+m], b.grade[row:row+m], b.dec[row:row+m]
	for i, tot := range total {
		sc := scorecard.ScoreOf(tot)
		scores[i] = sc
		pd[i] = s.Model.Scaling.PD(sc)
		is := int32(math.Round(sc))
		ints[i] = is
		g := s.dec.grade(is)
		grades[i] = int32(g)
		res.Grades[g]++
	}
	if lay.Flags < 0 {
		for i, g := range grades {
			d := s.dec.codes[g]
			decs[i] = d
			res.Decisions[d]++
		}
	} else {
		fl := t.Column(lay.Flags).(*array.String)
		for i, g := range grades {
			d := decisionCode(s.dec.decide(int(g), fl.Value(i)))
			decs[i] = d
			res.Decisions[d]++
		}
	}
	for k, tk := range [Reasons][]int32{t0, t1, t2} {
		r, x, valid := b.reason[k][row:row+m], b.text[k][row:row+m], b.valid[k]
		for i, p := range tk {
			if p != noReason {
				r[i], x[i] = o.reasonIdx[p], o.textIdx[p]
				bitutil.SetBit(valid, row+i)
			} else {
				r[i], x[i] = 0, 0
			}
		}
	}
	res.Monitor.AddScores(scores)
	return nil
}

func decisionCode(d string) int32 {
	switch d {
	case Approve:
		return 0
	case Review:
		return 1
	}
	return 2
}
