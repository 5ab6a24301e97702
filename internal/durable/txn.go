package durable

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// VersionsDir is the directory under a commit root that holds every
// chain's versions: <root>/_v/<chain>/<seq>/ and the pointer
// <root>/_v/<chain>/current.
const VersionsDir = "_v"

const (
	currentName = "current"
	mountsFile  = ".mounts"
	stagingExt  = ".tmp"
)

// A Txn is one commit of a stage's outputs: every path the stage writes
// (its mounts) becomes visible together, or none does.
//
// The outputs are written into a staging directory
// <root>/_v/<chain>/<seq>.tmp. Commit syncs it, renames it to
// <root>/_v/<chain>/<seq> and then replaces the symbolic link
// <root>/_v/<chain>/current by one atomic rename: that rename is the
// commit point. Each mounted path <root>/<rel> is a relative symbolic link
// to <root>/_v/<chain>/current/<rel>, so readers use ordinary paths (a
// glob or DuckDB's read_parquet follows the links) and see the previous
// commit or the new one, never a mix. After the commit the older versions
// are removed. Recover, run before a stage starts, removes whatever an
// interrupted Txn left and re-creates the links of the committed version.
//
// One process at a time may write a root (the caller holds the lake's
// writer lock); a Txn is not safe for concurrent use.
type Txn struct {
	root, chain string
	dir         string // <root>/_v/<chain>
	seq         int
	staging     string
	mounts      []string
	done        bool
}

