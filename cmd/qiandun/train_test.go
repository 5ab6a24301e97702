package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTrainCLI(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"train", "--data", filepath.Join("..", "..", "testdata", "germancredit.csv"),
		"--target", "creditability", "--bad-value", "bad", "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	s := stdout.String()
	for _, want := range []string{"model germancredit v", "status_of_existing_checking_account", "intercept", "dropped", "train", "test", "auc"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(out, "germancredit"))
	if len(ents) != 1 {
		t.Fatalf("%d versions written", len(ents))
	}
	if _, err := os.Stat(filepath.Join(out, "germancredit", ents[0].Name(), "scorecard.sql")); err != nil {
		t.Error(err)
	}
}

func TestTrainCLIErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--out", "x"}, "exactly one of --data or --lake"},
		{[]string{"train", "--data", "nope.csv", "--target", "y", "--bad-value", "1", "--out", "x"}, "nope.csv"},
		{[]string{"train", "--lake", "nolake", "--model", "zcard", "--out", "x"}, "acard or bcard"},
		{[]string{"train", "--data", filepath.Join("..", "..", "testdata", "germancredit.csv"), "--out", "x"}, "--target and --bad-value"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		if code := realMain(tc.args, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// TestReportCLISameBytes: `qiandun report` run twice on the same model
// writes the same bytes, and the HTML carries no generation time.
func TestReportCLISameBytes(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"train", "--data", filepath.Join("..", "..", "testdata", "germancredit.csv"),
		"--target", "creditability", "--bad-value", "bad", "--out", models}, &stdout, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	var pages [2]map[string][]byte
	for i := range pages {
		out := filepath.Join(dir, fmt.Sprintf("reports-%d", i))
		if code := realMain([]string{"report", "--models", models, "--no-portfolio", "--out", out}, &stdout, &stderr); code != 0 {
			t.Fatalf("report: exit %d: %s", code, stderr.String())
		}
		pages[i] = map[string][]byte{}
		ents, err := os.ReadDir(out)
		if err != nil || len(ents) == 0 {
			t.Fatalf("no reports in %s (%v)", out, err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(out, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			pages[i][e.Name()] = b
			now := time.Now().UTC()
			for _, ts := range []time.Time{now, now.Add(-time.Minute), now.Add(-2 * time.Minute)} {
				if stamp := ts.Format("2006-01-02 15:04"); bytes.Contains(b, []byte(stamp)) {
					t.Errorf("%s carries the generation time %s", e.Name(), stamp)
				}
			}
		}
	}
	for name, b := range pages[0] {
		if !bytes.Equal(b, pages[1][name]) {
			t.Errorf("%s differs between two runs on the same inputs", name)
		}
	}
}
