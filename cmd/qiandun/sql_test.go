package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ingestSmallBook writes a two-table raw book and ingests it with the CLI.
func ingestSmallBook(t *testing.T) string {
	t.Helper()
	raw, lk := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	files := map[string]string{
		"applications.csv": "application_id,borrower_id,apply_time,product,channel,requested_amount,term_months,id_number,name,phone,gender,education,marital_status,monthly_income,employment_years,city,device_id,ip,decision\n" +
			"A1,B1,2018-05-01 10:00:00,cash,app,\"1,000.50\",12,11010519491231002X,张三,13800138000,男,,,,,北京,D1,1.2.3.4,通过\n",
		"loans.csv": "loan_id,application_id,borrower_id,product,issue_date,principal,annual_rate,term_months,repay_method,purpose,collateral_type,collateral_value,region,status\n" +
			"L1,A1,B1,cash,2018/5/3,1000.50,0.18,12,equal_installment,消费,none,,北京,active\n" +
			"L2,A9,B2,cash,2018-05-03,10.00,0.18,12,equal_installment,,none,,,active\n",
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(raw, n), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errb bytes.Buffer
	t.Setenv("QIANDUN_PII_KEY", "")
	keyDir := filepath.Join(t.TempDir(), "keys")
	t.Setenv("QIANDUN_KEY_DIR", keyDir)
	if code := realMain([]string{"ingest", "--raw", raw, "--lake", lk, "--max-reject-rate", "0.5"}, &out, &errb); code != 0 {
		t.Fatalf("ingest exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "loans") || !strings.Contains(out.String(), "orphan=1") {
		t.Errorf("ingest output %q", out.String())
	}
	if !strings.Contains(errb.String(), "created PII token key file") || strings.Contains(errb.String(), "张三") {
		t.Errorf("ingest log %q", errb.String())
	}
	if st, err := os.Stat(filepath.Join(keyDir, "pii.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(lk, "_keys")); err == nil {
		t.Error("a key directory inside the lake")
	}
	return lk
}

func TestIngestAndSQLCommands(t *testing.T) {
	lk := ingestSmallBook(t)
	sqlRun := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := realMain(append([]string{"sql", "--lake", lk}, args...), &out, &errb)
		return out.String(), errb.String(), code
	}
	out, _, code := sqlRun("--tables")
	if code != 0 || out != "applications                 applications\nloans                        loans\n" {
		t.Errorf("--tables: %d %q", code, out)
	}
	out, _, _ = sqlRun("SELECT loan_id, issue_date, principal, region FROM loans")
	want := "loan_id  issue_date  principal  region\n" +
		"-------  ----------  ---------  ------\n" +
		"L1       2018-05-03    1000.50  北京\n" +
		"(1 row)\n"
	if out != want {
		t.Errorf("table format:\n%s\nwant\n%s", out, want)
	}
	out, _, _ = sqlRun("--format", "csv", "SELECT application_id, requested_amount, gender, decision, age, id_checksum_ok FROM applications")
	if out != "application_id,requested_amount,gender,decision,age,id_checksum_ok\nA1,1000.50,male,approved,68,true\n" {
		t.Errorf("csv format: %q", out)
	}
	out, _, _ = sqlRun("--format", "json", "SELECT loan_id, principal, collateral_value, issue_date, term_months FROM loans")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["principal"] != 1000.5 || m["collateral_value"] != nil || m["issue_date"] != "2018-05-03" || m["term_months"] != 12.0 {
		t.Errorf("json format: %q %v", out, err)
	}
	_, errs, code := sqlRun("SELECT nope FROM loans")
	if code == 0 || !strings.Contains(errs, `"nope"`) {
		t.Errorf("bad query: %d %q", code, errs)
	}
	_, _, code = sqlRun("--format", "xml", "SELECT 1")
	if code == 0 {
		t.Error("--format xml accepted")
	}
}

func TestIngestCommandErrors(t *testing.T) {
	wd := emptyWD(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ingest", "--lake", "x"}, "--raw and --lake are required"},
		{[]string{"ingest", "--raw", filepath.Join(t.TempDir(), "missing"), "--lake", t.TempDir()}, "missing"},
	} {
		var out, errb bytes.Buffer
		if code := realMain(tc.args, &out, &errb); code == 0 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errb.String())
		}
	}
	nothingCreated(t, wd)
}

// TestSQLCSVNeutralisesFormulas: `qiandun sql --format csv` writes text
// cells that start with a formula character with a leading quote (column
// names too); numbers, negative ones included, stay as they are.
func TestSQLCSVNeutralisesFormulas(t *testing.T) {
	var out, errb bytes.Buffer
	q := `SELECT '=cmd|'' /C calc''!A0' AS name, -5 AS n, CAST(-1.25 AS DECIMAL(18,2)) AS amount, '-5' AS text_number, '+86 x' AS phone, 'ok' AS "@col"`
	if code := realMain([]string{"sql", "--lake", t.TempDir(), "--format", "csv", q}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "name,n,amount,text_number,phone,'@col\n'=cmd|' /C calc'!A0,-5,-1.25,-5,'+86 x,ok\n"
	if out.String() != want {
		t.Errorf("csv:\n%q\nwant\n%q", out.String(), want)
	}
}
