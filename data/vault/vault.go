// Package vault keeps the clear personal values the lake replaces by
// tokens — name, ID number, phone — for the few jobs that need a real
// identity (bureau reporting, disclosure). Each value is encrypted with
// AES-256-GCM under the vault key (separate from the token key) with a
// fresh random nonce, and authenticated together with its token, so an
// entry cannot be moved to another token. The vault is one file,
// <lake>/_vault/pii.vault (mode 0600), keyed by the token the analytic
// tables carry; it records the fingerprint of its key. Writes are atomic
// (a new file beside, synced, then one rename), and so is Rotate, which
// re-encrypts every value under a new key. In a lake the vault is an
// output of the ingest commit (Rel, Chain): ingest writes it into its
// commit with WriteFile, and Rotate publishes a new commit of that chain.
// Every Reveal is logged as an
// audit line naming the token and the purpose, never the value.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	"qiandun/internal/durable"
	"qiandun/internal/keyfile"
)

// KeyEnv is the environment variable that holds the vault key.
const KeyEnv = "QIANDUN_VAULT_KEY"

// KeyFileName is the vault key file's name in the key directory.
const KeyFileName = "vault.key"

// Rel is the vault file's path in a lake. It is an output of the ingest
// stage's commit (chain Chain): <lake>/_vault/pii.vault is a mounted link
// to the committed version, so the vault and the tables whose tokens it
// holds are published by one commit, and a crash leaves both of one
// commit.
const Rel = "_vault/pii.vault"

// Chain is the commit chain the vault belongs to: the ingest stage's.
const Chain = "ingest"

// Path is the vault file of a lake.
func Path(lake string) string { return filepath.Join(lake, filepath.FromSlash(Rel)) }

// LoadKey returns the vault key: $QIANDUN_VAULT_KEY, else file (the
// default vault.key in keyfile.DefaultDir when empty), created on first
// use when create is set. The same rules as the token key apply: at least
// 32 bytes, owner-only, outside the lake.
func LoadKey(lake, file string, create bool, log *slog.Logger) ([]byte, error) {
	if file == "" {
		d, err := keyfile.DefaultDir()
		if err != nil {
			return nil, err
		}
		file = filepath.Join(d, KeyFileName)
	}
	return keyfile.Load(keyfile.Spec{What: "PII vault key", Env: KeyEnv, File: file, Create: create, Lake: lake, Log: log})
}

// file is the vault's on-disk form.
type file struct {
	KeyFingerprint string            `json:"key_fingerprint"`
	Entries        map[string]string `json:"entries"` // token -> base64(nonce || ciphertext)
}

