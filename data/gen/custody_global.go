package gen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// globalOut makes the platform's and the guarantor's statement lines,
// gathered from every chunk, as a last chunk of the custody table (with
// its own --dirty stream).
func (w *world) globalOut(global []cline) (*chunkOut, error) {
	cg := globalCustody(w, global)
	out := &chunkOut{}
	t := &out.tables[tCustody]
	t.table = tCustody
	var orphans int
	if w.cfg.Dirty > 0 {
		t.inj = &injector{
			r:          rand.New(rand.NewPCG(w.cfg.Seed^0x9e3779b97f4a7c15, uint64(globalChunk)*16+tCustody)),
			rate:       w.cfg.Dirty,
			spec:       w.specs[tCustody],
			orphans:    &orphans,
			orphanBase: orphanBase + int64(globalChunk)*idStrideRing,
		}
	}
	cg.finish(t)
	if t.inj != nil {
		out.counts[tCustody] = t.inj.counts
		t.inj = nil
	}
	out.breaks = cg.breaks
	if w.cfg.Encoding == "gbk" {
		if err := encodeGBK(out); err != nil {
			return nil, fmt.Errorf("gen: custody: %w", err)
		}
	}
	return out, nil
}

// CustodyTruth is _truth/custody.json: the custody migration and the
// reconciliation breaks --custody-breaks injected, by kind. On a book
// generated without --dirty, reconciling the whole window finds exactly
// these.
type CustodyTruth struct {
	Seed         uint64         `json:"seed"`
	Rate         float64        `json:"rate"`
	MigrationDay string         `json:"migration_day"`
	OldBank      string         `json:"old_bank"`
	NewBank      string         `json:"new_bank"`
	Breaks       map[string]int `json:"breaks"`
	Lines        int            `json:"lines"`
	Investments  int            `json:"investments"`
}

func writeCustodyTruth(dir string, w *world, breaks [nBreakKinds]int, dt *DirtyTruth) error {
	ct := CustodyTruth{Seed: w.cfg.Seed, Rate: w.cfg.CustodyBreaks, MigrationDay: FormatDay(w.migDay),
		OldBank: bankNames[0], NewBank: bankNames[1], Breaks: map[string]int{},
		Lines: dt.Tables["custody_transactions"].DataLines, Investments: dt.Tables["investments"].DataLines}
	for k, n := range breaks {
		ct.Breaks[BreakKinds[k]] = n
	}
	js, err := json.MarshalIndent(ct, "", "  ")
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "_truth", "custody.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}
