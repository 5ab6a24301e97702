package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `qiandun run` refuses a misspelled --set var and a root outside the
// working directory before any stage runs (nothing is written), and
// --allow-outside lets the latter through.
func TestRunConfigStrict(t *testing.T) {
	cfg, err := filepath.Abs("../../pipelines/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wd := t.TempDir()
	t.Chdir(filepath.Join(wd))
	os.Mkdir("sub", 0o755)
	t.Chdir("sub")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "rooot=x"}, `"rooot" (nearest declared var: "root")`},
		{[]string{"--set", "root=../../.."}, "outside the working directory"},
		{[]string{"--set", "root=..", "--only", "gen"}, "--allow-outside"},
	} {
		var out, errb bytes.Buffer
		code := realMain(append([]string{"run", "--config", cfg}, tc.args...), &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errb.String(), tc.want)
		}
	}
	if ents, _ := os.ReadDir(wd); len(ents) != 1 {
		t.Errorf("a refused run wrote %v", ents)
	}
	// With the flag the path check is waived: gen of a tiny book runs
	// one directory up.
	var out, errb bytes.Buffer
	if code := realMain([]string{"run", "--config", cfg, "--allow-outside", "--only", "gen", "--set", "root=../book", "--set", "loans=50"}, &out, &errb); code != 0 {
		t.Fatalf("--allow-outside: exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(wd, "book", "raw", "loans.csv")); err != nil {
		t.Errorf("gen with --allow-outside: %v", err)
	}
}
