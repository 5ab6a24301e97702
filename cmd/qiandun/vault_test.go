package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/ingest/pii"
	"qiandun/data/vault"
)

// `qiandun ingest` seals every accepted name, ID number and phone in the
// vault under the token the lake carries; `qiandun vault rotate` moves the
// vault to a new key with every value intact.
func TestIngestVaultAndRotate(t *testing.T) {
	raw, lk := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	keyDir := filepath.Join(t.TempDir(), "keys")
	t.Setenv("QIANDUN_KEY_DIR", keyDir)
	t.Setenv("QIANDUN_PII_KEY", "")
	t.Setenv(vault.KeyEnv, "")
	people := [][3]string{{"11010519491231002X", "张三", "13800138000"}, {"44030419851231002x", "欧阳娜娜", "13900139000"}}
	apps := "application_id,borrower_id,apply_time,product,channel,requested_amount,term_months,id_number,name,phone,gender,education,marital_status,monthly_income,employment_years,city,device_id,ip,decision\n"
	for i, p := range people {
		apps += "A" + string(rune('1'+i)) + ",B1,2018-05-01 10:00:00,cash,app,1000.50,12," + p[0] + "," + p[1] + "," + p[2] + ",男,,,,,北京,d1,1.2.3.4,通过\n"
	}
	if err := os.WriteFile(filepath.Join(raw, "applications.csv"), []byte(apps), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := realMain(args, &out, &errb); code != 0 {
			t.Fatalf("qiandun %v: exit %d: %s", args, code, errb.String())
		}
		return out.String() + errb.String()
	}
	logs := cli("ingest", "--raw", raw, "--lake", lk, "--max-reject-rate", "1")
	for _, p := range people {
		for _, v := range p {
			if strings.Contains(logs, v) {
				t.Errorf("the ingest log holds %q", v)
			}
		}
	}
	tokenKey, err := os.ReadFile(filepath.Join(keyDir, pii.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	tokenKey = bytes.TrimSpace(tokenKey)
	check := func(keyFile string) {
		t.Helper()
		k, err := os.ReadFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		v, err := vault.Open(lk, bytes.TrimSpace(k), nil)
		if err != nil {
			t.Fatal(err)
		}
		if v.Len() != 6 {
			t.Errorf("the vault holds %d values, want 6", v.Len())
		}
		for _, p := range people {
			for i, want := range p {
				clear := want
				if i == 0 {
					clear = strings.ToUpper(want) // ID numbers are tokenised upper-case
				}
				got, err := v.Reveal(context.Background(), pii.Token(tokenKey, clear), "test")
				if err != nil || got != clear {
					t.Errorf("Reveal(token of %q) = %q, %v", clear, got, err)
				}
			}
		}
	}
	check(filepath.Join(keyDir, vault.KeyFileName))

	newKey := filepath.Join(t.TempDir(), "new.key")
	os.WriteFile(newKey, []byte(strings.Repeat("n", 64)), 0o600)
	if out := cli("vault", "rotate", "--lake", lk, "--new-key-file", newKey); !strings.Contains(out, "6 values re-encrypted") {
		t.Errorf("vault rotate printed %q", out)
	}
	check(newKey)
	old, _ := os.ReadFile(filepath.Join(keyDir, vault.KeyFileName))
	if _, err := vault.Open(lk, bytes.TrimSpace(old), nil); err == nil {
		t.Error("the old key still opens the vault")
	}
}
