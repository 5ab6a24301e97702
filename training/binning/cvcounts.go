package binning

import (
	"fmt"
	"math"
	"slices"
)

// foldCounts is a column's good and bad counts per fold and per atom (a
// distinct regular value of a numeric column, a dictionary code of a
// categorical one), per special value and for the missing values: all
// that the bins searched on some folds and the held-out likelihood of the
// others depend on. The column is sorted once; each fold's training atoms
// are the sums over the other folds, so cross-validation costs no sort
// and no pass over the rows per fold or per setting.
type foldCounts struct {
	kind     Kind
	k        int
	vals     []float64  // numeric: distinct regular values, ascending
	dict     []string   // categorical: the dictionary
	specials []float64  // numeric: the special values
	cnt      [][2]int64 // [atom*k+f]: goods, bads of atom in fold f
	spec     [][2]int64 // [s*k+f]: of special value s in fold f
	miss     [][2]int64 // [f]: of the missing values in fold f
}

// newFoldCounts counts col's rows by fold (folds[i] in 0..k-1) and class.
func newFoldCounts(col *Column, y []float64, folds []int, k int, specials []float64) *foldCounts {
	fc := &foldCounts{kind: col.Kind, k: k, miss: make([][2]int64, k)}
	cls := func(i int) int {
		if y[i] == 1 {
			return 1
		}
		return 0
	}
	if col.Kind == Categorical {
		fc.dict = col.Dict
		fc.cnt = make([][2]int64, len(col.Dict)*k)
		for i, c := range col.Codes {
			if c < 0 {
				fc.miss[folds[i]][cls(i)]++
				continue
			}
			fc.cnt[int(c)*k+folds[i]][cls(i)]++
		}
		return fc
	}
	fc.specials = specials
	fc.spec = make([][2]int64, len(specials)*k)
	reg := make([]float64, 0, len(col.Num))
	for _, v := range col.Num {
		if !math.IsNaN(v) && !isSpecial(v, specials) {
			reg = append(reg, v)
		}
	}
	sortFloats(reg)
	fc.vals = slices.Compact(reg)
	fc.cnt = make([][2]int64, len(fc.vals)*k)
	for i, v := range col.Num {
		f := folds[i]
		switch {
		case math.IsNaN(v):
			fc.miss[f][cls(i)]++
		case len(specials) > 0 && isSpecial(v, specials):
			fc.spec[slices.Index(specials, v)*k+f][cls(i)]++
		default:
			a, _ := slices.BinarySearch(fc.vals, v)
			fc.cnt[a*k+f][cls(i)]++
		}
	}
	return fc
}

// sum returns the counts of rows [r*k, r*k+k) outside fold f (f < 0:
// all) and inside it.
func (fc *foldCounts) sum(c [][2]int64, r, f int) (out, in [2]int64) {
	for g := range fc.k {
		v := c[r*fc.k+g]
		if g == f {
			in = v
			continue
		}
		out[0] += v[0]
		out[1] += v[1]
	}
	return out, in
}

// outside is the counts of the rows outside one fold: what fit on those
// rows would count before its search (the same for every setting).
type outside struct {
	atoms []atom     // numeric: distinct regular values with rows
	spc   [][2]int64 // numeric: per special value
	cnt   [][2]int64 // categorical: per code, 0 for the empty value
	miss  [2]int64
}

