package durable

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// commitFiles commits files (rel path -> content) under root as chain,
// mounting mounts, keeping keep from the previous commit.
func commitFiles(t *testing.T, root, chain string, keep []string, files map[string]string, mounts ...string) {
	t.Helper()
	tx, err := Begin(root, chain)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	for _, k := range keep {
		if err := tx.Keep(k); err != nil {
			t.Fatal(err)
		}
	}
	for rel, data := range files {
		if err := os.WriteFile(tx.Path(rel), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tx.Mount(mounts...)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// tree returns every regular file readable below root through ordinary
// paths (following links), skipping _v, as rel path -> content.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(dir, rel string)
	walk = func(dir, rel string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() == VersionsDir {
				continue
			}
			p, r := filepath.Join(dir, e.Name()), filepath.Join(rel, e.Name())
			st, err := os.Stat(p) // follows links
			if err != nil {
				t.Fatalf("%s: %v (dangling link?)", r, err)
			}
			if st.IsDir() {
				walk(p, r)
				continue
			}
			b, _ := os.ReadFile(p)
			out[filepath.ToSlash(r)] = string(b)
		}
	}
	walk(root, "")
	return out
}

func equalTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	var g, w []string
	for k, v := range got {
		g = append(g, k+"="+v)
	}
	for k, v := range want {
		w = append(w, k+"="+v)
	}
	sort.Strings(g)
	sort.Strings(w)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Fatalf("tree:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

// versionEntries lists what a chain directory holds.
func versionEntries(t *testing.T, root, chain string) []string {
	ents, _ := os.ReadDir(filepath.Join(root, VersionsDir, chain))
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestTxnCommitReplaceKeep(t *testing.T) {
	root := t.TempDir()
	commitFiles(t, root, "ingest", nil, map[string]string{
		"loans/part-0.parquet": "L1", "apps/part-0.parquet": "A1", "_manifests/ingest.json": "m1",
	}, "loans", "apps", "_manifests/ingest.json")
	equalTree(t, tree(t, root), map[string]string{
		"loans/part-0.parquet": "L1", "apps/part-0.parquet": "A1", "_manifests/ingest.json": "m1",
	})
	// A second commit keeps apps, replaces loans and drops nothing else.
	commitFiles(t, root, "ingest", []string{"apps"}, map[string]string{
		"loans/part-0.parquet": "L2", "_manifests/ingest.json": "m2",
	}, "loans", "apps", "_manifests/ingest.json")
	equalTree(t, tree(t, root), map[string]string{
		"loans/part-0.parquet": "L2", "apps/part-0.parquet": "A1", "_manifests/ingest.json": "m2",
	})
	if got := versionEntries(t, root, "ingest"); strings.Join(got, ",") != "000002,current" {
		t.Errorf("chain holds %v, want only the new version and the pointer", got)
	}
	// Another chain mounts a sibling in the shared _manifests directory.
	commitFiles(t, root, "perf", nil, map[string]string{"perf/panel/p.parquet": "P", "_manifests/perf.json": "pm"}, "perf", "_manifests/perf.json")
	if b, _ := os.ReadFile(filepath.Join(root, "_manifests", "ingest.json")); string(b) != "m2" {
		t.Errorf("ingest manifest %q after perf's commit", b)
	}
	// A commit that no longer writes a mount unlinks it.
	commitFiles(t, root, "ingest", []string{"loans"}, map[string]string{"_manifests/ingest.json": "m3"}, "loans", "_manifests/ingest.json")
	if _, err := os.Lstat(filepath.Join(root, "apps")); !os.IsNotExist(err) {
		t.Errorf("apps still there after a commit without it: %v", err)
	}
}

func TestTxnAbortLeavesPrevious(t *testing.T) {
	root := t.TempDir()
	commitFiles(t, root, "perf", nil, map[string]string{"perf/x": "1"}, "perf")
	tx, err := Begin(root, "perf")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(tx.Path("perf/x"), []byte("2"), 0o644)
	tx.Mount("perf")
	tx.Abort()
	equalTree(t, tree(t, root), map[string]string{"perf/x": "1"})
	if got := versionEntries(t, root, "perf"); strings.Join(got, ",") != "000001,current" {
		t.Errorf("chain holds %v after abort", got)
	}
}

// TestRecoverStates builds by hand each state an interrupted commit can
// leave and checks Recover restores the last commit with no debris.
func TestRecoverStates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash func(t *testing.T, root string)
		want  string // content of perf/x after recovery
	}{
		{"staging written", func(t *testing.T, root string) {
			d := filepath.Join(root, VersionsDir, "perf", "000002.tmp", "perf")
			os.MkdirAll(d, 0o755)
			os.WriteFile(filepath.Join(d, "x"), []byte("2"), 0o644)
		}, "1"},
		{"version renamed, pointer not swapped", func(t *testing.T, root string) {
			d := filepath.Join(root, VersionsDir, "perf", "000002", "perf")
			os.MkdirAll(d, 0o755)
			os.WriteFile(filepath.Join(d, "x"), []byte("2"), 0o644)
			os.WriteFile(filepath.Join(root, VersionsDir, "perf", "000002", mountsFile), []byte(`["perf"]`), 0o644)
			os.Symlink("000002", filepath.Join(root, VersionsDir, "perf", ".current.link-tmp"))
		}, "1"},
		{"pointer swapped, links and prune not done", func(t *testing.T, root string) {
			v := filepath.Join(root, VersionsDir, "perf", "000002")
			os.MkdirAll(filepath.Join(v, "perf"), 0o755)
			os.WriteFile(filepath.Join(v, "perf", "x"), []byte("2"), 0o644)
			os.WriteFile(filepath.Join(v, mountsFile), []byte(`["perf"]`), 0o644)
			os.Remove(filepath.Join(root, VersionsDir, "perf", currentName))
			os.Symlink("000002", filepath.Join(root, VersionsDir, "perf", currentName))
			os.Remove(filepath.Join(root, "perf")) // a crash mid link swap
		}, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			commitFiles(t, root, "perf", nil, map[string]string{"perf/x": "1"}, "perf")
			tc.crash(t, root)
			if err := Recover(root); err != nil {
				t.Fatal(err)
			}
			equalTree(t, tree(t, root), map[string]string{"perf/x": tc.want})
			if got := versionEntries(t, root, "perf"); len(got) != 2 {
				t.Errorf("debris left: %v", got)
			}
			// And the chain goes on.
			commitFiles(t, root, "perf", nil, map[string]string{"perf/x": "3"}, "perf")
			equalTree(t, tree(t, root), map[string]string{"perf/x": "3"})
		})
	}
}

