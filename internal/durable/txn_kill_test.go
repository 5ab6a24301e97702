//go:build killpoints

package durable

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKillChild is the child process of TestKillEveryStep: it commits
// version 2 of two chains over the version 1 the parent made.
func TestKillChild(t *testing.T) {
	root := os.Getenv("DURABLE_KILL_ROOT")
	if root == "" {
		return // run only as the child
	}
	commitFiles(t, root, "a", []string{"keep"}, map[string]string{"t/x": "2", "_m/a.json": "a2"}, "t", "keep", "_m/a.json")
	if err := WriteFile(filepath.Join(root, "loose.json"), []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// commitInChild lays version 1 under root, then runs TestKillChild in a
// child process with env set (a kill point or a fault) to commit
// version 2 over it, and returns the child's output and exit.
func commitInChild(t *testing.T, root, env string) ([]byte, error) {
	t.Helper()
	commitFiles(t, root, "a", nil, map[string]string{"t/x": "1", "keep/k": "k", "_m/a.json": "a1"}, "t", "keep", "_m/a.json")
	WriteFile(filepath.Join(root, "loose.json"), []byte("1"), 0o644)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$")
	cmd.Env = append(os.Environ(), "DURABLE_KILL_ROOT="+root, env)
	return cmd.CombinedOutput()
}

// TestKillEveryStep kills a commit at each of its publication steps
// (SIGKILL from inside, at the step) and checks that after Recover the
// root shows the whole previous state or the whole new one, with no
// debris, and that the next commit goes through.
func TestKillEveryStep(t *testing.T) {
	v1 := map[string]string{"t/x": "1", "keep/k": "k", "_m/a.json": "a1", "loose.json": "1"}
	v2 := map[string]string{"t/x": "2", "keep/k": "k", "_m/a.json": "a2", "loose.json": "2"}
	steps := 0
	for n := 1; ; n++ {
		root := t.TempDir()
		out, err := commitInChild(t, root, fmt.Sprintf("QIANDUN_KILLPOINT=%d", n))
		killed := err != nil && strings.Contains(err.Error(), "killed")
		if err != nil && !killed {
			t.Fatalf("child: %v\n%s", err, out)
		}
		if err := Recover(root); err != nil {
			t.Fatalf("kill point %d: recover: %v", n, err)
		}
		got := tree(t, root)
		// The loose file is its own commit: judge the chain and the file apart.
		chainOld, chainNew := got["t/x"] == "1" && got["_m/a.json"] == "a1", got["t/x"] == "2" && got["_m/a.json"] == "a2"
		if !chainOld && !chainNew || got["keep/k"] != "k" || len(got) != len(v1) {
			t.Fatalf("kill point %d: a mix after recovery: %v", n, got)
		}
		if ents := versionEntries(t, root, "a"); len(ents) != 2 {
			t.Fatalf("kill point %d: debris %v", n, ents)
		}
		if !killed {
			equalTree(t, got, v2)
			steps = n - 1
			break
		}
	}
	if steps < 5 {
		t.Fatalf("only %d kill points exercised", steps)
	}
	t.Logf("%d kill points exercised", steps)
}
