package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qiandun/internal/audit"
)

// TestAuditChildMain is the child process of TestAuditTrail: it runs the
// CLI with the arguments in QIANDUN_CHILD_ARGS (separated by 0x1f).
func TestAuditChildMain(t *testing.T) {
	a := os.Getenv("QIANDUN_CHILD_ARGS")
	if a == "" {
		return
	}
	os.Exit(realMain(strings.Split(a, "\x1f"), os.Stdout, os.Stderr))
}

// A run, a failed run and a killed run of the CLI each leave a truthful
// trail in <lake>/_audit/audit.log, `qiandun audit` prints it, and the
// next run warns of the killed one.
func TestAuditTrail(t *testing.T) {
	lk := ingestSmallBook(t) // run 1: ingest, ok
	var out, errb bytes.Buffer
	// Run 2: a failed perf; run 3: a failed sql whose secret flag value
	// must not be logged.
	if code := realMain([]string{"perf", "--lake", lk, "--as-of", "2020-13-45"}, &out, &errb); code == 0 {
		t.Fatal("perf with a bad date succeeded")
	}
	if code := realMain([]string{"sql", "--lake", lk, "--pii-key=HUNTER2SECRET", "SELECT 1"}, &out, &errb); code == 0 {
		t.Fatal("sql with an unknown flag succeeded")
	}
	// Run 4: a query killed with SIGKILL once its start line is written.
	cmd := exec.Command(os.Args[0], "-test.run=^TestAuditChildMain$")
	cmd.Env = append(os.Environ(), "QIANDUN_CHILD_ARGS="+strings.Join([]string{"sql", "--lake", lk, "SELECT count(*) FROM range(100000000000) a"}, "\x1f"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(audit.Path(lk))
		if bytes.Count(b, []byte("\n")) >= 7 { // 3 runs x 2 lines + the child's start
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the child never wrote its start line:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()

	runs, err := audit.Read(lk, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Fatalf("want 4 runs, got %+v", runs)
	}
	ing, perf, sq, killed := runs[0], runs[1], runs[2], runs[3]
	if ing.Stage != "ingest" || ing.Status != audit.StatusOK || ing.Exit != 0 || len(ing.Outputs) == 0 || len(ing.Inputs) == 0 {
		t.Errorf("ingest: %+v", ing)
	}
	for _, f := range ing.Outputs {
		if len(f.SHA256) != 64 && f.Rows == 0 {
			t.Errorf("ingest output without sha256 or rows: %+v", f)
		}
	}
	if perf.Stage != "perf" || perf.Status != audit.StatusFailed || perf.Exit != 1 || !strings.Contains(perf.Error, "2020-13-45") || len(perf.Outputs) != 0 || len(perf.Inputs) != 0 {
		t.Errorf("perf: %+v", perf)
	}
	if sq.Status != audit.StatusFailed || strings.Join(sq.Args, " ") != "--lake "+lk+" --pii-key=REDACTED SELECT 1" {
		t.Errorf("sql: %+v", sq)
	}
	if killed.Stage != "sql" || killed.Status != audit.StatusKilled || killed.PID != cmd.Process.Pid {
		t.Errorf("killed: %+v", killed)
	}
	b, _ := os.ReadFile(audit.Path(lk))
	if bytes.Contains(b, []byte("HUNTER2")) {
		t.Error("a secret flag value is in the audit log")
	}
	if st, _ := os.Stat(audit.Path(lk)); st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v", st.Mode())
	}

	// qiandun audit prints the four runs, as text and as JSON.
	out.Reset()
	errb.Reset()
	if code := realMain([]string{"audit", "--lake", lk}, &out, &errb); code != 0 {
		t.Fatalf("audit: %s", errb.String())
	}
	text := out.String()
	for _, w := range []string{"ingest", "perf", "killed or crashed", "failed", "ok", "REDACTED"} {
		if !strings.Contains(text, w) {
			t.Errorf("qiandun audit lacks %q:\n%s", w, text)
		}
	}
	out.Reset()
	if code := realMain([]string{"audit", "--lake", lk, "--json", "--since", killed.Start.Format(time.RFC3339Nano)}, &out, &errb); code != 0 {
		t.Fatalf("audit --json: %s", errb.String())
	}
	var e audit.Entry
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &e) != nil || e.Status != audit.StatusKilled {
		t.Errorf("audit --json --since: %q", out.String())
	}
	if code := realMain([]string{"audit", "--lake", lk, "--since", "yesterday"}, &out, &errb); code == 0 {
		t.Error("--since yesterday accepted")
	}

	// The next run says an earlier one did not finish.
	errb.Reset()
	realMain([]string{"sql", "--lake", lk, "SELECT 1"}, &out, &errb)
	if !strings.Contains(errb.String(), "killed or crashed") || !strings.Contains(errb.String(), killed.ID) {
		t.Errorf("the next run did not report the killed one: %q", errb.String())
	}
	if _, err := os.Stat(filepath.Join(lk, audit.Dir)); err != nil {
		t.Fatal(err)
	}
}
