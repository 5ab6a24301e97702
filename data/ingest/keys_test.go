package ingest

import (
	"context"
	"os"
	"strings"
	"testing"

	"qiandun/data/ingest/pii"
	"qiandun/data/lake"
	"qiandun/internal/keyfile"
)

// A second ingest with another token key into the same lake is refused
// (the same person would get two tokens), and the manifest names the key
// by its fingerprint, never by the key.
func TestKeyFingerprint(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	writeRaw(t, raw, bookFiles(cleanBook()))
	o := testOptions(raw, lk)
	run(t, o)
	b, err := os.ReadFile(lake.New(lk).ManifestPath(Stage))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"key_fingerprint": "`+keyfile.Fingerprint(o.Key)+`"`) {
		t.Errorf("manifest has no key fingerprint:\n%s", b)
	}
	if strings.Contains(string(b), string(o.Key)) {
		t.Error("the manifest holds the key")
	}

	writeRaw(t, raw, map[string]string{"repayments-2.csv": "txn_id,loan_id,installment_no,paid_at,principal_paid,interest_paid,penalty_paid\n" +
		"T3,L1,2,2018-07-03 09:00:00,406.00,69.00,0\n"})
	other := o
	other.Key = []byte("another-key-0123456789abcdef-0123")
	_, err = Run(context.Background(), other)
	if err == nil || !strings.Contains(err.Error(), "another PII token key") || !strings.Contains(err.Error(), keyfile.Fingerprint(o.Key)) {
		t.Fatalf("ingest with another key: %v", err)
	}
	if got := lakeRows(t, lk)["repayments"]; len(got) != 2 {
		t.Errorf("the refused ingest changed the lake: %d repayments", len(got))
	}
	// The lake's own key still ingests.
	res := run(t, o)
	if len(res.Tables) != 1 || res.Tables[0].LakeRows != 3 {
		t.Errorf("ingest with the lake's key: %+v", res.Tables)
	}
}

// Device ids and IP addresses are personal information: the lake holds
// their tokens under the same key, and no clear value.
func TestDeviceAndIPTokenised(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	writeRaw(t, raw, bookFiles(cleanBook()))
	o := testOptions(raw, lk)
	run(t, o)
	db := openDB(t)
	scan, err := lake.New(lk).Scan("applications")
	if err != nil {
		t.Fatal(err)
	}
	if cols := query(t, db, "SELECT column_name FROM (DESCRIBE SELECT * FROM "+scan+") WHERE column_name IN ('device_id', 'ip')"); len(cols) != 0 {
		t.Errorf("clear columns in the lake: %v", cols)
	}
	got := query(t, db, "SELECT application_id, device_id_token, ip_token FROM "+scan+" ORDER BY 1")
	want := []string{
		"A1|" + pii.Token(o.Key, "D1") + "|" + pii.Token(o.Key, "1.2.3.4"),
		"A2|" + pii.Token(o.Key, "D2") + "|" + pii.Token(o.Key, "1.2.3.5"),
		"A3|" + pii.Token(o.Key, "D3") + "|" + pii.Token(o.Key, "1.2.3.6"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("applications:\n got %q\nwant %q", got, want)
	}
	for _, r := range lakeRows(t, lk)["applications"] {
		for _, f := range strings.Split(r, "|") {
			if f == "D1" || f == "D2" || f == "D3" || strings.HasPrefix(f, "1.2.3.") {
				t.Errorf("clear device id or IP %q in row %q", f, r)
			}
		}
	}
}
