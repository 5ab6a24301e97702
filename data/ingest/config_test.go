package ingest

import (
	"os"
	"path/filepath"
	"strings"
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

func TestLoadKey(t *testing.T) {
	t.Setenv(KeyEnv, "")
	file := filepath.Join(t.TempDir(), "_keys", "pii.key")
	k1, err := LoadKey(file, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v", st, err)
	}
	if dst, _ := os.Stat(filepath.Dir(file)); dst.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode %v", dst.Mode().Perm())
	}
	k2, _ := LoadKey(file, discardLog())
	if string(k1) != string(k2) || len(k1) != 64 {
		t.Errorf("key not stable: %d bytes", len(k1))
	}
	t.Setenv(KeyEnv, "from-the-environment-1234")
	if k, _ := LoadKey(file, nil); string(k) != "from-the-environment-1234" {
		t.Errorf("env key not used")
	}
	t.Setenv(KeyEnv, "")
	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	if _, err := LoadKey(short, nil); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("short key: %v", err)
	}
}
