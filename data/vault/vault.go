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
//
// Memory is bounded whatever the number of values. The file is sorted by
// token with a sparse index of its blocks (store.go): Open reads only its
// header and index, a lookup is a binary search in memory and one short
// read. Puts are sealed at once and held in a buffer of at most
// DefaultBufferBytes; a full buffer is spilled, sorted, as a run to the
// lake's temporary area (unlinked as soon as created, so a crash leaves
// nothing behind), and WriteFile or Save merges the vault's file and the
// runs in one streaming pass (the newest Put of a token wins). A vault in
// the JSON form of older releases is still opened (streamed into a
// temporary sorted file) and the next write converts it.
package vault

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
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

// DefaultBufferBytes bounds the sealed Puts a vault holds in memory;
// beyond, they are spilled to a sorted run on disk.
const DefaultBufferBytes = 32 << 20

// tmpDir is the lake's temporary area (data/lake.TmpDir), emptied by the
// next writer of the lake.
const tmpDir = "_tmp"

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

// Vault is an open vault: its file's index, the Puts not yet written,
// and the key they are sealed with. Its methods are safe for concurrent
// use.
type Vault struct {
	lake, path string
	aead       cipher.AEAD
	fp         string
	log        *slog.Logger

	mu     sync.Mutex
	base   *table   // the vault file as opened or last written; nil: none
	runs   []*table // spilled Puts, oldest first
	buf    pending  // Puts since the last spill
	bufMax int
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
// file yet). A vault sealed with another key is refused. Only the file's
// header and index are read; Close releases it.
func Open(lake string, key []byte, log *slog.Logger) (*Vault, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	v := &Vault{lake: lake, path: Path(lake), aead: aead, fp: keyfile.Fingerprint(key), log: log, bufMax: DefaultBufferBytes}
	f, err := os.Open(v.path)
	if errors.Is(err, fs.ErrNotExist) {
		return v, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	head := make([]byte, len(magic))
	if n, _ := io.ReadFull(f, head); n == len(magic) && string(head) == magic {
		t, err := openTable(f, v.path)
		if err != nil {
			return nil, err
		}
		if t.fp != v.fp {
			t.close()
			return nil, v.otherKey(t.fp)
		}
		v.base = t
		return v, nil
	}
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if err := v.openJSON(f); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

func (v *Vault) otherKey(fp string) error {
	return fmt.Errorf("vault %s is sealed with another key (fingerprint %s; this key's is %s): use the vault key it was written or rotated with", v.path, fp, v.fp)
}

// errOtherKey stops the reading of a JSON vault sealed with another key.
type errOtherKey struct{ fp string }

func (e errOtherKey) Error() string { return "another key: " + e.fp }

// openJSON reads a vault in the JSON form of older releases into a
// temporary sorted file, the vault's base until the next write converts
// it.
func (v *Vault) openJSON(r io.Reader) error {
	fp := ""
	err := readJSON(bufio.NewReaderSize(r, 1<<20), func(s string) error {
		if fp = s; s != v.fp {
			return errOtherKey{s}
		}
		return nil
	}, func(tok, val string) error {
		sealed, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			sealed = nil // Reveal says the entry is corrupt, as before
		}
		return v.putSealed([]byte(tok), sealed)
	})
	var ok errOtherKey
	switch {
	case errors.As(err, &ok):
		return v.otherKey(ok.fp)
	case err != nil:
		return fmt.Errorf("vault %s: %w", v.path, err)
	case fp != v.fp:
		return v.otherKey(fp)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.compact()
}

// tempFile creates a file in the lake's temporary area and unlinks it:
// it lives as long as it is open.
func (v *Vault) tempFile() (*os.File, error) {
	dir := filepath.Join(v.lake, tmpDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	f, err := os.CreateTemp(dir, "vault-run-*")
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: %w", err)
	}
	return f, nil
}

// spill writes the buffer as a sorted run and empties it; v.mu is held.
func (v *Vault) spill() error {
	v.buf.sort()
	t, err := v.tempTable(func(add func(tok, sealed []byte) error) error {
		for i := range v.buf.recs {
			if err := add(v.buf.rec(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	v.runs = append(v.runs, t)
	v.buf.arena, v.buf.recs, v.buf.sorted = v.buf.arena[:0], v.buf.recs[:0], true
	return nil
}

// compact merges the base, the runs and the buffer into a temporary
// base; v.mu is held.
func (v *Vault) compact() error {
	t, err := v.tempTable(v.mergeAll)
	if err != nil {
		return err
	}
	v.release()
	v.base = t
	return nil
}

func (v *Vault) tempTable(fill func(add func(tok, sealed []byte) error) error) (*table, error) {
	f, err := v.tempFile()
	if err != nil {
		return nil, err
	}
	if _, err := writeTableFile(f, v.fp, fill); err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: spill to %s: %w", f.Name(), err)
	}
	return openTable(f, f.Name()+" (a temporary run)")
}

// mergeAll gives add every token of the vault, in order, with its newest
// sealed value; v.mu is held.
func (v *Vault) mergeAll(add func(tok, sealed []byte) error) error {
	var srcs []cursor
	if v.base != nil {
		srcs = append(srcs, &tableCursor{t: v.base})
	}
	for _, r := range v.runs {
		srcs = append(srcs, &tableCursor{t: r})
	}
	v.buf.sort()
	srcs = append(srcs, &pendingCursor{p: &v.buf})
	return merge(srcs, func(tok, sealed []byte, _ int) error { return add(tok, sealed) })
}

// release closes the base and the runs and drops the buffer; v.mu is held.
func (v *Vault) release() {
	v.base.close()
	for _, r := range v.runs {
		r.close()
	}
	v.base, v.runs, v.buf = nil, nil, pending{}
}

// Close releases the vault's files and drops the Puts not written.
func (v *Vault) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.release()
	return nil
}

// Len returns the number of values in the vault as last opened or
// written (Puts since count once written).
func (v *Vault) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.base == nil {
		return 0
	}
	return int(v.base.n)
}

// Each calls fn with each token of the vault (Puts not yet written
// included), in order, streaming; fn must not call the vault's methods.
func (v *Vault) Each(fn func(token string) error) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.mergeAll(func(tok, _ []byte) error { return fn(string(tok)) })
}

// Tokens returns the vault's tokens, sorted: all of them in memory, for
// small vaults and tests; Each streams them.
func (v *Vault) Tokens() []string {
	var out []string
	v.Each(func(t string) error { out = append(out, t); return nil })
	return out
}

func seal(aead cipher.AEAD, token, value []byte) ([]byte, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(value)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, value, token), nil
}

func open(aead cipher.AEAD, token, sealed []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("vault: entry of token %s is corrupt", token)
	}
	p, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], token)
	if err != nil {
		return nil, fmt.Errorf("vault: entry of token %s does not authenticate", token)
	}
	return p, nil
}

