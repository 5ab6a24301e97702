package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"qiandun/stages"
	"slices"
	"strings"
	"testing"
)

// TestDiscloseStage runs the shipped pipeline up to the disclose stage on
// a small generated book: the demo's last issuing month is published with
// one project record per loan issued in it, 0600 files, one vault audit
// line per identity read (in the lake's _audit/vault-reveal.log) and no
// name, ID number or phone of the raw applications anywhere in the site;
// a second run skips the stage; the command by hand on the unchanged month
// writes nothing, and with --from publishes the month before it too (both
// in the index); the portfolio report written beside it links it.
func TestDiscloseStage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real stages")
	}
	root := t.TempDir()
	base := []string{"--to", "disclose", "--set", "root=" + root, "--set", "loans=2000"}
	if st := runPipeline(t, base...); st["disclose"] != "ran" {
		t.Fatalf("first run: %v", st)
	}
	site := filepath.Join(root, "out", "disclosure")
	month := filepath.Join(site, "2023-06")
	var m struct {
		Month    string
		Projects int
		Files    []struct{ Name string }
	}
	b, err := os.ReadFile(filepath.Join(month, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	jl, _ := os.ReadFile(filepath.Join(month, "projects.jsonl"))
	if m.Month != "2023-06" || m.Projects < 20 || strings.Count(string(jl), "\n") != m.Projects || len(m.Files) != m.Projects+3 {
		t.Fatalf("manifest %+v, %d records", m, strings.Count(string(jl), "\n"))
	}
	// the vault's audit lines: one per distinct identity read
	lf, err := os.Open(filepath.Join(root, "lake", "_audit", stages.RevealLog))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	reads, tokens := 0, map[any]bool{}
	for sc := bufio.NewScanner(lf); sc.Scan(); {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l["audit"] != "vault.reveal" || l["purpose"] != "disclose 2023-06" {
			t.Fatalf("audit line %s (%v)", sc.Text(), err)
		}
		reads++
		tokens[l["token"]] = true
	}
	// each distinct name, ID number and phone read once (two borrowers
	// may share a name, hence a name token)
	if reads < 2*m.Projects || reads > 3*m.Projects || len(tokens) != reads {
		t.Errorf("%d vault reads of %d tokens for %d projects", reads, len(tokens), m.Projects)
	}
	// no clear identity of the raw applications in any published file
	apps, err := os.ReadFile(filepath.Join(root, "raw", "applications.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(apps), "\n")
	head := strings.Split(lines[0], ",")
	var clear []string
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		for _, c := range []string{"id_number", "name", "phone"} {
			if i := slices.Index(head, c); i >= 0 && i < len(f) && len([]rune(f[i])) >= 2 {
				clear = append(clear, f[i])
			}
		}
	}
	var all bytes.Buffer
	err = filepath.WalkDir(site, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if st, _ := d.Info(); strings.Contains(p, "2023-06") && st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", p, st.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		all.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clear {
		if bytes.Contains(all.Bytes(), []byte(c)) {
			t.Fatalf("the site carries a clear identity of the raw applications (%d characters)", len(c))
		}
	}
	if st := runPipeline(t, base...); st["disclose"] != "skipped" {
		t.Fatalf("second run: %v", st)
	}
	var stdout, stderr bytes.Buffer
	lk := filepath.Join(root, "lake")
	t.Setenv("QIANDUN_KEY_DIR", filepath.Join(root, "keys"))
	t.Setenv("QIANDUN_VAULT_KEY", "")
	if code := realMain([]string{"disclose", "--lake", lk, "--month", "2023-06", "--out", site}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "unchanged, nothing written") {
		t.Fatalf("re-run by hand: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	// --from fills the history: May published, June unchanged, both indexed
	stdout.Reset()
	if code := realMain([]string{"disclose", "--lake", lk, "--from", "2023-05", "--month", "2023-06", "--out", site}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), "disclose 2023-05: published") || !strings.Contains(stdout.String(), "disclose 2023-06: unchanged") {
		t.Fatalf("--from 2023-05: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if idx, _ := os.ReadFile(filepath.Join(site, "index.html")); !bytes.Contains(idx, []byte(`href="2023-05/index.html"`)) || !bytes.Contains(idx, []byte(`href="2023-06/index.html"`)) {
		t.Error("the index does not list both months")
	}
	stdout.Reset()
	if code := realMain([]string{"report", "--lake", lk, "--disclosure", site, "--out", filepath.Join(root, "reports")}, &stdout, &stderr); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr.String())
	}
	if p, _ := os.ReadFile(filepath.Join(root, "reports", "portfolio.html")); !bytes.Contains(p, []byte(`href="../out/disclosure/index.html"`)) {
		t.Error("the portfolio report does not link the disclosure site")
	}
}
