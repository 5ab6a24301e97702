package gen

import (
	"bytes"
	"strings"
	"testing"
)

// TestRepairRowsLeaveTheBookAlone generates chunks of a dirty book with
// and without the lost-contact repair rows: every table but applications
// is byte-identical, applications only gains rows at the chunk's end, and
// every truth row names an application written there (or none), for a
// loan whose collection ended in lost contact.
func TestRepairRowsLeaveTheBookAlone(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Loans, cfg.Dirty = 3000, 0.01
	with, without := newWorld(cfg), newWorld(cfg)
	without.noRepair = true
	kinds := map[string]int{}
	for c := range cfg.Loans / chunkLoans {
		a, b := with.genChunk(c), without.genChunk(c)
		for i := range nTables {
			x, y := a.tables[i].buf, b.tables[i].buf
			if i != tApplications {
				if !bytes.Equal(x, y) {
					t.Fatalf("chunk %d: table %d differs with the repair rows", c, i)
				}
				continue
			}
			if !bytes.HasPrefix(x, y) {
				t.Fatalf("chunk %d: applications differ before the repair rows", c)
			}
			extra := string(x[len(y):])
			for _, line := range strings.Split(strings.TrimSpace(string(a.repair)), "\n") {
				f := strings.Split(line, ",")
				if len(f) != 7 {
					t.Fatalf("truth row %q: %d fields", line, len(f))
				}
				kinds[f[3]]++
				if f[3] == "none" {
					continue
				}
				if !strings.Contains(extra, f[4]+",") || !strings.Contains(extra, f[4]+","+"B") {
					t.Errorf("truth row %q: application %s not among the chunk's repair rows", line, f[4])
				}
				if want := map[string]string{"new_phone": "1", "linked_device": "1", "decoy_ip": "0"}[f[3]]; f[6] != want {
					t.Errorf("truth row %q: reaches %s, want %s", line, f[6], want)
				}
				if f[5] <= f[2] && f[3] != "decoy_ip" {
					t.Errorf("truth row %q: the channel's application is not after the loss", line)
				}
			}
			if n := strings.Count(extra, "\n"); n != a.tables[i].lines-b.tables[i].lines {
				t.Errorf("chunk %d: %d extra lines, line count grew by %d", c, n, a.tables[i].lines-b.tables[i].lines)
			}
		}
	}
	t.Logf("truth channels: %v", kinds)
	for _, k := range []string{"new_phone", "linked_device", "decoy_ip", "none"} {
		if kinds[k] < 10 {
			t.Errorf("only %d truth rows of channel %s in a %d-loan book", kinds[k], k, cfg.Loans)
		}
	}
}
