package lake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"qiandun/internal/durable"
)

// Commit is one commit of a stage's lake outputs (a durable.Txn rooted at
// the lake): the stage writes its tables into Staged, a lake laid out like
// the real one, and Commit makes them all visible at once. Every output
// written or kept is mounted at its lake path.
type Commit struct {
	*durable.Txn
	// Lake is the lake being written; Staged is where this commit's
	// outputs are written (Staged.TableDir("perf/panel") and so on).
	Lake, Staged Lake
}

// Begin starts a commit of the lake's outputs owned by chain (a stage
// name). The caller holds the lake's writer lock.
func (l Lake) Begin(chain string) (*Commit, error) {
	tx, err := durable.Begin(l.Root, chain)
	if err != nil {
		return nil, err
	}
	return &Commit{Txn: tx, Lake: l, Staged: New(tx.Path("."))}, nil
}

// Keep starts output rel (a table such as "loans", a directory or a file)
// from what the lake shows there now and mounts it: the chain's committed
// content, or, in a lake written before versioned commits, the plain
// directory or file at <lake>/<rel> (hard-linked, no bytes copied). It is a
// no-op when there is none.
func (c *Commit) Keep(rel string) error {
	if p := c.Committed(rel); p != "" {
		if _, err := os.Stat(p); err == nil {
			c.Mount(rel)
			return c.Txn.Keep(rel)
		}
	}
	src := c.Lake.TableDir(rel)
	st, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && st.Mode()&fs.ModeSymlink != 0) {
		return nil // nothing, or another chain's mount
	}
	if err != nil {
		return fmt.Errorf("lake: keep %s: %w", rel, err)
	}
	dst := c.Path(rel)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, r)
		if d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			return os.MkdirAll(to, info.Mode().Perm())
		}
		return os.Link(p, to)
	})
	if err != nil {
		return fmt.Errorf("lake: keep %s: %w", rel, err)
	}
	c.Mount(rel)
	return nil
}

// WriteManifest writes m as the manifest of m.Stage in this commit and
// mounts it at <lake>/_manifests/<stage>.json.
func (c *Commit) WriteManifest(m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest %s: %w", m.Stage, err)
	}
	rel := ManifestDir + "/" + m.Stage + ".json"
	if err := os.WriteFile(c.Path(rel), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("manifest %s: %w", m.Stage, err)
	}
	c.Mount(rel)
	return nil
}

// MountStaged mounts each of rels that this commit wrote (a path absent from
// the staging area is not mounted, so no link points at nothing).
func (c *Commit) MountStaged(rels ...string) {
	for _, r := range rels {
		if _, err := os.Stat(c.Staged.TableDir(r)); err == nil {
			c.Mount(r)
		}
	}
}
