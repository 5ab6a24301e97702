package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
