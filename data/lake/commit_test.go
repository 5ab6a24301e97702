package lake

import (
	"os"
	"path/filepath"
	"testing"
)

// Tables published by a commit are links into its version: Views finds
// them through the links (and nothing under _v), and Keep carries the
// tables a commit does not rewrite, also those of a lake written before
// versioned commits (plain directories).
func TestCommitViewsKeep(t *testing.T) {
	root := t.TempDir()
	l := New(root)
	// A table from before versioned commits: a plain directory.
	if err := os.MkdirAll(l.TableDir("old"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(l.TableDir("old"), "part-0.parquet"), []byte("old"), 0o644)

	c, err := l.Begin("stage")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := c.Dir("perf/panel")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "part-0.parquet"), []byte("new"), 0o644)
	c.Mount("perf")
	if err := c.Keep("old"); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteManifest(&Manifest{Stage: "stage"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"perf", "old"} {
		if st, err := os.Lstat(filepath.Join(root, p)); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%s is not a mounted link: %v", p, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(l.TableDir("old"), "part-0.parquet")); string(b) != "old" {
		t.Fatalf("kept table reads %q", b)
	}
	if _, err := l.ReadManifest("stage"); err != nil {
		t.Fatal(err)
	}
	vs, err := l.Views()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	if len(names) != 2 || names[0] != "old" || names[1] != "perf_panel" {
		t.Fatalf("views %v, want [old perf_panel]", names)
	}
}