// TestTxnTakesOverLegacyDir: a lake written before versioned commits has
// real directories where mounts go; the first commit moves them aside.
func TestTxnTakesOverLegacyDir(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "perf"), 0o755)
	os.WriteFile(filepath.Join(root, "perf", "old"), []byte("legacy"), 0o644)
	commitFiles(t, root, "perf", nil, map[string]string{"perf/x": "1"}, "perf")
	equalTree(t, tree(t, root), map[string]string{"perf/x": "1"})
	if got := versionEntries(t, root, "perf"); len(got) != 2 {
		t.Errorf("legacy content left in the chain: %v", got)
	}
}

func TestTxnRefusesNestedMounts(t *testing.T) {
	root := t.TempDir()
	commitFiles(t, root, "features", nil, map[string]string{"features/a/x": "1"}, "features")
	tx, err := Begin(root, "other")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	os.WriteFile(tx.Path("features/b/y"), []byte("2"), 0o644)
	tx.Mount("features/b")
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "cannot nest") {
		t.Fatalf("nested mount: err %v", err)
	}
	equalTree(t, tree(t, root), map[string]string{"features/a/x": "1"})
}

func TestBeginBadChain(t *testing.T) {
	for _, c := range []string{"", "a/b", ".x", "current"} {
		if _, err := Begin(t.TempDir(), c); err == nil {
			t.Errorf("Begin(%q): no error", c)
		}
	}
}

// TestBeginIn: a root that does not exist yet is created, and an
// interrupted commit of another chain under it is recovered first.
func TestBeginIn(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out", "beam")
	commitFiles(t, root, "other", nil, map[string]string{"a/x": "1"}, "a")
	left, err := Begin(root, "other") // interrupted: staging left behind
	if err != nil {
		t.Fatal(err)
	}
	if _, err := left.Dir("a"); err != nil {
		t.Fatal(err)
	}
	tx, err := BeginIn(root, "mine")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	if _, err := os.Stat(left.staging); !os.IsNotExist(err) {
		t.Errorf("the other chain's interrupted commit is still there: %s (%v)", left.staging, err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "a", "x")); err != nil || string(b) != "1" {
		t.Errorf("the other chain's last commit: %q %v", b, err)
	}
}
