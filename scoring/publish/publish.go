// Package publish writes a directory of output files for the loan system
// (score files, early-warning lists) so that a consumer never sees a
// partial result.
//
// The files are written into a temporary directory next to the
// destination (.<name>.tmp-<pid>-<random>), then manifest.json (row
// count, each file's SHA-256 and size, whatever the stage adds) and last
// the _SUCCESS marker (holding the manifest's SHA-256) are written; every
// file and the directory are synced and the directory is renamed into
// place (an existing destination is moved aside first and removed after).
// A consumer that sees <dest>/_SUCCESS therefore sees complete files, and
// a process killed at any point leaves either the previous complete
// directory or none; its temporary directory is removed by the next run.
//
// For crash tests, the environment variable QIANDUN_PUBLISH_PAUSE=<file>
// makes the process stop after writing <file> into the temporary
// directory (or, for "rename", just before the rename): it prints
// "qiandun: publish paused ..." to stderr and blocks until killed.
package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"qiandun/data/lake"
)

// Marker is the name of the file written last.
const Marker = "_SUCCESS"

// ManifestName is the manifest's file name.
const ManifestName = "manifest.json"

// PauseEnv names the crash-test hook (see the package comment).
const PauseEnv = "QIANDUN_PUBLISH_PAUSE"

// File is one published file.
type File struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Rows   int64  `json:"rows,omitempty"`
}

// Dir is a directory being written.
type Dir struct {
	Final string // destination
	Tmp   string // where files are written
	rows  map[string]int64
	sums  map[string]File // hashed while written (Create)
	done  bool
}

// Begin prepares to publish final: it finishes or rolls back an
// interrupted earlier publication, removes temporary directories left by
// dead processes and creates a fresh temporary directory beside final.
func Begin(final string) (*Dir, error) {
	final = filepath.Clean(final)
	parent, base := filepath.Dir(final), filepath.Base(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("publish %s: %w", final, err)
	}
	if err := lake.RecoverDir(final); err != nil {
		return nil, fmt.Errorf("publish %s: recover: %w", final, err)
	}
	removeStale(parent, base)
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-"+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", final, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("publish %s: %w", final, err)
	}
	return &Dir{Final: final, Tmp: tmp, rows: map[string]int64{}, sums: map[string]File{}}, nil
}

// removeStale deletes .<base>.tmp-<pid>-* directories whose process is gone.
func removeStale(parent, base string) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp-"
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(parent, e.Name()))
	}
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Path returns where to write the file name.
func (d *Dir) Path(name string) string { return filepath.Join(d.Tmp, name) }

// Written records that name is complete, with its row count (0 if not
// meaningful), and honours the crash-test hook.
func (d *Dir) Written(name string, rows int64) {
	d.rows[name] = rows
	checkpoint(name, d.Tmp)
}

// WriteFile writes a small file into the directory.
func (d *Dir) WriteFile(name string, data []byte, rows int64) error {
	if err := os.WriteFile(d.Path(name), data, 0o644); err != nil {
		return fmt.Errorf("publish %s: %w", d.Final, err)
	}
	d.Written(name, rows)
	return nil
}

// Checkpoint honours the crash-test hook at a named point of the writing
// (for example "scores.csv:partial", after the first rows of a file).
func (d *Dir) Checkpoint(name string) { checkpoint(name, d.Tmp) }

func checkpoint(name, tmp string) {
	if v := os.Getenv(PauseEnv); v != "" && v == name {
		fmt.Fprintf(os.Stderr, "qiandun: publish paused after %s in %s\n", name, tmp)
		for {
			time.Sleep(time.Hour)
		}
	}
}

// Writer writes one file of the directory, hashing it as it goes.
type Writer struct {
	d    *Dir
	name string
	f    *directFile
	h    hash.Hash
	n    int64
}

// Create creates the file name for writing. Its SHA-256 and size are
// computed from the bytes written, so that Files need not read it back;
// Close records them. The file is written with direct I/O where the
// file system allows it (see directFile).
func (d *Dir) Create(name string) (*Writer, error) {
	f, err := createDirect(d.Path(name))
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", d.Final, err)
	}
	return &Writer{d: d, name: name, f: f, h: sha256.New()}, nil
}

// Write writes p to the file and the hash.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// Close closes the file and records its hash and size. Closing twice is
// harmless.
func (w *Writer) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("publish %s: %s: %w", w.d.Final, w.name, err)
	}
	w.d.sums[w.name] = File{Name: w.name, SHA256: hex.EncodeToString(w.h.Sum(nil)), Bytes: w.n}
	return nil
}

// Files hashes every file written so far (manifest and marker aside), in
// name order.
func (d *Dir) Files() ([]File, error) {
	names := make([]string, 0, len(d.rows))
	for n := range d.rows {
		if n != ManifestName && n != Marker {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]File, 0, len(names))
	for _, n := range names {
		p := d.Path(n)
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("publish %s: %w", d.Final, err)
		}
		if f, ok := d.sums[n]; ok && f.Bytes == st.Size() {
			f.Rows = d.rows[n]
			out = append(out, f)
			continue
		}
		sum, err := lake.FileSHA256(p)
		if err != nil {
			return nil, fmt.Errorf("publish %s: %w", d.Final, err)
		}
		out = append(out, File{Name: n, SHA256: sum, Bytes: st.Size(), Rows: d.rows[n]})
	}
	return out, nil
}

// Commit writes manifest (any JSON value; it should embed Files()) as
// manifest.json, then _SUCCESS, and publishes the directory.
func (d *Dir) Commit(manifest any) error {
	js, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("publish %s: manifest: %w", d.Final, err)
	}
	js = append(js, '\n')
	if err := d.WriteFile(ManifestName, js, 0); err != nil {
		return err
	}
	h := sha256.Sum256(js)
	if err := d.WriteFile(Marker, []byte("manifest.json sha256 "+hex.EncodeToString(h[:])+"\n"), 0); err != nil {
		return err
	}
	checkpoint("rename", d.Tmp)
	if err := lake.ReplaceDir(d.Tmp, d.Final); err != nil {
		return err
	}
	d.done = true
	return nil
}

// Abort removes the temporary directory unless Commit succeeded. It is
// safe to defer.
func (d *Dir) Abort() {
	if !d.done {
		os.RemoveAll(d.Tmp)
	}
}

// Verify checks a published directory as a consumer would: _SUCCESS is
// present, it names the manifest's hash, and every file listed in the
// manifest's "files" has its recorded SHA-256. It returns the files.
func Verify(dir string) ([]File, error) {
	marker, err := os.ReadFile(filepath.Join(dir, Marker))
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dir, err)
	}
	js, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dir, err)
	}
	h := sha256.Sum256(js)
	if want := "manifest.json sha256 " + hex.EncodeToString(h[:]) + "\n"; string(marker) != want {
		return nil, fmt.Errorf("verify %s: %s does not match manifest.json", dir, Marker)
	}
	var m struct {
		Files []File `json:"files"`
	}
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("verify %s: manifest: %w", dir, err)
	}
	for _, f := range m.Files {
		sum, err := lake.FileSHA256(filepath.Join(dir, f.Name))
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", dir, err)
		}
		if sum != f.SHA256 {
			return nil, fmt.Errorf("verify %s: %s has sha256 %s, manifest says %s", dir, f.Name, sum, f.SHA256)
		}
	}
	return m.Files, nil
}
