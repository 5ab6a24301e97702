package keyfile

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const key32 = "0123456789abcdef0123456789abcdef"

func TestLoad(t *testing.T) {
	const env = "QIANDUN_TEST_KEY"
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	if err := os.MkdirAll(lake, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	good := write("good.key", key32+"\n", 0o600)
	readOnly := write("ro.key", key32, 0o400)
	short := write("short.key", "abc\n", 0o600)
	short31 := write("short31.key", key32[:31]+"\n\n", 0o600)
	world := write("world.key", key32, 0o644)
	group := write("group.key", key32, 0o640)
	inLake := filepath.Join(lake, "_keys", "pii.key")
	os.MkdirAll(filepath.Dir(inLake), 0o700)
	os.WriteFile(inLake, []byte(key32), 0o600)

	for _, c := range []struct {
		name    string
		env     string
		spec    Spec
		want    string // the key, or
		wantErr string // a fragment of the error
	}{
		{name: "file", spec: Spec{File: good}, want: key32},
		{name: "read-only file", spec: Spec{File: readOnly}, want: key32},
		{name: "environment wins", env: strings.Repeat("e", 32), spec: Spec{File: good}, want: strings.Repeat("e", 32)},
		{name: "1-byte environment key", env: "x", spec: Spec{File: good}, wantErr: "too short (1 bytes, want at least 32)"},
		{name: "31-byte environment key", env: key32[:31], spec: Spec{File: good}, wantErr: "too short"},
		{name: "short file", spec: Spec{File: short}, wantErr: "key too short (3 bytes"},
		{name: "31 bytes and white space", spec: Spec{File: short31}, wantErr: "key too short (31 bytes"},
		{name: "world-readable", spec: Spec{File: world}, wantErr: "readable by group or others (mode 0644): chmod 600 " + world},
		{name: "group-readable", spec: Spec{File: group}, wantErr: "chmod 600 " + group},
		{name: "inside the lake", spec: Spec{File: inLake, Lake: lake}, wantErr: "inside the lake"},
		{name: "inside the lake, via ..", spec: Spec{File: filepath.Join(dir, "x", "..", "lake", "_keys", "pii.key"), Lake: lake}, wantErr: "inside the lake"},
		{name: "missing, not created", spec: Spec{File: filepath.Join(dir, "none.key")}, wantErr: "no such file"},
		{name: "a directory", spec: Spec{File: dir}, wantErr: "not a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(env, c.env)
			c.spec.Env, c.spec.What = env, "test key"
			k, err := Load(c.spec)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Load: %v, want an error with %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), key32) {
					t.Errorf("the error quotes the key: %v", err)
				}
				return
			}
			if err != nil || string(k) != c.want {
				t.Fatalf("Load = %q, %v; want %q", k, err, c.want)
			}
		})
	}
}

func TestLoadCreates(t *testing.T) {
	file := filepath.Join(t.TempDir(), "conf", "qiandun", "pii.key")
	var logs bytes.Buffer
	s := Spec{What: "PII token key", File: file, Create: true, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	k1, err := Load(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) < MinLen {
		t.Errorf("created key has %d bytes", len(k1))
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v", st, err)
	}
	if dst, _ := os.Stat(filepath.Dir(file)); dst.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode %v", dst.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "created PII token key file") || !strings.Contains(logs.String(), file) {
		t.Errorf("no creation line naming the file: %q", logs.String())
	}
	if strings.Contains(logs.String(), string(k1)) {
		t.Error("the log holds the key")
	}
	logs.Reset()
	k2, err := Load(s)
	if err != nil || string(k1) != string(k2) {
		t.Errorf("second load: %v, same key %v", err, string(k1) == string(k2))
	}
	if logs.Len() != 0 {
		t.Errorf("second load logged %q", logs.String())
	}
	other := filepath.Join(t.TempDir(), "pii.key")
	k3, _ := Load(Spec{File: other, Create: true})
	if string(k3) == string(k1) {
		t.Error("two created keys are equal")
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv(DirEnv, "/secrets/qd")
	if d, err := DefaultDir(); err != nil || d != "/secrets/qd" {
		t.Errorf("DefaultDir with $%s = %q, %v", DirEnv, d, err)
	}
	t.Setenv(DirEnv, "")
	t.Setenv("XDG_CONFIG_HOME", "/home/u/.config")
	if d, err := DefaultDir(); err != nil || d != "/home/u/.config/qiandun" {
		t.Errorf("DefaultDir = %q, %v", d, err)
	}
}

// The golden values are Python's hmac.new(key, b"qiandun-key-fingerprint",
// hashlib.sha256).hexdigest()[:16].
func TestFingerprint(t *testing.T) {
	for key, want := range map[string]string{
		key32:                   "c4ba60a25cf52f79",
		strings.Repeat("k", 40): "ec501973774dae9d",
	} {
		if got := Fingerprint([]byte(key)); got != want {
			t.Errorf("Fingerprint(%q) = %s, want %s", key, got, want)
		}
	}
}

func ExampleFingerprint() {
	fmt.Println(Fingerprint([]byte("0123456789abcdef0123456789abcdef")))
	// Output: c4ba60a25cf52f79
}
