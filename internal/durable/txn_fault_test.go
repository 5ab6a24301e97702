//go:build killpoints

package durable

import (
	"fmt"
	"strings"
	"testing"
)

// TestFaultEveryStep makes each publication step of a commit fail as a
// full disk would (QIANDUN_FAULT=ENOSPC@N): the commit returns an error
// naming "no space left on device", and the root then shows the whole
// previous state or (for a step after the commit point) the whole new
// one, with no debris once recovered.
func TestFaultEveryStep(t *testing.T) {
	faults := 0
	for n := 1; ; n++ {
		root := t.TempDir()
		out, err := commitInChild(t, root, fmt.Sprintf("QIANDUN_FAULT=ENOSPC@%d", n))
		if err == nil {
			if n < 3 {
				t.Fatalf("no step failed at fault %d", n)
			}
			break
		}
		if !strings.Contains(string(out), "no space left on device") {
			t.Fatalf("fault %d: the error does not say the disk is full:\n%s", n, out)
		}
		faults++
		got := tree(t, root)
		chainOld, chainNew := got["t/x"] == "1" && got["_m/a.json"] == "a1", got["t/x"] == "2" && got["_m/a.json"] == "a2"
		if !chainOld && !chainNew || got["keep/k"] != "k" {
			t.Fatalf("fault %d: a mix before recovery: %v", n, got)
		}
		if err := Recover(root); err != nil {
			t.Fatalf("fault %d: recover: %v", n, err)
		}
		if ents := versionEntries(t, root, "a"); len(ents) != 2 {
			t.Fatalf("fault %d: debris %v", n, ents)
		}
	}
	if faults < 5 {
		t.Fatalf("only %d faults injected", faults)
	}
	t.Logf("%d faults injected", faults)
}
