package pii

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"qiandun/internal/keyfile"
)

// KeyEnv is the environment variable that holds the PII token key (at
// least keyfile.MinLen bytes); when set it wins over any key file.
const KeyEnv = "QIANDUN_PII_KEY"

// KeyFileName is the token key file's name in the key directory.
const KeyFileName = "pii.key"

// LegacyKeyFile is where releases before key fingerprints kept the token
// key: inside the lake, so every backup of the lake carried it.
func LegacyKeyFile(lake string) string { return filepath.Join(lake, "_keys", KeyFileName) }

// DefaultKeyFile is the token key file used when none is named:
// pii.key in keyfile.DefaultDir ($QIANDUN_KEY_DIR, else ~/.config/qiandun).
func DefaultKeyFile() (string, error) {
	d, err := keyfile.DefaultDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, KeyFileName), nil
}

// LoadTokenKey returns the PII token key for ingesting into lake: the
// value of $QIANDUN_PII_KEY if set, else the contents of file (the default
// key file when file is empty), created with a fresh random key on first
// use. The key must be at least 32 bytes, its file mode 0600 (or
// stricter) and outside the lake.
//
// A key still kept in the lake (LegacyKeyFile) is moved out: to file when
// file does not exist yet (with a log line naming both paths); deleted
// from the lake when file or $QIANDUN_PII_KEY holds the same key; and the
// load is refused, with instructions, when they differ — the lake's
// tokens were made with the key inside it.
func LoadTokenKey(lake, file string, log *slog.Logger) ([]byte, error) {
	if file == "" {
		var err error
		if file, err = DefaultKeyFile(); err != nil {
			return nil, err
		}
	}
	s := keyfile.Spec{What: "PII token key", Env: KeyEnv, File: file, Create: true, Lake: lake, Log: log}
	if keyfile.Inside(lake, file) {
		return nil, fmt.Errorf("PII token key file %s is inside the lake %s (every copy of the lake would carry it): keep it outside, e.g. in $%s", file, lake, keyfile.DirEnv)
	}
	if err := migrateLegacy(s, LegacyKeyFile(lake), log); err != nil {
		return nil, err
	}
	return keyfile.Load(s)
}

// migrateLegacy moves a token key out of the lake (see LoadTokenKey).
func migrateLegacy(s keyfile.Spec, legacy string, log *slog.Logger) error {
	raw, err := os.ReadFile(legacy)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("PII token key in the lake: %w", err)
	}
	old := bytes.TrimSpace(raw)
	drop := func(why string) error {
		if err := os.Remove(legacy); err != nil {
			return fmt.Errorf("PII token key in the lake: %w", err)
		}
		os.Remove(filepath.Dir(legacy)) // the _keys directory, when now empty
		if log != nil {
			log.Info("removed the PII token key from the lake: "+why, "removed", legacy)
		}
		return nil
	}
	if env := os.Getenv(KeyEnv); env != "" {
		if env == string(old) {
			return drop("$" + KeyEnv + " holds the same key")
		}
		return fmt.Errorf("the lake holds a PII token key (%s) that differs from $%s; its tokens were made with the key in the lake: unset %s, or move that file out of the lake (mkdir -p DIR && mv %s DIR/ && chmod 600 DIR/%s) and set %s to its contents",
			legacy, KeyEnv, KeyEnv, legacy, KeyFileName, KeyEnv)
	}
	cur, err := os.ReadFile(s.File)
	switch {
	case err == nil && bytes.Equal(bytes.TrimSpace(cur), old):
		return drop("key file " + s.File + " holds the same key")
	case err == nil:
		return fmt.Errorf("the lake holds a PII token key (%s) that differs from key file %s; the lake's tokens were made with the key in the lake: move it out (mv %s NEWFILE && chmod 600 NEWFILE) and pass --pii-key-file NEWFILE",
			legacy, s.File, legacy)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("PII token key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.File), 0o700); err != nil {
		return fmt.Errorf("PII token key: %w", err)
	}
	f, err := os.OpenFile(s.File, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("PII token key: %w", err)
	}
	_, err = f.Write(raw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(s.File)
		return fmt.Errorf("PII token key %s: %w", s.File, err)
	}
	if log != nil {
		log.Info("moved the PII token key out of the lake (back it up apart from the lake)", "from", legacy, "to", s.File)
	}
	if err := os.Remove(legacy); err != nil {
		return fmt.Errorf("PII token key in the lake: %w", err)
	}
	os.Remove(filepath.Dir(legacy))
	return nil
}
