package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The token key as `qiandun ingest` loads it: outside the lake by default,
// at least 32 bytes, owner-only, and the lake's own key only.
func TestIngestKeyChecks(t *testing.T) {
	raw := t.TempDir()
	if err := os.WriteFile(filepath.Join(raw, "loans.csv"), []byte("loan_id,application_id,borrower_id,product,issue_date,principal,annual_rate,term_months,repay_method,purpose,collateral_type,collateral_value,region,status\n"+
		"L1,A1,B1,cash,2018-05-03,1000.50,0.18,12,equal_installment,,none,,,active\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keyDir := filepath.Join(t.TempDir(), "keys")
	t.Setenv("QIANDUN_KEY_DIR", keyDir)
	t.Setenv("QIANDUN_PII_KEY", "")
	lk := filepath.Join(t.TempDir(), "lake")
	ingest := func(extra ...string) (string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		code := realMain(append([]string{"ingest", "--raw", raw, "--lake", lk, "--max-reject-rate", "1"}, extra...), &out, &errb)
		return errb.String(), code
	}
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, []byte(body), mode)
		os.Chmod(p, mode)
		return p
	}

	t.Setenv("QIANDUN_PII_KEY", "x")
	if msg, code := ingest(); code == 0 || !strings.Contains(msg, "too short") {
		t.Errorf("a 1-byte $QIANDUN_PII_KEY: exit %d, %q", code, msg)
	}
	t.Setenv("QIANDUN_PII_KEY", "")
	short := write("short.key", "0123456789abcdef\n", 0o600)
	if msg, code := ingest("--pii-key-file", short); code == 0 || !strings.Contains(msg, "key too short (16 bytes") {
		t.Errorf("a 16-byte key file: exit %d, %q", code, msg)
	}
	open := write("open.key", strings.Repeat("k", 64), 0o644)
	if msg, code := ingest("--pii-key-file", open); code == 0 || !strings.Contains(msg, "chmod 600 "+open) {
		t.Errorf("a world-readable key file: exit %d, %q", code, msg)
	}
	if _, err := os.Stat(filepath.Join(lk, "loans")); err == nil {
		t.Fatal("a refused key still ingested")
	}

	msg, code := ingest()
	if code != 0 {
		t.Fatalf("ingest with the default key: exit %d, %s", code, msg)
	}
	if !strings.Contains(msg, "created PII token key file") || !strings.Contains(msg, filepath.Join(keyDir, "pii.key")) {
		t.Errorf("no log line naming the created key file: %q", msg)
	}
	filepath.WalkDir(lk, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".key") {
			t.Errorf("a key file in the lake: %s", p)
		}
		return nil
	})
	other := write("other.key", strings.Repeat("o", 64), 0o600)
	if msg, code := ingest("--pii-key-file", other); code == 0 || !strings.Contains(msg, "another PII token key") {
		t.Errorf("ingest with another key into the same lake: exit %d, %q", code, msg)
	}
	if msg, code := ingest(); code != 0 {
		t.Errorf("re-ingest with the lake's key: exit %d, %s", code, msg)
	}
}
