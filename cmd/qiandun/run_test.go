package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// statusLine matches a row of the run summary: stage, status.
var statusLine = regexp.MustCompile(`(?m)^(\w+)\s+(ran|skipped|failed|blocked)\b`)

func runPipeline(t *testing.T, args ...string) map[string]string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	argv := append([]string{"run", "--config", "../../pipelines/default.yaml", "--allow-outside"}, args...) // roots are temp dirs
	if code := realMain(argv, &stdout, &stderr); code != 0 {
		t.Fatalf("qiandun %v: exit %d\n%s\n%s", argv, code, stdout.String(), tailStr(stderr.String(), 4000))
	}
	st := map[string]string{}
	for _, m := range statusLine.FindAllStringSubmatch(stdout.String(), -1) {
		st[m[1]] = m[2]
	}
	return st
}

func tailStr(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// The real stages through the runner, with the shipped config on a small
// book: the first run runs every stage up to train; a second run skips
// them all (the stages' outputs are deterministic, so their fingerprints
// match); --from features re-runs features and train only; a changed
// config var re-runs exactly the stages whose section uses it.
func TestRunRealStages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real stages")
	}
	root := t.TempDir()
	base := []string{"--to", "train", "--allow-outside", "--set", "root=" + root, "--set", "loans=3000"}
	want := func(got map[string]string, exp map[string]string) {
		t.Helper()
		for k, v := range exp {
			if got[k] != v {
				t.Errorf("stage %s: %s, want %s (all: %v)", k, got[k], v, got)
			}
		}
	}
	want(runPipeline(t, base...), map[string]string{"gen": "ran", "ingest": "ran", "perf": "ran", "features": "ran", "train": "ran", "score": "skipped"})
	models, _ := filepath.Glob(filepath.Join(root, "models", "*", "*", "model.json"))
	if len(models) != 2 {
		t.Fatalf("models after the first run: %v", models)
	}
	want(runPipeline(t, base...), map[string]string{"gen": "skipped", "ingest": "skipped", "perf": "skipped", "features": "skipped", "train": "skipped"})
	want(runPipeline(t, append(base, "--from", "features")...), map[string]string{"ingest": "skipped", "perf": "skipped", "features": "ran", "train": "ran"})

	// memory_limit appears in perf's, features' and train's sections, not ingest's.
	got := runPipeline(t, append(base, "--set", "memory_limit=2GB")...)
	want(got, map[string]string{"ingest": "skipped", "perf": "ran", "features": "ran"})

	var rec struct {
		Status, Reason string
		Upstream       map[string]string
	}
	b, err := os.ReadFile(filepath.Join(root, "lake", "_manifests", "run", "perf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != "ok" || rec.Reason != "config section changed" || len(rec.Upstream["ingest"]) != 64 {
		t.Fatalf("perf run manifest: %+v", rec)
	}
}

func TestRunRejectsBadAsOf(t *testing.T) {
	for _, d := range []string{"2023-12-30", "2023-13-31", "31/12/2023"} {
		var stdout, stderr bytes.Buffer
		code := realMain([]string{"run", "--config", "../../pipelines/default.yaml", "--as-of", d, "--set", "root=" + t.TempDir()}, &stdout, &stderr)
		if code == 0 || !bytes.Contains(stderr.Bytes(), []byte("month end")) {
			t.Errorf("--as-of %s: exit %d, stderr %q", d, code, stderr.String())
		}
	}
}
