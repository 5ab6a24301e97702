//go:build duckdb_arrow && killpoints

package main

// Kill-point tests of the stages' commits (issue 12, defects 1 and 2): the
// binary is built with the killpoints tag, each stage is killed (SIGKILL)
// after each publication step in turn, and then run again. Run with
//
//	go test -tags duckdb_arrow,killpoints -run Kill ./cmd/qiandun/

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"qiandun/internal/durable"
)

// killBin builds qiandun with the killpoints tag, once per test.
func killBin(t *testing.T) string {
	t.Helper()
	t.Setenv("QIANDUN_KEY_DIR", t.TempDir()) // the PII vault key, the same for every run of the test
	bin := filepath.Join(t.TempDir(), "qiandun")
	c := exec.Command("go", "build", "-tags", "duckdb_arrow,killpoints", "-o", bin, ".")
	c.Env = append(os.Environ(), "GOFLAGS=")
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	return bin
}

// qd runs the binary; killAt > 0 kills it after that publication step,
// log (when set) receives the steps. It returns whether it was killed.
func qd(t *testing.T, bin string, killAt int, log string, args ...string) bool {
	t.Helper()
	c := exec.Command(bin, args...)
	c.Env = append(os.Environ(), "QIANDUN_PII_KEY=kill-test-key-kill-test-key-kill-test-key")
	if killAt > 0 {
		c.Env = append(c.Env, fmt.Sprintf("QIANDUN_KILLPOINT=%d", killAt))
	}
	if log != "" {
		c.Env = append(c.Env, "QIANDUN_KILLPOINT_LOG="+log)
	}
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	if err != nil && strings.Contains(err.Error(), "signal: killed") {
		return true
	}
	if err != nil {
		t.Fatalf("qiandun %v: %v\n%s", args, err, tailStr(out.String(), 3000))
	}
	return false
}

// steps returns how many publication steps a run of args makes.
func steps(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "steps")
	qd(t, bin, 0, log, args...)
	b, _ := os.ReadFile(log)
	return strings.Count(string(b), "\n"), string(b)
}

