package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/pipelines"
	"qiandun/stages"
)

// TestCheck: a run whose every stage recorded ok, with its manifests and
// non-empty score and early-warning files, passes; each way a run can be
// incomplete is reported, naming the stage or the file.
func TestCheck(t *testing.T) {
	root := t.TempDir()
	cfg, err := pipelines.Load(filepath.Join("..", "..", "..", "pipelines", "default.yaml"), map[string]string{"root": root}, stages.Registry())
	if err != nil {
		t.Fatal(err)
	}
	write := func(path, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	record := func(stage, status string) {
		b, _ := json.Marshal(pipelines.Record{Stage: stage, Status: status})
		write(filepath.Join(cfg.State, stage+".json"), string(b))
	}
	for _, n := range cfg.Stages {
		record(n.Name, "ok")
		for _, m := range n.IO.Manifests {
			write(strings.ReplaceAll(m, "*", "x"), "{}")
		}
	}
	scores := filepath.Join(cfg.Layout.Scores, "2023-12-31", "scores.csv")
	ews := filepath.Join(cfg.Layout.Warn, "2023-12-31", "ews.csv")
	write(scores, "entity_id,score\n1,600\n")
	write(ews, "loan_id,rule\n7,m2_m3\n")
	expect := func(name string, want ...string) {
		t.Helper()
		got, err := check(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: problems %q, want %d", name, got, len(want))
		}
		for i, w := range want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: problem %q does not name %q", name, got[i], w)
			}
		}
	}
	expect("complete")

	record("warn", "failed")
	expect("a failed stage", "stage warn")
	record("warn", "ok")

	os.Remove(filepath.Join(cfg.State, "bureau.json"))
	expect("a stage that never ran", "stage bureau")
	record("bureau", "ok")

	perf := cfg.Stage("perf")
	if len(perf.IO.Manifests) == 0 {
		t.Fatal("perf declares no manifest")
	}
	m := strings.ReplaceAll(perf.IO.Manifests[0], "*", "x")
	os.Remove(m)
	expect("a missing stage manifest", "stage perf")
	write(m, "{}")

	write(ews, "loan_id,rule\n")
	expect("a header-only early-warning list", "early_warning")
	os.Remove(scores)
	expect("no score file", "scores", "early_warning")
}
