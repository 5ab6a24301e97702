package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestHeaderlessExport: an export without its header line fails
// with a one-line error naming the file, and no raw value of its first
// record (ID number, name, phone, device, IP) reaches the terminal, the
// log or any file of the lake outside the quarantine.
func TestIngestHeaderlessExport(t *testing.T) {
	raw, lk := t.TempDir(), filepath.Join(t.TempDir(), "lake")
	pii := []string{"11010519491231002X", "张三", "13800138000", "DEV-5150c0de", "198.51.100.23"}
	row := "A1,B1,2018-05-01 10:00:00,cash,app,1000.50,12," + pii[0] + "," + pii[1] + "," + pii[2] + ",男,,,,,北京," + pii[3] + "," + pii[4] + ",通过\n"
	if err := os.WriteFile(filepath.Join(raw, "applications.csv"), []byte(row+row), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	t.Setenv("QIANDUN_PII_KEY", "0123456789abcdef0123456789abcdef")
	code := realMain([]string{"ingest", "--raw", raw, "--lake", lk}, &out, &errb)
	if code == 0 {
		t.Fatal("ingest of a header-less export succeeded")
	}
	if !strings.Contains(errb.String(), "applications.csv") || !strings.Contains(errb.String(), "looks like data") {
		t.Errorf("stderr %q does not name the file and say why", errb.String())
	}
	texts := map[string]string{"stdout": out.String(), "stderr": errb.String()}
	filepath.WalkDir(lk, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && d.Name() == "_quarantine" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			texts[p] = string(b)
		}
		return nil
	})
	for where, s := range texts {
		for _, v := range pii {
			if strings.Contains(s, v) {
				t.Errorf("raw PII value %q in %s", v, where)
			}
		}
	}
}