// outside returns the counts of the rows outside fold f.
func (fc *foldCounts) outside(f int) *outside {
	out := &outside{}
	for g := range fc.k {
		if g != f {
			out.miss[0] += fc.miss[g][0]
			out.miss[1] += fc.miss[g][1]
		}
	}
	if fc.kind == Categorical {
		out.cnt = make([][2]int64, len(fc.dict))
		for c, v := range fc.dict {
			o, _ := fc.sum(fc.cnt, c, f)
			if v == "" { // the empty value is missing
				out.miss[0] += o[0]
				out.miss[1] += o[1]
				continue
			}
			out.cnt[c] = o
		}
		return out
	}
	out.atoms = make([]atom, 0, len(fc.vals))
	for a, v := range fc.vals {
		if o, _ := fc.sum(fc.cnt, a, f); o[0]+o[1] > 0 {
			out.atoms = append(out.atoms, atom{x: v, good: o[0], bad: o[1], count: o[0] + o[1]})
		}
	}
	out.spc = make([][2]int64, len(fc.specials))
	for s := range out.spc {
		out.spc[s], _ = fc.sum(fc.spec, s, f)
	}
	return out
}

// fitOutside bins the rows counted in out under o exactly as fit does on
// those rows.
func (fc *foldCounts) fitOutside(name string, out *outside, o Options) (*Binning, error) {
	b := &Binning{Variable: name, Kind: fc.kind}
	var err error
	if fc.kind == Categorical {
		err = b.fitCategoricalCounts(fc.dict, out.cnt, out.miss, o, nil)
	} else {
		err = b.fitNumericAtoms(out.atoms, out.miss, out.spc, o, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("binning %s: %w", name, err)
	}
	if err := b.finish(o); err != nil {
		return nil, fmt.Errorf("binning %s: %w", name, err)
	}
	return b, nil
}

// atomColumn is one row per atom, then per special value, then a missing
// row: binned by Index, it gives the bin every row of that atom takes.
func (fc *foldCounts) atomColumn() *Column {
	if fc.kind == Categorical {
		codes := make([]int32, len(fc.dict)+1)
		for c := range fc.dict {
			codes[c] = int32(c)
		}
		codes[len(fc.dict)] = -1
		return &Column{Kind: Categorical, Codes: codes, Dict: fc.dict}
	}
	num := make([]float64, 0, len(fc.vals)+len(fc.specials)+1)
	num = append(append(append(num, fc.vals...), fc.specials...), math.NaN())
	return &Column{Kind: Numeric, Num: num}
}

// outsides returns the counts outside each fold.
func (fc *foldCounts) outsides() []*outside {
	outs := make([]*outside, fc.k)
	for f := range outs {
		outs[f] = fc.outside(f)
	}
	return outs
}

// logLik is CVLogLik from the counts (outs: fc.outsides()): for each fold, the bins fitted on
// the other folds, and the fold's rows predicted by their bin's log odds
// (the other folds' log odds plus the bin's WoE).
func (fc *foldCounts) logLik(name string, o Options, ac *Column, outs []*outside) (float64, error) {
	o = o.WithDefaults()
	nAtoms := len(fc.cnt) / max(fc.k, 1)
	var total float64
	for f := range fc.k {
		b, err := fc.fitOutside(name, outs[f], o)
		if err != nil {
			return math.Inf(-1), err
		}
		var bads, goods float64
		for _, bin := range b.Bins {
			bads += float64(bin.Bad)
			goods += float64(bin.Good)
		}
		prior := math.Log(bads / goods)
		idx, _ := b.Index(ac)
		// −log-likelihood of a good and of a bad in each bin, once per
		// bin rather than once per atom.
		sp := make([][2]float64, len(b.Bins))
		for k, bin := range b.Bins {
			eta := prior + bin.WoE
			sp[k] = [2]float64{softplus(eta), softplus(-eta)}
		}
		add := func(row int, in [2]int64) {
			if in[0]+in[1] == 0 {
				return
			}
			l := sp[idx[row]]
			total -= float64(in[1])*l[1] + float64(in[0])*l[0]
		}
		for a := range nAtoms {
			_, in := fc.sum(fc.cnt, a, f)
			add(a, in)
		}
		for s := range fc.specials {
			_, in := fc.sum(fc.spec, s, f)
			add(nAtoms+s, in)
		}
		add(ac.Len()-1, fc.miss[f])
	}
	return total, nil
}
