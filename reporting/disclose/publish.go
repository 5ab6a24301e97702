package disclose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"qiandun/internal/durable"
)

// chain is the commit chain of the site under the output root.
const chain = "disclose"

// publish commits the month's files and the site's index (every month
// published, this one replaced) under o.Out — unless every file equals
// what is published and the month holds nothing else, in which case
// nothing is written. Files are 0600, directories 0700.
func publish(ctx context.Context, o Options, files map[string][]byte, m *Manifest) (*Result, error) {
	// Finish or drop an interrupted commit first, so that the months read
	// below are the committed ones (a kill after the commit point leaves a
	// new month's link to make: without this, the next month's commit
	// would not keep it).
	if _, err := os.Stat(o.Out); err == nil {
		if err := durable.Recover(o.Out); err != nil {
			return nil, fmt.Errorf("disclose: %w", err)
		}
	}
	months, err := publishedMonths(o.Out)
	if err != nil {
		return nil, err
	}
	all := []*Manifest{m}
	for _, p := range months {
		if p.Month != o.Month {
			all = append(all, p)
		}
	}
	idx, err := renderIndex(all)
	if err != nil {
		return nil, err
	}
	files["index.html"] = idx
	res := &Result{Manifest: m, Dir: filepath.Join(o.Out, o.Month)}
	same, err := unchanged(o.Out, o.Month, files)
	if err != nil {
		return nil, err
	}
	if same {
		o.Log.Info("disclose: month already published, unchanged: nothing written", "month", o.Month, "dir", res.Dir)
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := commit(o.Out, o.Month, months, files); err != nil {
		return nil, err
	}
	res.Written = true
	o.Log.Info("disclose: published", "month", o.Month, "dir", res.Dir, "projects", m.Projects, "files", len(files))
	return res, nil
}

// publishedMonths reads the manifest of every month published under root.
func publishedMonths(root string) ([]*Manifest, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("disclose: %w", err)
	}
	var out []*Manifest
	for _, e := range ents {
		if _, err := time.Parse("2006-01", e.Name()); err != nil || len(e.Name()) != 7 {
			continue
		}
		p := filepath.Join(root, e.Name(), ManifestName)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("disclose: %w", err)
		}
		var m Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("disclose: %s: %w", p, err)
		}
		out = append(out, &m)
	}
	return out, nil
}

// unchanged reports whether every file is published with these bytes and
// the month's directory holds no other file.
func unchanged(root, month string, files map[string][]byte) (bool, error) {
	for rel, b := range files {
		old, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("disclose: %w", err)
		}
		if !bytes.Equal(old, b) {
			return false, nil
		}
	}
	n := 0
	err := filepath.WalkDir(filepath.Join(root, month)+string(filepath.Separator), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("disclose: %w", err)
	}
	return n == len(files)-1, nil // all but index.html live in the month
}

// commit publishes the site in one commit: the other published months
// kept (hard links), this month's files and the index written.
func commit(root, month string, months []*Manifest, files map[string][]byte) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("disclose: %w", err)
	}
	tx, err := durable.Begin(root, chain)
	if err != nil {
		return fmt.Errorf("disclose: %w", err)
	}
	defer tx.Abort()
	mounts := []string{"index.html", month}
	for _, p := range months {
		if p.Month == month {
			continue
		}
		if err := tx.Keep(p.Month); err != nil {
			return fmt.Errorf("disclose: %w", err)
		}
		mounts = append(mounts, p.Month)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, rel := range names {
		p := tx.Path(rel)
		if err := os.WriteFile(p, files[rel], 0o600); err != nil {
			return fmt.Errorf("disclose: %w", err)
		}
	}
	for _, mo := range mounts[1:] {
		if err := privateDirs(tx.Path(mo)); err != nil {
			return err
		}
	}
	tx.Mount(mounts...)
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("disclose: %w", err)
	}
	return nil
}

// privateDirs makes every directory under dir (and dir) 0700.
func privateDirs(dir string) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			err = os.Chmod(p, 0o700)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("disclose: %w", err)
	}
	return nil
}
