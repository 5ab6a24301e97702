package binning_test

import (
	"math"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/internal/gcredit"
)

// Given the reference's bins, every bin's counts, WoE and IV and every
// characteristic's total IV match the independent implementation.
func TestGermanCreditReferenceBins(t *testing.T) {
	d, err := gcredit.Load()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := gcredit.LoadReference()
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Variables) != 20 {
		t.Fatalf("reference has %d variables, want 20", len(ref.Variables))
	}
	for name, rv := range ref.Variables {
		col := d.Cols[name]
		if col == nil {
			t.Fatalf("%s: not in data", name)
		}
		b, err := binning.Apply(col, d.Y, rv.Spec(), binning.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(b.Bins) != len(rv.Bins) {
			t.Fatalf("%s: %d bins, reference %d", name, len(b.Bins), len(rv.Bins))
		}
		for i, rb := range rv.Bins {
			g := b.Bins[i]
			if g.Count != rb.Count || g.Good != rb.Good || g.Bad != rb.Bad {
				t.Errorf("%s bin %s: count/good/bad %d/%d/%d, reference %d/%d/%d", name, rb.Bin, g.Count, g.Good, g.Bad, rb.Count, rb.Good, rb.Bad)
			}
			if math.Abs(g.WoE-rb.WoE) > 1e-6 {
				t.Errorf("%s bin %s: WoE %.10f, reference %.10f", name, rb.Bin, g.WoE, rb.WoE)
			}
			if math.Abs(g.IV-rb.BinIV) > 1e-6 {
				t.Errorf("%s bin %s: IV %.10f, reference %.10f", name, rb.Bin, g.IV, rb.BinIV)
			}
		}
		if math.Abs(b.IV-rv.TotalIV) > 1e-6 {
			t.Errorf("%s: IV %.10f, reference %.10f", name, b.IV, rv.TotalIV)
		}
	}
}
