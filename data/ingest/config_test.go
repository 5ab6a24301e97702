package ingest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	c, err := LoadConfig(write("max_reject_rate: 0.05\nfiles:\n  \"applications*\": {encoding: gbk}\n  \"loans/*\": {encoding: UTF-8}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if *c.MaxRejectRate != 0.05 {
		t.Errorf("max_reject_rate %v", *c.MaxRejectRate)
	}
	for rel, want := range map[string]string{"applications.csv": EncGBK, "applications-2.csv.gz": EncGBK, "loans/a.csv": EncUTF8, "loans.csv": EncAuto} {
		if got := c.encodingFor(rel); got != want {
			t.Errorf("encodingFor(%s) = %q, want %q", rel, got, want)
		}
	}
	for _, bad := range []string{"files:\n  x: {encoding: latin1}\n", "max_reject: 1\n", "files:\n  \"[\": {encoding: gbk}\n"} {
		if _, err := LoadConfig(write(bad)); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}