// contents maps each file under root's paths (followed through mounted
// links, hidden names skipped) to its SHA-256. Paths that do not exist
// give no entry.
func contents(t *testing.T, root string, rels ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range rels {
		p := filepath.Join(root, r)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		err := durable.WalkFiles(p, func(f string, _ fs.FileInfo) error {
			sum, err := durable.SHA256(f)
			rel, _ := filepath.Rel(root, f)
			out[rel] = sum
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func same(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// noDebris fails on what a publication may leave: temporary and
// move-aside directories anywhere under root, anything in <lake>/_tmp but
// empty directories, and more than the committed version in a chain.
func noDebris(t *testing.T, when string, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		n := d.Name()
		rel, _ := filepath.Rel(root, p)
		switch {
		case strings.HasSuffix(n, ".old") || strings.Contains(n, ".tmp") || strings.HasSuffix(n, ".link-tmp") || strings.HasPrefix(n, "trash-"):
			t.Errorf("%s: debris %s", when, rel)
		case strings.HasPrefix(rel, "lake/_tmp/") && !d.IsDir():
			t.Errorf("%s: left in the temporary area: %s", when, rel)
		case filepath.Base(filepath.Dir(filepath.Dir(p))) == durable.VersionsDir && n != "current" && !strings.HasPrefix(rel, "lake/_tmp"):
			cur, _ := os.Readlink(filepath.Join(filepath.Dir(p), "current"))
			if n != cur {
				t.Errorf("%s: uncommitted or old version %s", when, rel)
			}
		}
		return nil
	})
}

// cpTree copies a directory tree, links as links.
func cpTree(t *testing.T, src, dst string) {
	t.Helper()
	if b, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, b)
	}
}

var lakeTables = []string{"applications", "loans", "repayment_schedule", "repayments", "bureau_inquiries", "bureau_reports", "collection_events"}

// Defect 1: ingest killed after each step of its commit, then re-run:
// the tables equal a clean run's, the quarantine holds only the genuinely
// rejected rows (no duplicate_row from rows that had landed), and nothing
// is left behind.
func TestKillIngest(t *testing.T) {
	bin := killBin(t)
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	qd(t, bin, 0, "", "gen", "--out", raw, "--loans", "400", "--dirty", "0.01")
	ingest := func(lake string) []string {
		return []string{"ingest", "--raw", raw, "--lake", lake, "--max-reject-rate", "0.2"}
	}
	clean := filepath.Join(dir, "clean", "lake")
	n, log := steps(t, bin, ingest(clean)...)
	if n < 3 {
		t.Fatalf("ingest has %d publication steps:\n%s", n, log)
	}
	rels := append(append([]string{}, lakeTables...), "_quarantine")
	want := contents(t, clean, rels...)
	if len(want) < 8 {
		t.Fatalf("clean ingest wrote %v", keys(want))
	}
	cleanMan, _ := os.ReadFile(filepath.Join(clean, "_manifests", "ingest.json"))
	for k := 1; k <= n; k++ {
		root := filepath.Join(dir, fmt.Sprintf("k%d", k))
		lake := filepath.Join(root, "lake")
		if !qd(t, bin, k, "", ingest(lake)...) {
			t.Fatalf("kill point %d: not killed", k)
		}
		// All or nothing, as the retry sees it (it recovers first): either
		// no table landed, or every table and the manifest did.
		if err := durable.Recover(lake); err != nil {
			t.Fatal(err)
		}
		got := contents(t, lake, rels...)
		if len(got) != 0 && !same(got, want) {
			t.Fatalf("killed after step %d: a partial lake is visible: %v", k, keys(got))
		}
		agree(t, fmt.Sprintf("killed after step %d", k), lake) // the PII vault too (vault_kill_test.go)
		qd(t, bin, 0, "", ingest(lake)...)
		if got := contents(t, lake, rels...); !same(got, want) {
			t.Fatalf("killed after step %d, re-run: lake %v, want %v", k, keys(got), keys(want))
		}
		agree(t, fmt.Sprintf("killed after step %d, re-run", k), lake)
		man, _ := os.ReadFile(filepath.Join(lake, "_manifests", "ingest.json"))
		if !bytes.Contains(man, []byte(`"loans.read"`)) || (bytes.Contains(man, []byte(`duplicate_row`)) != bytes.Contains(cleanMan, []byte(`duplicate_row`))) {
			t.Fatalf("killed after step %d, re-run: manifest counts differ from a clean run's", k)
		}
		noDebris(t, fmt.Sprintf("ingest killed after step %d and re-run", k), root)
	}
	t.Logf("ingest: %d kill points", n)
}

// Defect 2, perf: killed after each step while it replaces an earlier
// commit (another as-of date), the lake shows the earlier perf/ and
// labels/ or the new ones, whole; a re-run equals a clean run; no
// perf.old or labels.old.
func TestKillPerf(t *testing.T) {
	bin := killBin(t)
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	qd(t, bin, 0, "", "gen", "--out", raw, "--loans", "400")
	base := filepath.Join(dir, "base")
	lake := filepath.Join(base, "lake")
	qd(t, bin, 0, "", "ingest", "--raw", raw, "--lake", lake)
	perf := func(lake, asOf string) []string { return []string{"perf", "--lake", lake, "--as-of", asOf} }
	// perf/roll_rates and perf/delinquency differ in the last digit between
	// two identical runs (issue 12 defect 12, the determinism fix): they
	// are left out of the comparison until it lands.
	rels := []string{"perf/panel", "perf/vintage", "perf/expected_loss", "perf/disclosure", "labels"}
	qd(t, bin, 0, "", perf(lake, "2023-06-30")...)
	old := contents(t, lake, rels...)
	newRoot := filepath.Join(dir, "new")
	cpTree(t, base, newRoot)
	n, _ := steps(t, bin, perf(filepath.Join(newRoot, "lake"), "2023-12-31")...)
	want := contents(t, filepath.Join(newRoot, "lake"), rels...)
	if same(old, want) || len(want) == 0 {
		t.Fatal("the two as-of dates give the same perf tables")
	}
	for k := 1; k <= n; k++ {
		root := filepath.Join(dir, fmt.Sprintf("k%d", k))
		cpTree(t, base, root)
		lake := filepath.Join(root, "lake")
		if !qd(t, bin, k, "", perf(lake, "2023-12-31")...) {
			t.Fatalf("kill point %d: not killed", k)
		}
		if got := contents(t, lake, rels...); !same(got, old) && !same(got, want) {
			t.Fatalf("killed after step %d: perf/labels are neither the earlier commit nor the new one", k)
		}
		qd(t, bin, 0, "", perf(lake, "2023-12-31")...)
		if got := contents(t, lake, rels...); !same(got, want) {
			t.Fatalf("killed after step %d, re-run: perf/labels differ from a clean run's", k)
		}
		noDebris(t, fmt.Sprintf("perf killed after step %d and re-run", k), root)
	}
	t.Logf("perf: %d kill points", n)
}

// Defect 2, train and the A-card write-back (train_acard .. train_bcard
// killed after their publication steps, re-run, equal to a clean run):
// TestKillPoints' "train" group (killpoint_test.go), at killpointsTrain
// of its 40 steps.
