package perf

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
)

// TestRunRandomBook runs the whole stage on a generated book and checks
// invariants every output must satisfy.
func TestRunRandomBook(t *testing.T) {
	b := randomBook(rand.New(rand.NewPCG(7, 7)), 800)
	lk := writeLake(t, b)
	cfg := DefaultConfig()
	cfg.AsOf = day("2024-06-30")
	res, err := Run(context.Background(), lk, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outputs {
		if !lk.Exists(o.table) {
			t.Errorf("%s not published", o.table)
		}
	}
	if _, err := os.Stat(lk.ManifestPath("perf")); err != nil {
		t.Error(err)
	}
	t.Logf("%+v", res.Counts)
	PrintMaturation(os.Stdout, res.Maturation, 12)
	PrintDisclosure(os.Stdout, res.Disclosure)
	t.Logf("%+v", res.LGD)
}
