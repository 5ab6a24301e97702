package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A stage run with a memory limit too small for it fails with one line
// that names the step and the limit to raise; DuckDB's temporary files go
// under <lake>/_tmp, never the system temp directory.
func TestMemoryLimitHonoured(t *testing.T) {
	sysTmp := t.TempDir()
	t.Setenv("TMPDIR", sysTmp)
	t.Setenv("QIANDUN_PII_KEY", strings.Repeat("memlimit-key", 4))
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	var out, errb bytes.Buffer
	if code := realMain([]string{"gen", "--out", raw, "--loans", "300"}, &out, &errb); code != 0 {
		t.Fatalf("gen: %s", errb.String())
	}
	if code := realMain([]string{"ingest", "--raw", raw, "--lake", lk, "--max-reject-rate", "0.5"}, &out, &errb); code != 0 {
		t.Fatalf("ingest: %s", errb.String())
	}
	for _, args := range [][]string{
		{"perf", "--lake", lk, "--as-of", "2023-12-31", "--memory-limit", "1MB"},
		{"features", "--lake", lk, "--set", "acard", "--as-of", "2023-12-31", "--memory-limit", "1MB"},
		// The shipped pipeline's perf stage, its limit set as the config's var.
		{"run", "--config", filepath.Join("..", "..", "pipelines", "default.yaml"), "--allow-outside", "--only", "perf",
			"--set", "root=" + dir, "--set", "memory_limit=1MB"},
	} {
		errb.Reset()
		code := realMain(args, &out, &errb)
		var msg string
		for _, l := range strings.Split(errb.String(), "\n") {
			if strings.HasPrefix(l, "qiandun ") {
				msg = l
			}
		}
		if code == 0 || !strings.Contains(msg, "--memory-limit") || !strings.Contains(msg, "memory_limit") || !strings.Contains(msg, "Out of Memory") {
			t.Errorf("%v: exit %d, error %q", args[0], code, errb.String())
		}
		if strings.Contains(errb.String(), "Possible solutions") {
			t.Errorf("%v: a multi-line DuckDB error: %q", args[0], errb.String())
		}
		// The stage, its step (the SQL file) and the setting to raise,
		// with a value (twice DuckDB's limit when it ran out, at least
		// 64MB).
		stage := map[string]string{"perf": "perf", "features": "features", "run": "perf"}[args[0]]
		if !strings.Contains(msg, "stage "+stage+",") || strings.Count(msg, "stage "+stage) != 1 {
			t.Errorf("%s: the error does not name stage %s once: %q", args[0], stage, msg)
		}
		if stage == "perf" && !regexp.MustCompile(`step sql/\w+\.sql,`).MatchString(msg) {
			t.Errorf("%s: the error does not name the step: %q", args[0], msg)
		}
		if stage == "features" && !regexp.MustCompile(`step [\w/]+\.sql,`).MatchString(msg) {
			t.Errorf("%s: the error does not name the step: %q", args[0], msg)
		}
		if !strings.Contains(msg, "--set memory_limit=64MB") {
			t.Errorf("%s: the error does not say which value to set: %q", args[0], msg)
		}
	}
	if ents, _ := os.ReadDir(sysTmp); len(ents) != 0 {
		t.Errorf("files in the system temp directory: %v", ents)
	}
	if st, err := os.Stat(filepath.Join(lk, "_tmp", "duckdb")); err != nil || !st.IsDir() {
		t.Errorf("no spill directory under the lake: %v", err)
	}
}
