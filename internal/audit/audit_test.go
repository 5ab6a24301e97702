package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"--lake", "l", "--pii-key-file=/k/pii.key"}, []string{"--lake", "l", "--pii-key-file=REDACTED"}},
		{[]string{"--pii-key-file", "/k/pii.key", "--lake=l"}, []string{"--pii-key-file", "REDACTED", "--lake=l"}},
		{[]string{"-api-token", "abc", "-v"}, []string{"-api-token", "REDACTED", "-v"}},
		{[]string{"--Password=x"}, []string{"--Password=REDACTED"}},
		{[]string{"-----BEGIN PRIVATE KEY-----\nabc"}, []string{"REDACTED"}},
		{[]string{"--monkey", "--out", "o"}, []string{"--monkey", "--out", "o"}}, // "monkey" holds "key": flag without value, next is a flag
		{[]string{"SELECT 1"}, []string{"SELECT 1"}},
	} {
		if got := Redact(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestAuditChild is the child of TestKilledRunIsReported: it begins a
// run and kills itself before ending it.
func TestAuditChild(t *testing.T) {
	root := os.Getenv("AUDIT_CHILD_ROOT")
	if root == "" {
		return
	}
	if _, err := Begin(root, "perf", []string{"--lake", root}, ""); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// A finished run, a failed run and a killed run each read back as what
// happened, and the log and its directory are private.
func TestRunsReadBackTruthfully(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "_manifests"), 0o755)
	os.WriteFile(filepath.Join(root, "_manifests", "old.json"), []byte(`{"outputs":[{"path":"stale","rows":1}]}`), 0o644)

	r, err := Begin(root, "ingest", []string{"--lake", root}, "")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "_manifests", "ingest.json"), []byte(`{"inputs":[{"path":"loans.csv","sha256":"ab","rows":3}],"outputs":[{"path":"loans/part-0.parquet","sha256":"cd","rows":2}]}`), 0o644)
	if err := r.End(root, 0, nil); err != nil {
		t.Fatal(err)
	}
	f, _ := Begin(root, "perf", nil, r.ID())
	if err := f.End(root, 1, errors.New("perf: lake x: table \"loans\" has no Parquet files\nmore detail")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAuditChild$")
	cmd.Env = append(os.Environ(), "AUDIT_CHILD_ROOT="+root)
	if err := cmd.Run(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child: %v", err)
	}
	runs, err := Read(root, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Fatalf("runs: %+v", runs)
	}
	ok, failed, killed := runs[0], runs[1], runs[2]
	if ok.Stage != "ingest" || ok.Status != StatusOK || ok.Exit != 0 || ok.End.Before(ok.Start) || ok.PID != os.Getpid() || ok.User == "" || ok.Host == "" {
		t.Errorf("ok run: %+v", ok)
	}
	if len(ok.Inputs) != 1 || ok.Inputs[0].SHA256 != "ab" || len(ok.Outputs) != 1 || ok.Outputs[0].Rows != 2 || ok.Outputs[0].Manifest != "ingest.json" {
		t.Errorf("ok run files (the stale manifest must not count): %+v %+v", ok.Inputs, ok.Outputs)
	}
	if failed.Status != StatusFailed || failed.Exit != 1 || failed.Error != `perf: lake x: table "loans" has no Parquet files` || failed.Parent != ok.ID {
		t.Errorf("failed run: %+v", failed)
	}
	if killed.Status != StatusKilled || !killed.Noted || killed.PID == os.Getpid() || !killed.End.IsZero() {
		t.Errorf("killed run: %+v", killed)
	}
	if u, err := Unfinished(root); err != nil || len(u) != 1 || u[0].ID != killed.ID {
		t.Errorf("Unfinished = %v, %v", u, err)
	}
	// A run still going is "running", not killed.
	if _, err := Begin(root, "train", nil, ""); err != nil {
		t.Fatal(err)
	}
	runs, _ = Read(root, time.Time{})
	if runs[3].Status != StatusRunning {
		t.Errorf("live run: %+v", runs[3])
	}
	if runs, _ := Read(root, killed.Start); len(runs) != 2 {
		t.Errorf("since the killed run: %d runs", len(runs))
	}
	for p, want := range map[string]os.FileMode{Path(root): 0o600, filepath.Dir(Path(root)): 0o700} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", p, st.Mode(), err, want)
		}
	}
}

// TestReveals: reveal lines carry the token and purpose, never break the
// runs Read reports, and are read back by ReadReveals in order.
func TestReveals(t *testing.T) {
	root := t.TempDir()
	r, err := Begin(root, "repair", []string{"--lake", root}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := Reveals(root, "repair", "repair 2023-12-31", []string{"tokA", "tokB"}); err != nil {
		t.Fatal(err)
	}
	if err := Reveals(root, "repair", "repair 2023-12-31", nil); err != nil {
		t.Fatal(err)
	}
	if err := r.End(root, 0, nil); err != nil {
		t.Fatal(err)
	}
	runs, err := Read(root, time.Time{})
	if err != nil || len(runs) != 1 || runs[0].Status != StatusOK {
		t.Fatalf("runs %+v, %v: want one finished run", runs, err)
	}
	rv, err := ReadReveals(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(rv) != 2 || rv[0].Token != "tokA" || rv[1].Token != "tokB" || rv[0].Purpose != "repair 2023-12-31" || rv[0].Stage != "repair" {
		t.Fatalf("reveals %+v", rv)
	}
	if st, _ := os.Stat(Path(root)); st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v", st.Mode().Perm())
	}
}

// TestRevealLines: the spliced reveal lines are byte for byte what
// json.Marshal writes for each line, whatever the token holds.
func TestRevealLines(t *testing.T) {
	l := Line{Event: EventReveal, ID: "20260101T000000.000-1-abcd", Stage: "bureau", User: "u", Host: "h", PID: 7,
		Start: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Purpose: "bureau pboc 2023-12"}
	tokens := []string{"tokA", "dGVzdA==", "a-b_c.d/e+f", `quo"te`, `back\slash`, "<html>&", "张三", "tab\there", "\x00token\x00", ""}
	got, err := revealLines(l, tokens)
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, tok := range tokens {
		l.Token = tok
		b, _ := json.Marshal(l)
		want = append(append(want, b...), '\n')
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
