package flatgen

import (
	"bytes"
	"encoding/csv"
	"math"
	"testing"
)

// The table the speed floor describes: 20 characteristics and the target,
// a bad rate near 0.14, four characteristics about 5% missing, the same
// bytes for the same seed and different ones for another.
func TestWrite(t *testing.T) {
	const n = 50000
	var a, b, c bytes.Buffer
	if err := Write(&a, n, 1); err != nil {
		t.Fatal(err)
	}
	Write(&b, n, 1)
	Write(&c, n, 2)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("not deterministic by seed")
	}
	recs, err := csv.NewReader(&a).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+1 || len(recs[0]) != 21 || recs[0][20] != "bad" {
		t.Fatalf("%d rows, header %v", len(recs), recs[0])
	}
	missing := make([]int, 20)
	bads := 0
	for _, r := range recs[1:] {
		for j, v := range r[:20] {
			if v == "" {
				missing[j]++
			}
		}
		if r[20] == "1" {
			bads++
		}
	}
	if rate := float64(bads) / n; math.Abs(rate-0.14) > 0.02 {
		t.Errorf("bad rate %.4f, want about 0.14", rate)
	}
	var withMissing int
	for j, m := range missing {
		share := float64(m) / n
		switch {
		case share == 0:
		case share > 0.03 && share < 0.07:
			withMissing++
		default:
			t.Errorf("column %s: %.3f missing", recs[0][j], share)
		}
	}
	if withMissing != 4 {
		t.Errorf("%d columns with missing values, want 4", withMissing)
	}
}
