package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScoreCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join("..", "..", "testdata", "germancredit.csv")
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"train", "--data", data, "--target", "creditability", "--bad-value", "bad", "--out", filepath.Join(dir, "models")}, &stdout, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	vs, _ := os.ReadDir(filepath.Join(dir, "models", "germancredit"))
	if len(vs) != 1 {
		t.Fatalf("models: %v", vs)
	}
	model := filepath.Join(dir, "models", "germancredit", vs[0].Name())
	stdout.Reset()
	stderr.Reset()
	out := filepath.Join(dir, "scores")
	if code := realMain([]string{"score", "--data", data, "--model", model, "--out", out, "--as-of", "2024-01-31",
		"--target", "creditability", "--bad-value", "bad"}, &stdout, &stderr); code != 0 {
		t.Fatalf("score: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"1000 rows", "validation on creditability: n 1000 bads 300", "score PSI"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, f := range []string{"scores.parquet", "scores.csv", "manifest.json", "gains.csv", "_SUCCESS"} {
		if _, err := os.Stat(filepath.Join(out, "2024-01-31", f)); err != nil {
			t.Error(err)
		}
	}
}

// A refused command checks its arguments before it takes the writer lock,
// so it creates nothing: no lake, no output root (run in an empty
// working directory, which stays empty).
func TestScoreWarnCLIErrors(t *testing.T) {
	wd := emptyWD(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"score", "--data", "x.csv", "--out", "o"}, "--model (or --models) is required"},
		{[]string{"score", "--data", "x.csv", "--model", "m", "--models", "r", "--out", "o"}, "not both"},
		{[]string{"score", "--lake", "l", "--model", "nope", "--out", "o"}, "--as-of is required"},
		{[]string{"score", "--lake", "l", "--model", "nope", "--as-of", "2024-01-31", "--out", "o"}, "refusing model nope"},
		{[]string{"warn", "--lake", "l", "--as-of", "2024-01-31", "--out", "o"}, "--model (or --models / --scores) is required"},
		{[]string{"warn", "--lake", "l", "--model", "nope", "--as-of", "2024-01-31", "--out", "o"}, "nope"},
	} {
		var stdout, stderr bytes.Buffer
		if code := realMain(tc.args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 1 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
	nothingCreated(t, wd)
}

// emptyWD makes a new empty directory the working directory for the
// rest of the test.
func emptyWD(t *testing.T) string {
	t.Helper()
	wd := t.TempDir()
	t.Chdir(wd)
	return wd
}

// nothingCreated fails the test when dir is not empty.
func nothingCreated(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("a refused command created %s in the working directory", e.Name())
	}
}
