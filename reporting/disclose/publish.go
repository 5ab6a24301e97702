package disclose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"qiandun/internal/durable"
)

// chain is the commit chain of the site under the output root.
const chain = "disclose"

// publish renders the month's files (render) straight into a commit of
// the site under o.Out, with the site's index (every month published,
// this one replaced), and commits it — unless the month's manifest and
// the index equal what is published, every published file of the month
// still has its manifest's hash and the month holds nothing else, in
// which case the commit is dropped and nothing changes. Files are 0600,
// directories 0700.
func publish(ctx context.Context, o Options, d *monthData, projects []Project) (*Result, error) {
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
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("disclose: %w", err)
	}
	tx, err := durable.Begin(o.Out, chain)
	if err != nil {
		return nil, fmt.Errorf("disclose: %w", err)
	}
	defer tx.Abort()
	t := time.Now()
	m, mb, err := render(o.Month, d, projects, func(rel string) (io.WriteCloser, error) {
		return os.OpenFile(tx.Path(path.Join(o.Month, rel)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	})
	if err != nil {
		return nil, err
	}
	o.Log.Debug("disclose step", "step", "render", "files", len(m.Files)+1, "seconds", time.Since(t).Seconds())
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
	if err := os.WriteFile(tx.Path("index.html"), idx, 0o600); err != nil {
		return nil, fmt.Errorf("disclose: %w", err)
	}
	res := &Result{Manifest: m, Dir: filepath.Join(o.Out, o.Month)}
	same, err := unchanged(o.Out, m, mb, idx)
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
	mounts := []string{"index.html", o.Month}
	for _, p := range months {
		if p.Month == o.Month {
			continue
		}
		if err := tx.Keep(p.Month); err != nil {
			return nil, fmt.Errorf("disclose: %w", err)
		}
		mounts = append(mounts, p.Month)
	}
	for _, mo := range mounts[1:] {
		if err := privateDirs(tx.Path(mo)); err != nil {
			return nil, err
		}
	}
	tx.Mount(mounts...)
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("disclose: %w", err)
	}
	res.Written = true
	o.Log.Info("disclose: published", "month", o.Month, "dir", res.Dir, "projects", m.Projects, "files", len(m.Files)+2)
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

// unchanged reports whether month m is published as rendered: its
// manifest (manifest bytes mb) and the site's index (idx) are the same
// bytes, every file the manifest lists still has its size and hash, and
// the month's directory holds no other file.
func unchanged(root string, m *Manifest, mb, idx []byte) (bool, error) {
	dir := filepath.Join(root, m.Month)
	for _, f := range []struct {
		path string
		want []byte
	}{{filepath.Join(dir, ManifestName), mb}, {filepath.Join(root, "index.html"), idx}} {
		old, err := os.ReadFile(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("disclose: %w", err)
		}
		if !bytes.Equal(old, f.want) {
			return false, nil
		}
	}
	for _, f := range m.Files {
		sum, err := durable.SHA256(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("disclose: %w", err)
		}
		if sum != f.SHA256 {
			return false, nil
		}
	}
	n := 0
	err := filepath.WalkDir(dir+string(filepath.Separator), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("disclose: %w", err)
	}
	return n == len(m.Files)+1, nil // and the manifest
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
