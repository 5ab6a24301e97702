package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "raw")
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"gen", "--out", out, "--loans", "800", "--seed", "5", "--start", "2020-07", "--months", "24"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "gen: applications=") || !strings.Contains(stdout.String(), " loans=800 ") {
		t.Errorf("summary line %q", stdout.String())
	}
	f, err := os.Open(filepath.Join(out, "loans.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 801 {
		t.Fatalf("loans.csv has %d data rows, want 800", len(recs)-1)
	}
	for _, r := range recs[1:] {
		if d := r[4]; d < "2020-07-01" || d > "2022-06-30" {
			t.Fatalf("issue date %s outside the 24-month window from 2020-07", d)
		}
	}
	for _, p := range []string{"_truth/loans.csv", "_truth/dirty.json", "collection_events.csv"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Error(err)
		}
	}
}

func TestGenCommandErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"gen", "--help"}, "--dirty", 0},
		{[]string{"gen"}, "--out is required", 1},
		{[]string{"gen", "--out", t.TempDir(), "--start", "2021/01"}, "want YYYY-MM", 1},
		{[]string{"gen", "--out", t.TempDir(), "--encoding", "latin1"}, "utf8 or gbk", 1},
		{[]string{"gen", "--out", t.TempDir(), "extra"}, "unexpected arguments", 1},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := realMain(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