// Vault is an open vault: its entries and the key they are sealed with.
type Vault struct {
	path string
	aead cipher.AEAD
	fp   string
	ent  map[string]string
	log  *slog.Logger
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) < keyfile.MinLen {
		return nil, fmt.Errorf("vault key too short (%d bytes, want at least %d)", len(key), keyfile.MinLen)
	}
	k := sha256.Sum256(key) // AES-256 wants exactly 32 bytes
	b, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Open opens the vault of lake under key (an empty vault when it has no
// file yet). A vault sealed with another key is refused.
func Open(lake string, key []byte, log *slog.Logger) (*Vault, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	v := &Vault{path: Path(lake), aead: aead, fp: keyfile.Fingerprint(key), ent: map[string]string{}, log: log}
	b, err := os.ReadFile(v.path)
	if errors.Is(err, fs.ErrNotExist) {
		return v, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	f, err := decodeFile(b)
	if err != nil {
		return nil, fmt.Errorf("vault %s: %w", v.path, err)
	}
	if f.KeyFingerprint != v.fp {
		return nil, fmt.Errorf("vault %s is sealed with another key (fingerprint %s; this key's is %s): use the vault key it was written or rotated with", v.path, f.KeyFingerprint, v.fp)
	}
	if f.Entries != nil {
		v.ent = f.Entries
	}
	return v, nil
}

// decodeFile parses a vault file; b is given away (never written after).
// The file as json.Marshal writes it ({"key_fingerprint":"..",
// "entries":{"token":"base64",...}}, ASCII without escapes) is read by
// one scan, the map's strings slices of b: at 3 million values a fraction
// of encoding/json's time. Anything else goes to encoding/json.
func decodeFile(b []byte) (file, error) {
	if f, ok := scanFile(b); ok {
		return f, nil
	}
	var f file
	err := json.Unmarshal(b, &f)
	return f, err
}

// scanFile is decodeFile's fast path; ok is false when b is not in the
// exact form json.Marshal gives a file of plain ASCII strings.
func scanFile(b []byte) (f file, ok bool) {
	for _, c := range b {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return file{}, false
		}
	}
	// b is the caller's to give away (never written after): the map's
	// strings are slices of it, without a copy.
	s := unsafe.String(unsafe.SliceData(b), len(b))
	const head, mid = `{"key_fingerprint":"`, `","entries":{`
	if !strings.HasPrefix(s, head) {
		return file{}, false
	}
	s = s[len(head):]
	i := strings.IndexByte(s, '"')
	if i < 0 || !strings.HasPrefix(s[i:], mid) {
		return file{}, false
	}
	f.KeyFingerprint, s = s[:i], s[i+len(mid):]
	f.Entries = make(map[string]string, strings.Count(s, `","`)+1)
	n := 0
	for len(s) > 0 && s[0] != '}' {
		// "token":"value" then , or }
		if s[0] != '"' {
			return file{}, false
		}
		k := strings.IndexByte(s[1:], '"')
		if k < 0 || !strings.HasPrefix(s[1+k:], `":"`) {
			return file{}, false
		}
		tok := s[1 : 1+k]
		s = s[1+k+3:]
		e := strings.IndexByte(s, '"')
		if e < 0 || e+1 >= len(s) || (s[e+1] != ',' && s[e+1] != '}') {
			return file{}, false
		}
		f.Entries[tok], s = s[:e], s[e+1:]
		n++
		if s[0] == ',' {
			if s = s[1:]; s == "" || s[0] != '"' {
				return file{}, false
			}
		}
	}
	// a token twice: encoding/json keeps the last value; let it decide
	return f, s == "}}" && n == len(f.Entries)
}

// Len returns the number of values in the vault.
func (v *Vault) Len() int { return len(v.ent) }

// Tokens returns the vault's tokens, sorted.
func (v *Vault) Tokens() []string {
	out := make([]string, 0, len(v.ent))
	for t := range v.ent {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func seal(aead cipher.AEAD, token, value string) (string, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(value)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("vault: nonce: %w", err)
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(value), []byte(token))), nil
}

func open(aead cipher.AEAD, token, sealed string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < aead.NonceSize() {
		return "", fmt.Errorf("vault: entry of token %s is corrupt", token)
	}
	p, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(token))
	if err != nil {
		return "", fmt.Errorf("vault: entry of token %s does not authenticate", token)
	}
	return string(p), nil
}

// Put seals value under token (replacing any earlier value); Save writes
// it.
func (v *Vault) Put(token, value string) error {
	s, err := seal(v.aead, token, value)
	if err != nil {
		return err
	}
	v.ent[token] = s
	return nil
}

// Has reports whether the vault holds token.
func (v *Vault) Has(token string) bool { _, ok := v.ent[token]; return ok }

// Reveal returns the clear value of token, for purpose (e.g. "bureau
// 2024-01", "disclose"), and logs an audit line naming both (never the
// value).
func (v *Vault) Reveal(ctx context.Context, token, purpose string) (string, error) {
	if purpose == "" {
		return "", errors.New("vault: a reveal needs a purpose")
	}
	s, ok := v.ent[token]
	if !ok {
		v.log.LogAttrs(ctx, slog.LevelWarn, "vault reveal: no such token", slog.String("audit", "vault.reveal"), slog.String("token", token), slog.String("purpose", purpose))
		return "", fmt.Errorf("vault: no value for token %s", token)
	}
	val, err := open(v.aead, token, s)
	if err != nil {
		return "", err
	}
	v.log.LogAttrs(ctx, slog.LevelInfo, "vault reveal", slog.String("audit", "vault.reveal"), slog.String("token", token), slog.String("purpose", purpose))
	return val, nil
}

