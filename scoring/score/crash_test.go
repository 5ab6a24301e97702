//go:build duckdb_arrow

package score_test

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"qiandun/scoring/publish"
	"qiandun/scoring/score"
)

// TestMain runs the test binary as TestKillMidWrite's child process when
// QIANDUN_SCORE_HELPER=1.
func TestMain(m *testing.M) {
	if os.Getenv("QIANDUN_SCORE_HELPER") == "1" {
		helperScore()
	}
	os.Exit(m.Run())
}

// helperScore scores the file named in the environment (and pauses where
// QIANDUN_PUBLISH_PAUSE says).
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

// startHelper runs the helper until it reports the pause, and returns it.
func startHelper(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), "QIANDUN_SCORE_HELPER=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	paused := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "publish paused") {
				paused <- sc.Text()
			}
		}
		close(paused)
	}()
	select {
	case line, ok := <-paused:
		if !ok {
			cmd.Wait()
			t.Fatal("helper exited without pausing")
		}
		t.Log(line)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("helper did not pause")
	}
	return cmd
}

// checkConsumerView asserts what a consumer may rely on: every directory
// under out holding _SUCCESS verifies (complete files, checksums match),
// and the published path either verifies or does not exist.
func checkConsumerView(t *testing.T, out string) (published bool) {
	t.Helper()
	final := filepath.Join(out, "2024-01-31")
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == publish.Marker {
			if _, err := publish.Verify(filepath.Dir(p)); err != nil {
				t.Fatalf("_SUCCESS beside incomplete files: %v", err)
			}
		}
		return nil
	})
	if _, err := os.Stat(final); err != nil {
		return false
	}
	if _, err := publish.Verify(final); err != nil {
		t.Fatalf("published directory incomplete: %v", err)
	}
	return true
}

// TestKillMidWrite kills the scoring process (SIGKILL) while it writes,
// first with no earlier output, then while replacing an earlier run, and
// shows that _SUCCESS is never beside incomplete files, that an earlier
// run stays intact, and that a re-run completes and cleans up.
func TestKillMidWrite(t *testing.T) {
	modelDir, data := trainGerman(t)
	out := filepath.Join(t.TempDir(), "scores")
	env := []string{"HELPER_DATA=" + data, "HELPER_MODEL=" + modelDir, "HELPER_OUT=" + out}

	// 1. No earlier output: killed with scores.csv half written.
	cmd := startHelper(t, append(env, publish.PauseEnv+"=scores.csv:partial")...)
	if checkConsumerView(t, out) {
		t.Fatal("a directory was published while the writer was still writing")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if checkConsumerView(t, out) {
		t.Fatal("a killed writer published a directory")
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), ".2024-01-31.tmp-") {
		t.Fatalf("after the kill, want one temporary directory, have %v", ents)
	}
	if _, err := os.Stat(filepath.Join(out, ents[0].Name(), publish.Marker)); err == nil {
		t.Fatal("_SUCCESS in the killed writer's directory")
	}

	// 2. Re-run completes and removes the dead writer's directory.
	run(t, score.Options{Data: data, ID: "id", Models: []string{modelDir}, Out: out, AsOf: "2024-01-31"})
	if !checkConsumerView(t, out) {
		t.Fatal("re-run did not publish")
	}
	if ents, _ := os.ReadDir(out); len(ents) != 1 {
		t.Fatalf("after the re-run the output holds %v", ents)
	}
	before, _ := os.ReadFile(filepath.Join(out, "2024-01-31", publish.ManifestName))

	// 3. Replacing that run (different cut-offs, so different files):
	// killed with every new file written, just before the rename, and
	// killed with the CSV half written. The earlier run stays intact.
	for _, at := range []string{"rename", "scores.csv:partial", "scores.parquet"} {
		cmd := startHelper(t, append(env, publish.PauseEnv+"="+at, "HELPER_CUTOFF=640")...)
		checkConsumerView(t, out)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if !checkConsumerView(t, out) {
			t.Fatalf("killed at %s: the earlier run disappeared", at)
		}
		now, _ := os.ReadFile(filepath.Join(out, "2024-01-31", publish.ManifestName))
		if string(now) != string(before) {
			t.Fatalf("killed at %s: the earlier run changed", at)
		}
	}
	// 4. An uninterrupted replacement publishes the new run.
	c := exec.Command(os.Args[0])
	c.Env = append(append(os.Environ(), "QIANDUN_SCORE_HELPER=1", "HELPER_CUTOFF=640"), env...)
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, b)
	}
	if !checkConsumerView(t, out) {
		t.Fatal("replacement not published")
	}
	now, _ := os.ReadFile(filepath.Join(out, "2024-01-31", publish.ManifestName))
	if string(now) == string(before) {
		t.Fatal("replacement did not replace")
	}
	if ents, _ := os.ReadDir(out); len(ents) != 1 {
		t.Fatalf("after the replacement the output holds %v", ents)
	}
}
