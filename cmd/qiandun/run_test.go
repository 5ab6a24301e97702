package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
// book: the first run runs every stage up to train_bcard; a second run
// skips them all (the stages' outputs are deterministic, so their
// fingerprints match); --from features re-runs features and the train
// chain only; a changed config var re-runs exactly the stages whose
// section uses it.
func TestRunRealStages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real stages")
	}
	root := t.TempDir()
	base := []string{"--to", "train_bcard", "--allow-outside", "--set", "root=" + root, "--set", "loans=3000"}
	want := func(got map[string]string, exp map[string]string) {
		t.Helper()
		for k, v := range exp {
			if got[k] != v {
				t.Errorf("stage %s: %s, want %s (all: %v)", k, got[k], v, got)
			}
		}
	}
	want(runPipeline(t, base...), map[string]string{"gen": "ran", "ingest": "ran", "perf": "ran", "features": "ran",
		"train_acard": "ran", "score_acard": "ran", "features_bcard": "ran", "train_bcard": "ran", "score": "skipped", "bureau": "skipped"})
	models, _ := filepath.Glob(filepath.Join(root, "models", "*", "*", "model.json"))
	if len(models) != 2 {
		t.Fatalf("models after the first run: %v", models)
	}
	want(runPipeline(t, base...), map[string]string{"gen": "skipped", "ingest": "skipped", "perf": "skipped", "features": "skipped",
		"train_acard": "skipped", "score_acard": "skipped", "features_bcard": "skipped", "train_bcard": "skipped"})
	want(runPipeline(t, append(base, "--from", "features")...), map[string]string{"ingest": "skipped", "perf": "skipped", "features": "ran",
		"train_acard": "ran", "score_acard": "ran", "features_bcard": "ran", "train_bcard": "ran"})

	// memory_limit appears in perf's, features' and train's sections, not ingest's.
	got := runPipeline(t, append(base, "--set", "memory_limit=2GB")...)
	want(got, map[string]string{"ingest": "skipped", "perf": "ran", "features": "ran", "score_acard": "ran"})

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

// qiandun run --plan prints the DAG the runner derives from the stages'
// declared reads and writes, in run order, and runs nothing: no lake, no
// state, no raw data is created.
func TestRunPlan(t *testing.T) {
	root := filepath.Join(t.TempDir(), "book")
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"run", "--config", "../../pipelines/default.yaml", "--plan", "--allow-outside", "--set", "root=" + root}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"1. gen\n   needs:  -\n   reads:  -\n   writes: raw\n",
		"5. train_acard\n   needs:  perf features\n   reads:  lake/features/acard lake/labels/acard\n   writes: models/acard\n",
		"6. score_acard\n   needs:  features train_acard\n   reads:  models/acard lake/features/acard\n   writes: lake/scores_acard\n",
		"7. features_bcard\n   needs:  ingest perf score_acard\n",
		"8. train_bcard\n   needs:  perf features_bcard\n   reads:  lake/features/bcard lake/labels/bcard\n   writes: models/bcard\n",
		"9. score\n   needs:  features train_acard features_bcard train_bcard\n",
		"15. report\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(root); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("--plan created %s (%v)", root, err)
	}
}
