// Package publish writes a directory of output files for the loan system
// (score files, early-warning lists) so that a consumer never sees a
// partial result.
//
// A directory <root>/<name> (say out/scores/2023-12-31) is one commit of
// the commit protocol (internal/durable): root is the commit root, name the
// chain and the one path it mounts. The files are written into the
// commit's staging directory (with direct I/O where the file system allows
// it), then manifest.json (row count, each file's SHA-256 and size,
// whatever the stage adds) and last the _SUCCESS marker (holding the
// manifest's SHA-256); Commit syncs them and swaps the pointer, and
// <root>/<name> becomes a link to the new version. A consumer that sees
// <root>/<name>/_SUCCESS therefore sees complete files, and a process
// killed at any point leaves the previous directory (or none); what it left
// is removed by the next Begin.
package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sort"

	"qiandun/internal/durable"
)

// Marker is the name of the file written last.
const Marker = "_SUCCESS"

// ManifestName is the manifest's file name.
const ManifestName = "manifest.json"

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
	tx    *durable.Txn
	name  string
	rows  map[string]int64
	sums  map[string]File // hashed while written (Create)
}

// Begin prepares to publish final: it brings the commits under final's
// parent back to their last commit (removing what an interrupted
// publication left) and starts a new one.
func Begin(final string) (*Dir, error) {
	final = filepath.Clean(final)
	root, name := filepath.Dir(final), filepath.Base(final)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("publish %s: %w", final, err)
	}
	if err := durable.Recover(root); err != nil {
		return nil, fmt.Errorf("publish %s: %w", final, err)
	}
	tx, err := durable.Begin(root, name)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", final, err)
	}
	tmp, err := tx.Dir(name)
	if err != nil {
		tx.Abort()
		return nil, fmt.Errorf("publish %s: %w", final, err)
	}
	return &Dir{Final: final, Tmp: tmp, tx: tx, name: name, rows: map[string]int64{}, sums: map[string]File{}}, nil
}

// Path returns where to write the file name.
func (d *Dir) Path(name string) string { return filepath.Join(d.Tmp, name) }

// Written records that name is complete, with its row count (0 if not
// meaningful).
func (d *Dir) Written(name string, rows int64) {
	d.rows[name] = rows
}

// WriteFile writes a small file into the directory.
func (d *Dir) WriteFile(name string, data []byte, rows int64) error {
	if err := os.WriteFile(d.Path(name), data, 0o644); err != nil {
		return fmt.Errorf("publish %s: %w", d.Final, err)
	}
	d.Written(name, rows)
	return nil
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
		sum, err := durable.SHA256(p)
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
	d.tx.Mount(d.name)
	if err := d.tx.Commit(); err != nil {
		return fmt.Errorf("publish %s: %w", d.Final, err)
	}
	return nil
}

// Abort removes the staging directory unless Commit succeeded. It is safe
// to defer.
func (d *Dir) Abort() { d.tx.Abort() }

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
		sum, err := durable.SHA256(filepath.Join(dir, f.Name))
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", dir, err)
		}
		if sum != f.SHA256 {
			return nil, fmt.Errorf("verify %s: %s has sha256 %s, manifest says %s", dir, f.Name, sum, f.SHA256)
		}
	}
	return m.Files, nil
}
