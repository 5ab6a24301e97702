//go:build duckdb_arrow && killpoints

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"qiandun/internal/audit"
)

// The kill-point harness (issue 12). The binary is built once with the
// killpoints tag; a small book is run through the shipped config; then
// for each stage (and `qiandun run` as a whole) the run is repeated from
// the committed state, killed with SIGKILL at publication step N
// (QIANDUN_KILLPOINT=N), and the lake is checked: the committed outputs
// are intact and readable (equal to the clean run's, which is also the
// previous commit), a re-run completes, its outputs equal a clean run's
// byte for byte, and no debris remains. A failing writer
// (QIANDUN_FAULT=ENOSPC@N) must fail the stage with the disk's message
// and leave the same guarantees.
//
// Every step of every stage is exercised with QIANDUN_KILLPOINTS_MAX=0;
// by default at most killpointsMax steps per stage (spread over the
// run, the first and last always; the train chain, whose 40 steps are
// four stages' commits, killpointsTrain) keep `make test` bounded.
const (
	killpointsMax   = 4
	killpointsTrain = 10
)

// killStages are the stages the harness kills, each run as
// `qiandun run --only STAGE`; "train" is the chain train_acard ..
// train_bcard (--from/--to, each stage its own commit); "" is `qiandun
// run` as a whole (--force).
var killStages = []string{"ingest", "perf", "features", "train", "score", "warn", "report", ""}

// killArgs are the run flags that select the stages of killStages entry
// stage.
func killArgs(stage string) []string {
	switch stage {
	case "":
		return []string{"--force"}
	case "train":
		return []string{"--from", "train_acard", "--to", "train_bcard"}
	}
	return []string{"--only", stage}
}

func TestKillPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the pipeline many times")
	}
	limits := func(stage string) int {
		if v := os.Getenv("QIANDUN_KILLPOINTS_MAX"); v != "" {
			n, _ := strconv.Atoi(v)
			return n
		}
		if stage == "train" {
			return killpointsTrain
		}
		return killpointsMax
	}
	only := os.Getenv("QIANDUN_KILLPOINTS_STAGES") // comma-separated subset, "run" for the whole
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "qiandun-kp")
	build := exec.Command("go", "build", "-tags", "duckdb_arrow,killpoints", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cfg, err := filepath.Abs("../../pipelines/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(tmp, "work")
	os.MkdirAll(work, 0o755)
	key := strings.Repeat("harness-key-", 4) // 48 bytes
	base := []string{"run", "--config", cfg, "--set", "root=book", "--set", "loans=1500"}
	run := func(env []string, args ...string) (string, bool, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = append(append(os.Environ(), "QIANDUN_PII_KEY="+key), env...)
		out, err := cmd.CombinedOutput()
		killed := err != nil && strings.Contains(err.Error(), "signal: killed")
		return string(out), killed, err
	}
	book := filepath.Join(work, "book")
	if out, _, err := run(nil, base...); err != nil {
		t.Fatalf("clean run: %v\n%s", err, tailStr(out, 3000))
	}
	clean := filepath.Join(tmp, "clean")
	copyTree(t, book, clean)
	want := outputs(t, clean)

	summary := []string{}
	failed := []string{}
	for _, stage := range killStages {
		name := stage
		args := append(append([]string{}, base...), killArgs(stage)...)
		if stage == "" {
			name = "run"
		}
		if only != "" && !strings.Contains(","+only+",", ","+name+",") {
			continue
		}
		ok := t.Run(name, func(t *testing.T) {
			restore(t, clean, book)
			log := filepath.Join(tmp, name+".steps")
			os.Remove(log)
			if out, _, err := run([]string{"QIANDUN_KILLPOINT_LOG=" + log}, args...); err != nil {
				t.Fatalf("counting run: %v\n%s", err, tailStr(out, 3000))
			}
			b, _ := os.ReadFile(log)
			total := bytes.Count(b, []byte("\n"))
			if total < 2 {
				t.Errorf("%s has %d publication steps, want more than one", name, total)
			}
			points := pick(total, limits(stage))
			t.Logf("%s: %d publication steps; kill points %v, ENOSPC at %v", name, total, points, pick(total, 2))
			check := func(what string) {
				t.Helper()
				if got := outputs(t, book); !sameOutputs(t, what, got, want) {
					t.FailNow()
				}
			}
			for _, n := range points {
				restore(t, clean, book)
				out, killed, err := run([]string{fmt.Sprintf("QIANDUN_KILLPOINT=%d", n)}, args...)
				if !killed {
					t.Fatalf("kill point %d of %d: not killed (%v)\n%s", n, total, err, tailStr(out, 2000))
				}
				// The committed state is intact and readable before any
				// recovery: what a reader sees right after the crash.
				check(fmt.Sprintf("after kill point %d of %d (%s)", n, total, stepName(b, n)))
				if out, _, err := run(nil, args...); err != nil {
					t.Fatalf("re-run after kill point %d: %v\n%s", n, err, tailStr(out, 3000))
				}
				check(fmt.Sprintf("re-run after kill point %d", n))
				harnessNoDebris(t, book, fmt.Sprintf("after kill point %d and a re-run", n))
				if u, _ := audit.Unfinished(filepath.Join(book, "lake")); len(u) == 0 {
					t.Errorf("kill point %d: the audit trail does not show the killed run", n)
				}
			}
			faults := pick(total, 2)
			for _, n := range faults {
				restore(t, clean, book)
				out, _, err := run([]string{fmt.Sprintf("QIANDUN_FAULT=ENOSPC@%d", n)}, args...)
				if err == nil || !strings.Contains(out, "no space left on device") {
					t.Fatalf("ENOSPC at step %d: exit %v, output lacks the disk's message:\n%s", n, err, tailStr(out, 2000))
				}
				check(fmt.Sprintf("after ENOSPC at step %d", n))
				if out, _, err := run(nil, args...); err != nil {
					t.Fatalf("re-run after ENOSPC at step %d: %v\n%s", n, err, tailStr(out, 3000))
				}
				check(fmt.Sprintf("re-run after ENOSPC at step %d", n))
				harnessNoDebris(t, book, fmt.Sprintf("after ENOSPC at step %d and a re-run", n))
			}
			summary = append(summary, fmt.Sprintf("%-9s %3d publication steps, %d kill points and %d faults exercised", name, total, len(points), len(faults)))
		})
		if !ok {
			failed = append(failed, name)
		}
	}
	for _, s := range summary {
		t.Log(s)
	}
	if len(failed) > 0 {
		t.Logf("stages failing the harness: %s", strings.Join(failed, ", "))
	}
}

// pick returns up to limit step numbers of 1..total spread evenly (the
// first and the last included); all of them when limit <= 0.
func pick(total, limit int) []int {
	var out []int
	if limit <= 0 || limit >= total {
		for n := 1; n <= total; n++ {
			out = append(out, n)
		}
		return out
	}
	seen := map[int]bool{}
	for i := 0; i < limit; i++ {
		n := 1 + i*(total-1)/(limit-1)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func stepName(log []byte, n int) string {
	for _, l := range strings.Split(string(log), "\n") {
		if num, step, ok := strings.Cut(l, " "); ok && num == strconv.Itoa(n) {
			return step
		}
	}
	return "?"
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	os.RemoveAll(dst)
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
}

func restore(t *testing.T, snap, book string) {
	t.Helper()
	if err := os.RemoveAll(book); err != nil {
		t.Fatal(err)
	}
	copyTree(t, snap, book)
}

// timestamps in reports and manifests: a run's own time, never data.
var stamp = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?`)

// outputs reads every file of the book through its ordinary path
// (following mounted links) as path -> sha256, skipping what is not data
// or differs by run by design: the version store _v, _tmp, the audit
// trail, the run manifests, hidden files (a name starting with "." is
// never data; noDebris judges leftovers after the re-run), and the timing fields of manifests and the
// generation time of reports (timestamps are masked).
func outputs(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(dir, rel string)
	walk = func(dir, rel string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("unreadable after the run: %v", err)
		}
		for _, e := range ents {
			n := e.Name()
			if strings.HasPrefix(n, ".") || n == "_v" || n == "_tmp" || n == audit.Dir || n == "run" && filepath.Base(dir) == "_manifests" || n == ".lock" || n == "_lock" {
				continue
			}
			p, r := filepath.Join(dir, n), filepath.Join(rel, n)
			st, err := os.Stat(p) // follows links: a dangling link fails here
			if err != nil {
				out[r] = "UNREADABLE: " + err.Error()
				continue
			}
			if st.IsDir() {
				walk(p, r)
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				out[r] = "UNREADABLE: " + err.Error()
				continue
			}
			if ext := filepath.Ext(n); ext == ".json" || ext == ".html" || ext == ".md" || ext == ".txt" {
				b = stamp.ReplaceAll(b, []byte("TIME"))
				b = regexp.MustCompile(`"(timings_seconds|duration_seconds|elapsed[a-z_]*)": *(\{[^}]*\}|[0-9.e+-]+)`).ReplaceAll(b, []byte(`"$1": X`))
			}
			h := sha256.Sum256(b)
			out[r] = hex.EncodeToString(h[:])
			if ext := filepath.Ext(n); (ext == ".json" || ext == ".csv") && len(b) < 1<<16 {
				out[r] += "\x00" + string(b) // shown line by line when it differs
			}
		}
	}
	walk(root, "")
	return out
}

// firstDiff returns the first line where two texts differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d: %q, clean run %q", i+1, la[i], lb[i])
		}
	}
	return "lengths differ"
}

func sameOutputs(t *testing.T, what string, got, want map[string]string) bool {
	t.Helper()
	var diffs []string
	for k, v := range want {
		if got[k] != v {
			g := got[k]
			if g == "" {
				g = "missing"
			} else if !strings.HasPrefix(g, "UNREADABLE") {
				_, gt, _ := strings.Cut(g, "\x00")
				_, wt, ok := strings.Cut(v, "\x00")
				g = "different bytes"
				if ok {
					g += ": " + firstDiff(gt, wt)
				}
			}
			diffs = append(diffs, k+": "+g)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, k+": not in a clean run")
		}
	}
	if len(diffs) > 0 {
		if len(diffs) > 12 {
			diffs = append(diffs[:12], fmt.Sprintf("... and %d more", len(diffs)-12))
		}
		t.Errorf("%s: outputs differ from the committed (clean) state:\n  %s", what, strings.Join(diffs, "\n  "))
		return false
	}
	return true
}

// harnessNoDebris fails on leftovers of an interrupted publication: temporary
// files and directories, moved-aside ".old" copies, anything under _tmp
// but DuckDB's empty spill directory, and uncommitted versions under _v.
func harnessNoDebris(t *testing.T, root, what string) {
	t.Helper()
	var debris []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		n := d.Name()
		switch {
		case strings.Contains(n, ".tmp") || strings.HasSuffix(n, ".old") || strings.Contains(n, ".old_") || strings.HasSuffix(n, ".link-tmp"):
			debris = append(debris, rel)
		case filepath.Base(filepath.Dir(p)) == "_tmp" && !(d.IsDir() && n == "duckdb"):
			debris = append(debris, rel)
		case filepath.Base(filepath.Dir(filepath.Dir(p))) == "_v" && d.IsDir():
			// <root>/_v/<chain>/<seq>: only the committed one may stay.
			cur, err := os.Readlink(filepath.Join(filepath.Dir(p), "current"))
			if err != nil || cur != n {
				debris = append(debris, rel)
			}
			return filepath.SkipDir
		}
		return nil
	})
	if len(debris) > 0 {
		t.Errorf("%s: debris left: %v", what, debris)
	}
}