// Put seals value under token (replacing any earlier value, the newest
// Put winning); WriteFile or Save writes it. The sealed value is held in
// memory up to the buffer's bound, then spilled to a sorted run in the
// lake's temporary area.
func (v *Vault) Put(token, value string) error {
	return v.PutBytes(unsafe.Slice(unsafe.StringData(token), len(token)), unsafe.Slice(unsafe.StringData(value), len(value)))
}

// PutBytes is Put of byte slices, which it does not keep: the value is
// sealed straight into the buffer.
func (v *Vault) PutBytes(token, value []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.buf.addSealed(v.aead, token, value, v.bufMax); err != nil {
		return err
	}
	if v.buf.size() >= v.bufMax {
		return v.spill()
	}
	return nil
}

func (v *Vault) putSealed(tok, sealed []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.buf.add(tok, sealed, v.bufMax)
	if v.buf.size() >= v.bufMax {
		return v.spill()
	}
	return nil
}

// lookup returns token's sealed value: the newest Put, else the file's.
func (v *Vault) lookup(token string) ([]byte, bool, error) {
	tok := []byte(token)
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.buf.lookup(tok); ok {
		return s, true, nil
	}
	for i := len(v.runs) - 1; i >= 0; i-- {
		if s, ok, err := v.runs[i].lookup(tok); ok || err != nil {
			return s, ok, err
		}
	}
	if v.base == nil {
		return nil, false, nil
	}
	return v.base.lookup(tok)
}

// Has reports whether the vault holds token.
func (v *Vault) Has(token string) bool {
	_, ok, err := v.lookup(token)
	return ok && err == nil
}

// Reveal returns the clear value of token, for purpose (e.g. "bureau
// 2024-01", "disclose"), and logs an audit line naming both (never the
// value). Reveals in token order read each block of the file once.
func (v *Vault) Reveal(ctx context.Context, token, purpose string) (string, error) {
	if purpose == "" {
		return "", errors.New("vault: a reveal needs a purpose")
	}
	s, ok, err := v.lookup(token)
	if err != nil {
		return "", err
	}
	if !ok {
		v.log.LogAttrs(ctx, slog.LevelWarn, "vault reveal: no such token", slog.String("audit", "vault.reveal"), slog.String("token", token), slog.String("purpose", purpose))
		return "", fmt.Errorf("vault: no value for token %s", token)
	}
	val, err := open(v.aead, []byte(token), s)
	if err != nil {
		return "", err
	}
	v.log.LogAttrs(ctx, slog.LevelInfo, "vault reveal", slog.String("audit", "vault.reveal"), slog.String("token", token), slog.String("purpose", purpose))
	return string(val), nil
}

