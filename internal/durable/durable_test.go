package durable

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "f.json")
	for _, tc := range []struct {
		data string
		perm os.FileMode
	}{{"first", 0o644}, {"second, longer", 0o600}} {
		if err := WriteFile(path, []byte(tc.data), tc.perm); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != tc.data {
			t.Fatalf("read %q, %v; want %q", b, err, tc.data)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != tc.perm {
			t.Errorf("mode %v, want %v", st.Mode().Perm(), tc.perm)
		}
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("%d entries beside the file, want only it: %v", len(ents), ents)
	}
}

// TestSHA256 checks the FIPS 180-2 test vectors.
func TestSHA256(t *testing.T) {
	for in, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	} {
		p := filepath.Join(t.TempDir(), "f")
		os.WriteFile(p, []byte(in), 0o644)
		if got, err := SHA256(p); err != nil || got != want {
			t.Errorf("SHA256(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := SHA256(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

// TestReplaceAndRecoverDir covers a first publish, a replacement, and the
// two states a crash inside ReplaceDir can leave behind.
func TestReplaceAndRecoverDir(t *testing.T) {
	root := t.TempDir()
	dst := filepath.Join(root, "out")
	publish := func(v string) {
		src := filepath.Join(root, ".tmp-"+v)
		os.MkdirAll(src, 0o755)
		os.WriteFile(filepath.Join(src, "v"), []byte(v), 0o644)
		if err := ReplaceDir(src, dst); err != nil {
			t.Fatal(err)
		}
	}
	version := func() string {
		b, err := os.ReadFile(filepath.Join(dst, "v"))
		if err != nil {
			return "none"
		}
		return string(b)
	}
	publish("1")
	publish("2")
	if v := version(); v != "2" {
		t.Fatalf("after two publishes: version %s", v)
	}
	if _, err := os.Stat(dst + ".old"); err == nil {
		t.Error("dst.old left behind")
	}
	// Crash after moving the old version aside, before the new one landed.
	os.Rename(dst, dst+".old")
	if err := RecoverDir(dst); err != nil || version() != "2" {
		t.Fatalf("recover moved-aside: version %s, %v", version(), err)
	}
	// Crash after the new version landed, before the old one was removed.
	os.MkdirAll(dst+".old", 0o755)
	if err := RecoverDir(dst); err != nil || version() != "2" {
		t.Fatalf("recover both: version %s, %v", version(), err)
	}
	if _, err := os.Stat(dst + ".old"); err == nil {
		t.Error("dst.old not removed")
	}
	if err := RecoverDir(filepath.Join(root, "never")); err != nil {
		t.Errorf("nothing to recover: %v", err)
	}
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d", ".lock")
	release, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	release()
	again, err := Lock(path)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()
}