// Begin starts a commit of chain (a stage name: no path separators) under
// root. It first recovers the chain from any interrupted commit.
func Begin(root, chain string) (*Txn, error) {
	if chain == "" || strings.ContainsAny(chain, `/\`) || strings.HasPrefix(chain, ".") || chain == currentName {
		return nil, fmt.Errorf("commit %s: bad chain name %q", root, chain)
	}
	t := &Txn{root: root, chain: chain, dir: filepath.Join(root, VersionsDir, chain)}
	if err := recoverChain(root, t.dir); err != nil {
		return nil, fmt.Errorf("commit %s: recover %s: %w", root, chain, err)
	}
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return nil, fmt.Errorf("commit %s: %w", chain, err)
	}
	seqs, err := versions(t.dir)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", chain, err)
	}
	t.seq = 1
	if n := len(seqs); n > 0 {
		t.seq = seqs[n-1] + 1
	}
	t.staging = filepath.Join(t.dir, seqName(t.seq)+stagingExt)
	if err := os.Mkdir(t.staging, 0o755); err != nil {
		return nil, fmt.Errorf("commit %s: staging: %w", chain, err)
	}
	return t, nil
}

// Path returns where output rel (a slash-separated path relative to the
// root, e.g. "perf/panel" or "_manifests/perf.json") is written in this
// commit. Its parent directory is created.
func (t *Txn) Path(rel string) string {
	p := filepath.Join(t.staging, filepath.FromSlash(rel))
	_ = os.MkdirAll(filepath.Dir(p), 0o755)
	return p
}

// Dir returns Path(rel), created as a directory.
func (t *Txn) Dir(rel string) (string, error) {
	p := t.Path(rel)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", fmt.Errorf("commit %s: %w", t.chain, err)
	}
	return p, nil
}

// Keep starts output rel from its committed content, linking every file
// (hard links: no bytes are copied, and committed files are never written
// in place). It is a no-op when the chain has no committed rel.
func (t *Txn) Keep(rel string) error {
	src := filepath.Join(t.dir, currentName, filepath.FromSlash(rel))
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	dst := t.Path(rel)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, r)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		return os.Link(p, to)
	})
	if err != nil {
		return fmt.Errorf("commit %s: keep %s: %w", t.chain, rel, err)
	}
	return nil
}

// Committed returns the path of rel in the chain's committed version, or
// "" when nothing was committed yet.
func (t *Txn) Committed(rel string) string {
	p := filepath.Join(t.dir, currentName)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return filepath.Join(p, filepath.FromSlash(rel))
}

// CommittedMounts returns the paths the chain's committed version mounts
// (none when nothing was committed yet): a commit that replaces one of
// them keeps the others with Keep and Mount.
func (t *Txn) CommittedMounts() ([]string, error) {
	m, err := readMounts(filepath.Join(t.dir, currentName))
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", t.chain, err)
	}
	return m, nil
}

// Mount declares that this commit owns the root path rel: after Commit,
// <root>/<rel> shows this commit's content at rel (or nothing, if the
// commit wrote none). A path mounted by the previous commit and not by
// this one is unlinked.
func (t *Txn) Mount(rel ...string) {
	for _, r := range rel {
		r = filepath.ToSlash(filepath.Clean(filepath.FromSlash(r)))
		if !slices.Contains(t.mounts, r) {
			t.mounts = append(t.mounts, r)
		}
	}
}

// Commit publishes the outputs: sync, rename the staging directory to the
// new version, swap the pointer (the commit point), link the mounts and
// remove older versions. An error before the pointer swap leaves the
// previous commit in place; after it, the new commit stands and Recover
// finishes the links.
func (t *Txn) Commit() error {
	if t.done {
		return fmt.Errorf("commit %s: already finished", t.chain)
	}
	for _, m := range t.mounts {
		if err := checkMount(m); err != nil {
			return fmt.Errorf("commit %s: %w", t.chain, err)
		}
		if err := checkNoLinkAbove(t.root, m); err != nil {
			return fmt.Errorf("commit %s: mount %s: %w", t.chain, m, err)
		}
	}
	sort.Strings(t.mounts)
	b, _ := json.Marshal(t.mounts)
	if err := os.WriteFile(filepath.Join(t.staging, mountsFile), b, 0o644); err != nil {
		return fmt.Errorf("commit %s: %w", t.chain, err)
	}
	if err := syncTree(t.staging); err != nil {
		return fmt.Errorf("commit %s: sync: %w", t.chain, err)
	}
	if err := killpoint("sync " + t.chain); err != nil {
		return fmt.Errorf("commit %s: %w", t.chain, err)
	}
	final := filepath.Join(t.dir, seqName(t.seq))
	if err := os.Rename(t.staging, final); err != nil {
		return fmt.Errorf("commit %s: %w", t.chain, err)
	}
	t.staging = final
	if err := syncDir(t.dir); err != nil {
		return fmt.Errorf("commit %s: %w", t.chain, err)
	}
	if err := killpoint("version " + t.chain); err != nil {
		return fmt.Errorf("commit %s: %w", t.chain, err)
	}
	prev, _ := readMounts(filepath.Join(t.dir, currentName))
	if err := replaceLink(filepath.Join(t.dir, currentName), seqName(t.seq)); err != nil {
		return fmt.Errorf("commit %s: pointer: %w", t.chain, err)
	}
	t.done = true
	if err := killpoint("pointer " + t.chain); err != nil {
		return fmt.Errorf("commit %s: committed, but finishing failed (run again to finish): %w", t.chain, err)
	}
	// Committed. What follows is finished by Recover if interrupted.
	if err := relink(t.root, t.dir, t.mounts, prev); err != nil {
		return fmt.Errorf("commit %s: committed, but linking failed (run again to finish): %w", t.chain, err)
	}
	if err := prune(t.dir, t.seq); err != nil {
		return fmt.Errorf("commit %s: committed, but removing old versions failed: %w", t.chain, err)
	}
	if err := killpoint("prune " + t.chain); err != nil {
		return fmt.Errorf("commit %s: committed, but removing old versions failed: %w", t.chain, err)
	}
	return nil
}

// Abort removes an uncommitted staging directory. It is safe to defer
// after Commit (then it does nothing).
func (t *Txn) Abort() {
	if !t.done {
		os.RemoveAll(t.staging)
		t.done = true
	}
}

// Recover brings every chain under root to its last commit: it removes
// staging directories, uncommitted versions and leftovers of interrupted
// link swaps, and re-creates the mounted links of each committed version.
// Run it before a stage writes, under the root's writer lock.
func Recover(root string) error {
	if err := CleanTemp(root); err != nil {
		return fmt.Errorf("recover %s: %w", root, err)
	}
	ents, err := os.ReadDir(filepath.Join(root, VersionsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover %s: %w", root, err)
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := recoverChain(root, filepath.Join(root, VersionsDir, e.Name())); err != nil {
				return fmt.Errorf("recover %s: %s: %w", root, e.Name(), err)
			}
		}
	}
	return nil
}

// BeginIn is Begin for a root that may not exist yet and may hold other
// chains: it creates root, recovers every chain under it (Recover) and
// begins a commit of chain.
func BeginIn(root, chain string) (*Txn, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	if err := Recover(root); err != nil {
		return nil, err
	}
	return Begin(root, chain)
}

// CleanTemp removes the temporary files an interrupted WriteFile or link
// swap left in dir (".<name>.tmp-*", ".<name>.link-tmp").
func CleanTemp(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") && (strings.Contains(n, ".tmp-") || strings.HasSuffix(n, ".link-tmp")) {
			if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Chains lists the chains under root that have a committed version.
func Chains(root string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(root, VersionsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(root, VersionsDir, e.Name(), currentName)); err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func recoverChain(root, dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	cur, err := os.Readlink(filepath.Join(dir, currentName))
	committed := err == nil
	if committed {
		mounts, err := readMounts(filepath.Join(dir, currentName))
		if err != nil {
			return err
		}
		if err := relink(root, dir, mounts, nil); err != nil {
			return err
		}
	}
	for _, e := range ents {
		n := e.Name()
		if n == currentName || (committed && n == cur) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// relink points each mount at the committed version and unlinks the
// mounts of prev that this version no longer has.
func relink(root, dir string, mounts, prev []string) error {
	for _, m := range mounts {
		link := filepath.Join(root, filepath.FromSlash(m))
		if err := CleanTemp(filepath.Dir(link)); err != nil {
			return err
		}
		target := filepath.Join(dir, currentName, filepath.FromSlash(m))
		rel, err := filepath.Rel(filepath.Dir(link), target)
		if err != nil {
			return err
		}
		if err := mkdirNoLinks(root, filepath.Dir(link)); err != nil {
			return fmt.Errorf("mount %s: %w", m, err)
		}
		if got, err := os.Readlink(link); err == nil && got == rel {
			continue
		}
		if st, err := os.Lstat(link); err == nil && st.Mode()&fs.ModeSymlink == 0 {
			// A real file or directory from before versioned commits:
			// move it aside (into this chain, removed by prune).
			if err := os.Rename(link, filepath.Join(dir, "trash-"+strings.ReplaceAll(m, "/", "_"))); err != nil {
				return fmt.Errorf("mount %s: move old content aside: %w", m, err)
			}
			if err := killpoint("aside " + m); err != nil {
				return fmt.Errorf("mount %s: %w", m, err)
			}
		}
		if err := replaceLink(link, rel); err != nil {
			return fmt.Errorf("mount %s: %w", m, err)
		}
		if err := killpoint("link " + m); err != nil {
			return fmt.Errorf("mount %s: %w", m, err)
		}
	}
	for _, m := range prev {
		if slices.Contains(mounts, m) {
			continue
		}
		link := filepath.Join(root, filepath.FromSlash(m))
		if st, err := os.Lstat(link); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			if err := os.Remove(link); err != nil {
				return err
			}
			if err := killpoint("unlink " + m); err != nil {
				return fmt.Errorf("unmount %s: %w", m, err)
			}
		}
	}
	return nil
}

// replaceLink makes path a symbolic link to target by renaming a fresh
// link over it (atomic), and syncs the directory.
func replaceLink(path, target string) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".link-tmp")
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// mkdirNoLinks creates dir (below root) and refuses to create it through
// a mounted link: a mount nested inside another chain's mount would write
// into that chain's committed version.
func mkdirNoLinks(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." {
		return os.MkdirAll(dir, 0o755)
	}
	p := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		p = filepath.Join(p, part)
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a mounted link: mounts cannot nest", p)
		}
	}
	return nil
}

// checkNoLinkAbove refuses a mount below another mount's link (it would
// write into that chain's committed version).
func checkNoLinkAbove(root, m string) error {
	p := root
	parts := strings.Split(m, "/")
	for _, part := range parts[:len(parts)-1] {
		p = filepath.Join(p, part)
		if st, err := os.Lstat(p); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a mounted link: mounts cannot nest", p)
		}
	}
	return nil
}

func prune(dir string, keep int) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if n := e.Name(); n != currentName && n != seqName(keep) {
			if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
				return err
			}
		}
	}
	return syncDir(dir)
}

func readMounts(version string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(version, mountsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m []string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(version, mountsFile), err)
	}
	for _, x := range m {
		if err := checkMount(x); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(version, mountsFile), err)
		}
	}
	return m, nil
}

func checkMount(m string) error {
	if m == "" || m == "." || strings.HasPrefix(m, "../") || m == ".." || filepath.IsAbs(m) || m == VersionsDir || strings.HasPrefix(m, VersionsDir+"/") {
		return fmt.Errorf("bad mount %q", m)
	}
	return nil
}

// versions returns the chain's version numbers (committed or not), sorted.
func versions(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		n := strings.TrimSuffix(e.Name(), stagingExt)
		if v, err := strconv.Atoi(n); err == nil {
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out, nil
}

func seqName(n int) string { return fmt.Sprintf("%06d", n) }
