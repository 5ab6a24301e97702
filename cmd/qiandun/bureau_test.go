package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qiandun/data/ingest/pii"
	"qiandun/data/lake"
	"qiandun/data/vault"
	"qiandun/internal/audit"
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
	// One reveal line per token read, in the lake's audit log, naming the
	// purpose; the values never leave in a log.
	revs, err := audit.ReadReveals(lk)
	if err != nil {
		t.Fatal(err)
	}
	if n := countReveals(revs, "bureau pboc 2023-12"); n < 2*found {
		t.Errorf("%d vault reveal audit lines for %d accounts with their ID number found (want a name and an ID number each at least)", n, found)
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
// accounts.csv, 0600 files and a manifest saying the identities come from
// the vault; every identity written passes the checks the bureau applies
// (ID check digit, phone form; never a token), the accounts whose ID
// number fails are withheld and named, and each token read is a reveal
// line of the lake's audit log; a second run skips the stage, and the
// command run again by hand on the unchanged month writes nothing new.
func TestBureauStage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real stages")
	}
	root := t.TempDir()
	base := []string{"--to", "bureau", "--set", "root=" + root, "--set", "loans=2000"}
	if st := runPipeline(t, base...); st["bureau"] != "ran" || st["perf"] != "ran" || st["train_acard"] != "skipped" {
		t.Fatalf("first run: %v", st)
	}
	tokens := lakeTokens(t, filepath.Join(root, "lake"))
	for _, format := range []string{"pboc", "baihang"} {
		dir := filepath.Join(root, "out", "bureau", format, "2023-12", "001")
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Format, Month, Identities string
			Accounts, Withheld        int
			Files                     []struct{ Name string }
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Format != format || m.Month != "2023-12" || m.Identities != "vault" || m.Accounts < 100 || len(m.Files) < 2 {
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
		checkIdentities(t, dir, tokens)
		if wh, _ := os.ReadFile(filepath.Join(dir, "withheld.csv")); m.Withheld == 0 || !strings.Contains(string(wh), "identity_valid") {
			t.Errorf("%s: %d withheld; withheld.csv:\n%s", format, m.Withheld, wh)
		}
		revs, err := audit.ReadReveals(filepath.Join(root, "lake"))
		if err != nil {
			t.Fatal(err)
		}
		if n := countReveals(revs, "bureau "+format+" 2023-12"); n < 2*(m.Accounts+m.Withheld) {
			t.Errorf("%s: %d reveal lines in the audit log for %d accounts", format, n, m.Accounts+m.Withheld)
		}
	}
	if st := runPipeline(t, base...); st["bureau"] != "skipped" {
		t.Fatalf("second run: %v", st)
	}
	var stdout, stderr bytes.Buffer
	argv := []string{"bureau", "--lake", filepath.Join(root, "lake"), "--month", "2023-12", "--format", "pboc",
		"--out", filepath.Join(root, "out", "bureau"), "--vault-key-file", filepath.Join(root, "keys", vault.KeyFileName)}
	if code := realMain(argv, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "submission 001") {
		t.Fatalf("re-run by hand: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if subs, _ := filepath.Glob(filepath.Join(root, "out", "bureau", "pboc", "2023-12", "*")); len(subs) != 1 {
		t.Errorf("submissions after an unchanged re-run: %v", subs)
	}
}

func countReveals(revs []audit.Line, purpose string) int {
	n := 0
	for _, r := range revs {
		if r.Stage == "bureau" && r.Purpose == purpose && r.Token != "" {
			n++
		}
	}
	return n
}

// lakeTokens returns every PII token of the lake's applications.
func lakeTokens(t *testing.T, lk string) map[string]bool {
	t.Helper()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "500MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scan, err := lake.New(lk).Scan("applications")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT DISTINCT unnest([name_token, id_number_token, phone_token]) FROM " + scan)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var tok *string
		if err := rows.Scan(&tok); err != nil {
			t.Fatal(err)
		}
		if tok != nil && *tok != "" {
			out[*tok] = true
		}
	}
	if len(out) < 100 {
		t.Fatalf("%d tokens in the lake's applications", len(out))
	}
	return out
}

// checkIdentities checks every identity field of a submission's record
// files (PBOC Name/IDNum, Baihang name/pid/mobile): present, never a
// token of the lake, the ID number's GB 11643 check digit right, the
// phone a mainland mobile number. It never prints a value.
func checkIdentities(t *testing.T, dir string, tokens map[string]bool) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	seen := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			var r struct {
				Bs                *struct{ Name, IDNum string } `json:"BsSgmt"`
				Name, Pid, Mobile *string
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s:%d: %v", f, n, err)
			}
			var name, id, phone string
			switch {
			case r.Bs != nil:
				name, id = r.Bs.Name, r.Bs.IDNum
			case r.Pid != nil:
				name, id, phone = *r.Name, *r.Pid, *r.Mobile
			default:
				continue // a Baihang repayment record carries no identity
			}
			seen++
			want, ok := pii.CheckDigit(id[:min(len(id), 17)])
			switch {
			case name == "" || tokens[name] || tokens[id] || tokens[phone]:
				t.Errorf("%s:%d: an identity field is empty or a token", f, n)
			case len(id) != 18 || !ok || strings.ToUpper(id[17:]) != string(want):
				t.Errorf("%s:%d: the ID number fails its check digit", f, n)
			case r.Pid != nil && (len(phone) != 11 || phone[0] != '1' || phone[1] < '3' || strings.Trim(phone, "0123456789") != ""):
				t.Errorf("%s:%d: the phone is not a mainland mobile number", f, n)
			}
		}
		fh.Close()
	}
	if strings.Contains(dir, "pboc") && seen < 100 {
		t.Errorf("%s: %d records with identities", dir, seen)
	}
}
