package reconcile

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"qiandun/data/gen"
	"qiandun/data/ingest"
)

// generatedLake generates a book (no --dirty) with custody breaks at
// rate and ingests it; it returns the lake and the generator's truth.
func generatedLake(t testing.TB, loans int, rate float64) (string, gen.CustodyTruth) {
	t.Helper()
	raw, lk := t.TempDir(), t.TempDir()
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Seed, cfg.CustodyBreaks = loans, 11, rate
	if _, err := gen.Generate(context.Background(), cfg, raw, nil); err != nil {
		t.Fatal(err)
	}
	_, err := ingest.Run(context.Background(), ingest.Options{Raw: raw, Lake: lk, MaxRejectRate: 0.01,
		Key: []byte("reconcile-test-key-0123456789abcdef"), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(raw, "_truth", "custody.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ct gen.CustodyTruth
	if err := json.Unmarshal(js, &ct); err != nil {
		t.Fatal(err)
	}
	return lk, ct
}

// TestGeneratedBreaks: reconciling a generated book's whole window
// finds exactly the breaks the generator injected, kind by kind, and the
// migration moves as much as was held (bar the injected differences).
func TestGeneratedBreaks(t *testing.T) {
	lk, ct := generatedLake(t, 2000, 0.05)
	m, _, err := Run(context.Background(), Options{Lake: lk, Out: t.TempDir(), From: mustDay("2021-01-01"),
		To: mustDay("2023-12-31"), Window: DefaultWindow, Tolerance: DefaultTolerance, MaxOpenAmount: -1, MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, k := range Kinds {
		if got, want := m.Breaks[k], int64(ct.Breaks[k]); got != want {
			t.Errorf("%s: found %d, injected %d", k, got, want)
		}
		total += ct.Breaks[k]
		if ct.Breaks[k] == 0 {
			t.Errorf("no %s break injected: the test would not see that kind", k)
		}
	}
	if m.Open["timing"] != 0 || m.Breaks["timing"] == 0 {
		t.Errorf("timing breaks %d, of which open %d: every late posting is in the window", m.Breaks["timing"], m.Open["timing"])
	}
	t.Logf("%d breaks injected and found; %d records matched", total, m.Matched)
}