// Save writes the vault atomically in place: a new file beside, synced,
// then one rename. It refuses a vault committed with a lake's ingest
// (a mounted link): that one is written with WriteFile into a commit.
func (v *Vault) Save() error {
	if st, err := os.Lstat(v.path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("vault %s is committed with the lake's ingest: write it into a commit (WriteFile)", v.path)
	}
	return writeAtomic(v.path, file{KeyFingerprint: v.fp, Entries: v.ent}, nil)
}

// WriteFile writes the vault to path (in a commit's staging area),
// synced, mode 0600 in a 0700 directory.
func (v *Vault) WriteFile(path string) error {
	return writeAtomic(path, file{KeyFingerprint: v.fp, Entries: v.ent}, nil)
}

// writeAtomic writes f to path by a synced temporary file and one rename;
// hook, when set, is called at each step ("written", "synced") and an
// error from it stops the write there (tests inject crashes with it).
func writeAtomic(path string, f file, hook func(step string) error) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	tmp := path + ".new"
	w, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	step := func(name string) error {
		if hook != nil {
			return hook(name)
		}
		return nil
	}
	if _, err = w.Write(b); err == nil {
		err = step("written")
	}
	if err == nil {
		err = w.Sync()
	}
	if err == nil {
		err = step("synced")
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("vault %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("vault %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Rotate re-encrypts every value of lake's vault from oldKey to newKey,
// atomically: the new vault is written beside the old one and replaces it
// by one rename, so a crash before that leaves the old vault whole and
// usable with oldKey, and after it the new one with newKey. It returns the
// number of values re-encrypted.
func Rotate(lake string, oldKey, newKey []byte, log *slog.Logger) (int, error) {
	return rotate(lake, oldKey, newKey, log, nil)
}

func rotate(lake string, oldKey, newKey []byte, log *slog.Logger, hook func(step string) error) (int, error) {
	old, err := Open(lake, oldKey, log)
	if err != nil {
		return 0, err
	}
	if _, err := os.Stat(old.path); err != nil {
		return 0, fmt.Errorf("vault rotate: %w", err)
	}
	aead, err := newAEAD(newKey)
	if err != nil {
		return 0, err
	}
	next := file{KeyFingerprint: keyfile.Fingerprint(newKey), Entries: make(map[string]string, len(old.ent))}
	if next.KeyFingerprint == old.fp {
		return 0, errors.New("vault rotate: the new key is the old key")
	}
	for tok, s := range old.ent {
		val, err := open(old.aead, tok, s)
		if err != nil {
			return 0, err
		}
		if next.Entries[tok], err = seal(aead, tok, val); err != nil {
			return 0, err
		}
	}
	if st, err := os.Lstat(old.path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return len(next.Entries), commitRotated(lake, next, hook)
	}
	if err := writeAtomic(old.path, next, hook); err != nil {
		os.Remove(old.path + ".new")
		return 0, err
	}
	return len(next.Entries), nil
}

// commitRotated publishes the re-encrypted vault as a new commit of the
// ingest chain that keeps every other output of the committed version
// (the tables, quarantine and manifest, hard-linked): a crash before the
// commit point leaves the old vault with the old key, after it the new.
// The caller holds the lake's writer lock.
func commitRotated(lake string, next file, hook func(step string) error) error {
	tx, err := durable.Begin(lake, Chain)
	if err != nil {
		return fmt.Errorf("vault rotate: %w", err)
	}
	defer tx.Abort()
	mounts, err := tx.CommittedMounts()
	if err != nil {
		return fmt.Errorf("vault rotate: %w", err)
	}
	for _, m := range mounts {
		if m == Rel {
			continue
		}
		if err := tx.Keep(m); err != nil {
			return fmt.Errorf("vault rotate: %w", err)
		}
		tx.Mount(m)
	}
	if err := writeAtomic(tx.Path(Rel), next, hook); err != nil {
		return err
	}
	tx.Mount(Rel)
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("vault rotate: %w", err)
	}
	return nil
}
