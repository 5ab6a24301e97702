//go:build duckdb_arrow && killpoints

package score_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/scoring/publish"
	"qiandun/scoring/score"
)

// Run with: go test -tags duckdb_arrow,killpoints -run Kill ./scoring/score/
//
// TestMain runs the test binary as TestKillAtEveryStep's child process when
// QIANDUN_SCORE_HELPER=1 (the kill point comes from QIANDUN_KILLPOINT).
func TestMain(m *testing.M) {
	if os.Getenv("QIANDUN_SCORE_HELPER") == "1" {
		helperScore()
	}
	os.Exit(m.Run())
}

func helperScore() {
	rules := score.DefaultRules()
	if c := os.Getenv("HELPER_CUTOFF"); c != "" {
		var v float64
		fmt.Sscan(c, &v)
		rules.GradeCutoffs = []float64{v, v - 20, v - 40, v - 60}
	}
	_, _, err := score.Run(context.Background(), score.Options{Data: os.Getenv("HELPER_DATA"), ID: "id",
		Models: []string{os.Getenv("HELPER_MODEL")}, Out: os.Getenv("HELPER_OUT"), AsOf: "2024-01-31", BatchRows: 50, Workers: 1, Rules: rules})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helper(t *testing.T, env ...string) error {
	t.Helper()
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(append(os.Environ(), "QIANDUN_SCORE_HELPER=1"), env...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	err := c.Run()
	if err != nil && !strings.Contains(err.Error(), "killed") {
		t.Fatalf("helper: %v\n%s", err, stderr.String())
	}
	return err
}

// TestKillAtEveryStep kills the scoring process (SIGKILL, in a killpoints
// build) after each step of its publication, while it replaces an earlier
// run: the earlier run stays published and verifies, nothing but the
// committed run is visible, and a re-run publishes the new run and leaves
// no debris.
func TestKillAtEveryStep(t *testing.T) {
	modelDir, data := trainGerman(t)
	out := filepath.Join(t.TempDir(), "scores")
	final := filepath.Join(out, "2024-01-31")
	env := []string{"HELPER_DATA=" + data, "HELPER_MODEL=" + modelDir, "HELPER_OUT=" + out}
	helper(t, env...)
	before, err := os.ReadFile(filepath.Join(final, publish.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "steps")
	helper(t, append(env, "HELPER_CUTOFF=640", "QIANDUN_KILLPOINT_LOG="+log)...)
	steps, _ := os.ReadFile(log)
	n := strings.Count(string(steps), "\n")
	if n < 3 {
		t.Fatalf("only %d publication steps:\n%s", n, steps)
	}
	after, _ := os.ReadFile(filepath.Join(final, publish.ManifestName))
	if bytes.Equal(before, after) {
		t.Fatal("the replacement did not replace")
	}
	commitAt := 0 // the step that swaps the pointer: from it on the new run stands
	for i, l := range strings.Split(strings.TrimSpace(string(steps)), "\n") {
		if strings.Contains(l, " pointer ") && commitAt == 0 {
			commitAt = i + 1
		}
	}
	for k := 1; k <= n; k++ {
		helper(t, env...) // back to the earlier run
		if err := helper(t, append(env, "HELPER_CUTOFF=640", fmt.Sprintf("QIANDUN_KILLPOINT=%d", k))...); err == nil {
			t.Fatalf("kill point %d: the helper was not killed", k)
		}
		if _, err := publish.Verify(final); err != nil {
			t.Fatalf("killed after step %d: published run does not verify: %v", k, err)
		}
		got, _ := os.ReadFile(filepath.Join(final, publish.ManifestName))
		switch {
		case k < commitAt && !bytes.Equal(got, before):
			t.Fatalf("killed after step %d (before the commit point %d): the earlier run changed", k, commitAt)
		case k >= commitAt && !bytes.Equal(got, after):
			t.Fatalf("killed after step %d (after the commit point %d): the committed run is not the new one", k, commitAt)
		}
		helper(t, append(env, "HELPER_CUTOFF=640")...)
		got, _ = os.ReadFile(filepath.Join(final, publish.ManifestName))
		if !bytes.Equal(got, after) {
			t.Fatalf("re-run after kill point %d did not publish the new run", k)
		}
		ents, _ := os.ReadDir(out)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if strings.Join(names, ",") != "2024-01-31,_v" {
			t.Fatalf("after kill point %d and a re-run the output holds %v", k, names)
		}
		vers, _ := os.ReadDir(filepath.Join(out, "_v", "2024-01-31"))
		if len(vers) != 2 { // current and one version
			t.Fatalf("after kill point %d and a re-run: versions %v", k, vers)
		}
	}
	t.Logf("%d kill points exercised", n)
}
