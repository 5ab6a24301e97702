package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBureauFromVault: ingest seals identities in the vault; the bureau
// month reveals them from it (PBOC base segments carry the clear ID
// numbers of the raw export, accounts.csv none, the manifest says
// "vault", each reveal is an audit line); without the vault key the
// command refuses and names --identities none.
func TestBureauFromVault(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gen, ingest, perf and bureau")
	}
	dir := t.TempDir()
	raw, lk, out := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "out")
	t.Setenv("QIANDUN_KEY_DIR", filepath.Join(dir, "keys"))
	t.Setenv("QIANDUN_PII_KEY", "")
	t.Setenv("QIANDUN_VAULT_KEY", "")
	for _, args := range [][]string{
		{"gen", "--out", raw, "--loans", "1500"},
		{"ingest", "--raw", raw, "--lake", lk},
		{"perf", "--lake", lk, "--as-of", "2023-12-31"},
	} {
		var stdout, stderr bytes.Buffer
		if code := realMain(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	// The generator gives a few borrowers an ID number with a wrong check
	// digit (its invalid_id fraud cases): those accounts are withheld.
	if code := realMain([]string{"bureau", "--lake", lk, "--month", "2023-12", "--format", "pboc", "--out", out, "--max-withheld", "0.05"}, &stdout, &stderr); code != 0 {
		t.Fatalf("bureau: exit %d: %s", code, stderr.String())
	}
	sub := filepath.Join(out, "pboc", "2023-12", "001")
	man, _ := os.ReadFile(filepath.Join(sub, "manifest.json"))
	if !strings.Contains(string(man), `"identities": "vault"`) || strings.Contains(string(man), `"withheld": 0`) {
		t.Errorf("manifest: %s", man)
	}
	if wh, _ := os.ReadFile(filepath.Join(sub, "withheld.csv")); !strings.Contains(string(wh), "identity_valid") {
		t.Errorf("withheld.csv:\n%s", wh)
	}
	recs, _ := os.ReadFile(filepath.Join(sub, "pboc_210.jsonl"))
	accts, _ := os.ReadFile(filepath.Join(sub, "accounts.csv"))
	apps, err := os.ReadFile(filepath.Join(raw, "applications.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(apps), "\n")
	col := slices.Index(strings.Split(lines[0], ","), "id_number")
	found := 0
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if col < 0 || len(f) <= col || len(f[col]) != 18 {
			continue
		}
		if strings.Contains(string(recs), `"`+f[col]+`"`) {
			found++
		}
		if strings.Contains(string(accts), f[col]) {
			t.Fatalf("accounts.csv carries a clear ID number")
		}
	}
	if found < 50 {
		t.Errorf("%d clear ID numbers of the raw export in pboc_210.jsonl, want one per reported account", found)
	}
	if n := strings.Count(stderr.String(), "audit=vault.reveal"); n < found {
		t.Errorf("%d vault reveal audit lines for %d accounts", n, found)
	}
	// Without the vault key: refused, naming the way out.
	t.Setenv("QIANDUN_KEY_DIR", filepath.Join(dir, "nokeys"))
	stderr.Reset()
	code := realMain([]string{"bureau", "--lake", lk, "--month", "2023-11", "--format", "pboc", "--out", out}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "--identities none") {
		t.Fatalf("no vault key: exit %d: %s", code, stderr.String())
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
	if st := runPipeline(t, base...); st["bureau"] != "ran" || st["perf"] != "ran" || st["train_acard"] != "skipped" {
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
