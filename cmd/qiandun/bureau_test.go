package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBureauNeedsVault: without the PII vault, the command refuses to run
// unless --identities none is given, and says so.
func TestBureauNeedsVault(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"bureau", "--lake", t.TempDir(), "--month", "2023-12", "--format", "pboc", "--out", t.TempDir()}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "--identities none") || !strings.Contains(stderr.String(), "vault") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

// TestBureauStage runs the shipped pipeline up to the bureau stage on a
// small generated book: both formats are written for the as-of month with
// accounts.csv, 0600 files and a manifest saying tokens stand in for
// identities; a second run skips the stage, and the command run again by
// hand on the unchanged month writes nothing new.
func TestBureauStage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real stages")
	}
	root := t.TempDir()
	base := []string{"--to", "bureau", "--set", "root=" + root, "--set", "loans=2000"}
	if st := runPipeline(t, base...); st["bureau"] != "ran" || st["perf"] != "ran" || st["train"] != "skipped" {
		t.Fatalf("first run: %v", st)
	}
	for _, format := range []string{"pboc", "baihang"} {
		dir := filepath.Join(root, "out", "bureau", format, "2023-12", "001")
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Format, Month, Identities string
			Accounts                  int
			Files                     []struct{ Name string }
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Format != format || m.Month != "2023-12" || m.Identities != "none" || m.Accounts < 100 || len(m.Files) < 2 {
			t.Errorf("%s manifest %+v", format, m)
		}
		for _, f := range m.Files {
			st, err := os.Stat(filepath.Join(dir, f.Name))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s/%s: %v %v", format, f.Name, st.Mode().Perm(), err)
			}
		}
		csv, _ := os.ReadFile(filepath.Join(dir, "accounts.csv"))
		if !strings.HasPrefix(string(csv), "loan_id,month,acct_status,rpy_status,overdue_days,overdue_principal,total_overdue,balance,remaining_terms,five_class,paid_in_month,due_in_month,close_date\n") ||
			strings.Count(string(csv), "\n") != m.Accounts+1 {
			t.Errorf("%s accounts.csv: %d lines for %d accounts", format, strings.Count(string(csv), "\n"), m.Accounts)
		}
	}
	if st := runPipeline(t, base...); st["bureau"] != "skipped" {
		t.Fatalf("second run: %v", st)
	}
	var stdout, stderr bytes.Buffer
	argv := []string{"bureau", "--lake", filepath.Join(root, "lake"), "--month", "2023-12", "--format", "pboc",
		"--out", filepath.Join(root, "out", "bureau"), "--identities", "none"}
	if code := realMain(argv, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "submission 001") {
		t.Fatalf("re-run by hand: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if subs, _ := filepath.Glob(filepath.Join(root, "out", "bureau", "pboc", "2023-12", "*")); len(subs) != 1 {
		t.Errorf("submissions after an unchanged re-run: %v", subs)
	}
}