// Save writes the vault atomically in place: a new file beside, synced,
// then one rename. It refuses a vault committed with a lake's ingest
// (a mounted link): that one is written with WriteFile into a commit.
func (v *Vault) Save() error {
	if st, err := os.Lstat(v.path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("vault %s is committed with the lake's ingest: write it into a commit (WriteFile)", v.path)
	}
	return v.write(v.path)
}

// WriteFile writes the vault to path (in a commit's staging area),
// synced, mode 0600 in a 0700 directory: one streaming merge of the
// vault's file and its Puts. The vault then reads the file written.
func (v *Vault) WriteFile(path string) error { return v.write(path) }

func (v *Vault) write(path string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := writeAtomic(path, v.fp, v.mergeAll, nil); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	t, err := openTable(f, path)
	if err != nil {
		return err
	}
	v.release()
	v.base = t
	return nil
}

// writeAtomic writes a table filled by fill to path by a synced
// temporary file and one rename and returns its number of values; hook,
// when set, is called at each step ("written", "synced") and an error
// from it stops the write there (tests inject crashes with it).
func writeAtomic(path, fp string, fill func(add func(tok, sealed []byte) error) error, hook func(step string) error) (int64, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("vault: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return 0, fmt.Errorf("vault: %w", err)
	}
	tmp := path + ".new"
	w, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("vault: %w", err)
	}
	step := func(name string) error {
		if hook != nil {
			return hook(name)
		}
		return nil
	}
	n, err := writeTableFile(w, fp, fill)
	if err == nil {
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
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("vault %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return n, nil
}

// Rotate re-encrypts every value of lake's vault from oldKey to newKey,
// atomically: the new vault is written beside the old one and replaces it
// by one rename, so a crash before that leaves the old vault whole and
// usable with oldKey, and after it the new one with newKey. It returns the
// number of values re-encrypted. It streams: one value in memory at a
// time.
func Rotate(lake string, oldKey, newKey []byte, log *slog.Logger) (int, error) {
	return rotate(lake, oldKey, newKey, log, nil)
}

func rotate(lake string, oldKey, newKey []byte, log *slog.Logger, hook func(step string) error) (int, error) {
	old, err := Open(lake, oldKey, log)
	if err != nil {
		return 0, err
	}
	defer old.Close()
	if _, err := os.Stat(old.path); err != nil {
		return 0, fmt.Errorf("vault rotate: %w", err)
	}
	aead, err := newAEAD(newKey)
	if err != nil {
		return 0, err
	}
	fp := keyfile.Fingerprint(newKey)
	if fp == old.fp {
		return 0, errors.New("vault rotate: the new key is the old key")
	}
	fill := func(add func(tok, sealed []byte) error) error {
		old.mu.Lock()
		defer old.mu.Unlock()
		return old.mergeAll(func(tok, s []byte) error {
			val, err := open(old.aead, tok, s)
			if err != nil {
				return err
			}
			ns, err := seal(aead, tok, val)
			if err != nil {
				return err
			}
			return add(tok, ns)
		})
	}
	var n int64
	if st, err := os.Lstat(old.path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		n, err = commitRotated(lake, fp, fill, hook)
		return int(n), err
	}
	n, err = writeAtomic(old.path, fp, fill, hook)
	return int(n), err
}

// commitRotated publishes the re-encrypted vault as a new commit of the
// ingest chain that keeps every other output of the committed version
// (the tables, quarantine and manifest, hard-linked): a crash before the
// commit point leaves the old vault with the old key, after it the new.
// The caller holds the lake's writer lock.
func commitRotated(lake, fp string, fill func(add func(tok, sealed []byte) error) error, hook func(step string) error) (int64, error) {
	tx, err := durable.Begin(lake, Chain)
	if err != nil {
		return 0, fmt.Errorf("vault rotate: %w", err)
	}
	defer tx.Abort()
	mounts, err := tx.CommittedMounts()
	if err != nil {
		return 0, fmt.Errorf("vault rotate: %w", err)
	}
	for _, m := range mounts {
		if m == Rel {
			continue
		}
		if err := tx.Keep(m); err != nil {
			return 0, fmt.Errorf("vault rotate: %w", err)
		}
		tx.Mount(m)
	}
	n, err := writeAtomic(tx.Path(Rel), fp, fill, hook)
	if err != nil {
		return 0, err
	}
	tx.Mount(Rel)
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("vault rotate: %w", err)
	}
	return n, nil
}
