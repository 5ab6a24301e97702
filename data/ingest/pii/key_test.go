package pii

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/internal/keyfile"
)

const legacyKey = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// lakeWithLegacyKey returns a lake that keeps its token key inside, as
// releases before key fingerprints did.
func lakeWithLegacyKey(t *testing.T) string {
	t.Helper()
	lake := filepath.Join(t.TempDir(), "lake")
	if err := os.MkdirAll(filepath.Join(lake, "_keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(LegacyKeyFile(lake), []byte(legacyKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return lake
}

func TestLoadTokenKeyDefault(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(KeyEnv, "")
	t.Setenv(keyfile.DirEnv, dir)
	lake := filepath.Join(t.TempDir(), "lake")
	k, err := LoadTokenKey(lake, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, KeyFileName))
	if err != nil || strings.TrimSpace(string(b)) != string(k) {
		t.Fatalf("the default key file is not $%s/%s: %v", keyfile.DirEnv, KeyFileName, err)
	}
	if _, err := os.Stat(lake); err == nil {
		t.Error("loading the key created the lake")
	}
	if _, err := LoadTokenKey(lake, filepath.Join(lake, "keys", "pii.key"), nil); err == nil || !strings.Contains(err.Error(), "inside the lake") {
		t.Errorf("a key file inside the lake: %v", err)
	}
	t.Setenv(KeyEnv, "short")
	if _, err := LoadTokenKey(lake, "", nil); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a 5-byte $%s: %v", KeyEnv, err)
	}
}

func TestLoadTokenKeyMigratesLegacy(t *testing.T) {
	t.Setenv(KeyEnv, "")
	lake := lakeWithLegacyKey(t)
	target := filepath.Join(t.TempDir(), "keys", KeyFileName)
	var logs bytes.Buffer
	k, err := LoadTokenKey(lake, target, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if string(k) != legacyKey {
		t.Errorf("migrated key %q, want the lake's", k)
	}
	if st, err := os.Stat(target); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("moved key file %v, %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(lake, "_keys")); err == nil {
		t.Error("the key is still in the lake")
	}
	if !strings.Contains(logs.String(), "moved the PII token key out of the lake") || !strings.Contains(logs.String(), target) {
		t.Errorf("log %q", logs.String())
	}
	if strings.Contains(logs.String(), legacyKey) {
		t.Error("the log holds the key")
	}
}

func TestLoadTokenKeyLegacyConflicts(t *testing.T) {
	other := strings.Repeat("o", 40)
	for _, c := range []struct {
		name, env, file string // file: contents of the named key file ("" = none)
		wantErr         string
		keep            bool // the lake's key file is left in place
	}{
		{name: "file holds the same key", file: legacyKey + "\n"},
		{name: "file holds another key", file: other, wantErr: "differs from key file", keep: true},
		{name: "environment holds the same key", env: legacyKey},
		{name: "environment holds another key", env: other, wantErr: "differs from $" + KeyEnv, keep: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(KeyEnv, c.env)
			lake := lakeWithLegacyKey(t)
			target := filepath.Join(t.TempDir(), KeyFileName)
			if c.file != "" {
				os.WriteFile(target, []byte(c.file), 0o600)
			}
			k, err := LoadTokenKey(lake, target, nil)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), LegacyKeyFile(lake)) {
					t.Fatalf("err %v, want one naming %s with %q", err, LegacyKeyFile(lake), c.wantErr)
				}
			} else if err != nil || string(k) != legacyKey {
				t.Fatalf("LoadTokenKey = %q, %v", k, err)
			}
			_, serr := os.Stat(LegacyKeyFile(lake))
			if kept := serr == nil; kept != c.keep {
				t.Errorf("lake's key file kept: %v, want %v", kept, c.keep)
			}
		})
	}
}
