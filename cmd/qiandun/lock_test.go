package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/internal/lakelock"
)

// Defect 11: one writer per lake, whatever the entry point. While a
// writer holds the lake, every stage subcommand and `qiandun run` on it is
// refused with the holder named; once it is released they start.
func TestOneWriterPerLake(t *testing.T) {
	root := t.TempDir()
	lake := filepath.Join(root, "lake")
	_, release, err := lakelock.Acquire(context.Background(), lake, nil)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	holder := fmt.Sprintf("pid %d on host %s since ", os.Getpid(), host)
	// Arguments are checked before the lock: these pass the checks (a
	// models root is resolved under the lock), so the lock refuses them.
	m := filepath.Join(root, "models")
	cmds := [][]string{
		{"ingest", "--raw", filepath.Join(root, "raw"), "--lake", lake},
		{"perf", "--lake", lake},
		{"features", "--lake", lake, "--set", "acard", "--as-of", "2023-12-31"},
		{"train", "--lake", lake, "--model", "acard", "--out", filepath.Join(root, "models")},
		{"score", "--lake", lake, "--models", m, "--as-of", "2023-12-31", "--out", filepath.Join(root, "out")},
		{"warn", "--lake", lake, "--models", m, "--as-of", "2023-12-31", "--out", filepath.Join(root, "ews")},
		{"report", "--lake", lake, "--out", filepath.Join(root, "reports")},
		{"bureau", "--lake", lake, "--month", "2023-12", "--format", "pboc", "--identities", "none", "--out", filepath.Join(root, "bureau")},
		{"run", "--config", "../../pipelines/default.yaml", "--set", "root=" + root, "--only", "perf", "--allow-outside"},
	}
	for _, args := range cmds {
		var stdout, stderr bytes.Buffer
		code := realMain(args, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "locked by another writer") || !strings.Contains(stderr.String(), holder) {
			t.Errorf("%s beside a writer: exit %d, stderr %q; want a refusal naming %q", args[0], code, stderr.String(), holder)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "reports")); err == nil {
		t.Error("a refused report wrote its output directory")
	}
	release()
	// Released: perf now starts (and fails on the empty lake, not on the lock).
	var stdout, stderr bytes.Buffer
	realMain([]string{"perf", "--lake", lake}, &stdout, &stderr)
	if strings.Contains(stderr.String(), "locked") {
		t.Errorf("perf after the release: %s", stderr.String())
	}
}
