// Package keyfile loads the project's secret keys — the PII token key and
// the PII vault key — from the environment or from key files kept outside
// the lake, and checks them before use: at least MinLen bytes, a file
// readable by its owner only, never a file inside the lake (every copy or
// backup of the lake would carry it). A missing key file can be created
// with a fresh random key, mode 0600. Fingerprint names a key in a
// manifest without revealing it.
package keyfile

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// MinLen is the shortest key accepted, in bytes (of the key as used: the
// trimmed file contents or the environment variable's value).
const MinLen = 32

// DirEnv names the directory of the default key files.
const DirEnv = "QIANDUN_KEY_DIR"

// DefaultDir is where key files live when none is named: $QIANDUN_KEY_DIR,
// else qiandun/ under the user's configuration directory
// (~/.config/qiandun on Linux).
func DefaultDir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("key directory: %w (set %s)", err, DirEnv)
	}
	return filepath.Join(d, "qiandun"), nil
}

// Spec says where one key comes from.
type Spec struct {
	// What names the key in messages ("PII token key").
	What string
	// Env is the environment variable that overrides the file (ignored
	// when empty or unset).
	Env string
	// File is the key file.
	File string
	// Create makes a missing File with a fresh random key (32 random bytes,
	// hex-encoded, mode 0600, its directory 0700) and logs it.
	Create bool
	// Lake, when set, is the lake root: a key file inside it is refused.
	Lake string
	// Log receives the creation line (the key itself is never logged).
	Log *slog.Logger
}

// Load returns the key Spec names: the environment variable's value if
// set, else File's contents with surrounding white space trimmed.
func Load(s Spec) ([]byte, error) {
	if s.Env != "" {
		if k := os.Getenv(s.Env); k != "" {
			if len(k) < MinLen {
				return nil, fmt.Errorf("%s from $%s: too short (%d bytes, want at least %d)", s.What, s.Env, len(k), MinLen)
			}
			return []byte(k), nil
		}
	}
	if s.File == "" {
		return nil, fmt.Errorf("%s: no key file named", s.What)
	}
	if s.Lake != "" {
		if Inside(s.Lake, s.File) {
			return nil, fmt.Errorf("%s file %s is inside the lake %s (every copy of the lake would carry it): keep it outside, e.g. in $%s", s.What, s.File, s.Lake, DirEnv)
		}
	}
	f, err := os.Open(s.File)
	if errors.Is(err, fs.ErrNotExist) && s.Create {
		if err := create(s.File); err != nil {
			return nil, fmt.Errorf("%s: %w", s.What, err)
		}
		if s.Log != nil {
			s.Log.Info("created "+s.What+" file (mode 0600); keep it and back it up apart from the lake", "path", s.File)
		}
		f, err = os.Open(s.File)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.What, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.What, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s file %s: not a regular file", s.What, s.File)
	}
	if p := st.Mode().Perm(); p&0o077 != 0 {
		return nil, fmt.Errorf("%s file %s is readable by group or others (mode %04o): chmod 600 %s", s.What, s.File, p, s.File)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%s file %s: %w", s.What, s.File, err)
	}
	k := bytes.TrimSpace(b)
	if len(k) < MinLen {
		return nil, fmt.Errorf("%s file %s: key too short (%d bytes, want at least %d)", s.What, s.File, len(k), MinLen)
	}
	return k, nil
}

// create writes a fresh random key to file, which must not exist.
func create(file string) error {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		f.Close()
		os.Remove(file)
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(file)
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(file)
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// Inside reports whether file lies in dir or below it (after making both
// absolute and resolving the symbolic links of what exists).
func Inside(dir, file string) bool {
	d, err := realPath(dir)
	if err != nil {
		return false
	}
	f, err := realPath(file)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(d, f)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// realPath is p absolute, with the links of its longest existing prefix
// resolved.
func realPath(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(p, rest), nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// Fingerprint names key without revealing it: the first 16 hex digits of
// HMAC-SHA256(key, "qiandun-key-fingerprint"). Two keys with the same
// fingerprint are, for all practical purposes, the same key.
func Fingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("qiandun-key-fingerprint"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}
