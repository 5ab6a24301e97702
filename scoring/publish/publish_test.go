package publish_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"qiandun/scoring/publish"
)

func commit(t *testing.T, final, content string) {
	t.Helper()
	d, err := publish.Begin(final)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Abort()
	if err := d.WriteFile("a.csv", []byte(content), 1); err != nil {
		t.Fatal(err)
	}
	files, err := d.Files()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(map[string]any{"files": files}); err != nil {
		t.Fatal(err)
	}
}

func TestCommitVerifyReplace(t *testing.T) {
	final := filepath.Join(t.TempDir(), "out", "2024-01-31")
	commit(t, final, "x\n1\n")
	files, err := publish.Verify(final)
	if err != nil || len(files) != 1 || files[0].Rows != 1 || files[0].Bytes != 4 {
		t.Fatalf("verify: %v %+v", err, files)
	}
	commit(t, final, "x\n2\n")
	if b, _ := os.ReadFile(filepath.Join(final, "a.csv")); string(b) != "x\n2\n" {
		t.Fatalf("replacement not published: %q", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(final)); len(ents) != 2 || ents[0].Name() != "2024-01-31" || ents[1].Name() != "_v" {
		t.Fatalf("beside the output, want only the commit protocol's _v: %v", ents)
	}
	// A modified file no longer verifies, nor does a modified manifest.
	os.WriteFile(filepath.Join(final, "a.csv"), []byte("x\n3\n"), 0o644)
	if _, err := publish.Verify(final); err == nil || !strings.Contains(err.Error(), "a.csv") {
		t.Fatalf("modified file verified: %v", err)
	}
	commit(t, final, "x\n2\n")
	os.WriteFile(filepath.Join(final, publish.ManifestName), []byte(`{"files":[]}`), 0o644)
	if _, err := publish.Verify(final); err == nil {
		t.Fatal("modified manifest verified")
	}
	os.Remove(filepath.Join(final, publish.Marker))
	if _, err := publish.Verify(final); err == nil {
		t.Fatal("directory without _SUCCESS verified")
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	final := filepath.Join(t.TempDir(), "2024-01-31")
	d, err := publish.Begin(final)
	if err != nil {
		t.Fatal(err)
	}
	d.WriteFile("a.csv", []byte("x"), 1)
	d.Abort()
	if _, err := os.Stat(final); err == nil {
		t.Fatal("an aborted directory was published")
	}
	if ents, _ := os.ReadDir(filepath.Join(filepath.Dir(final), "_v", "2024-01-31")); len(ents) != 0 {
		t.Fatalf("abort left %v", ents)
	}
}

// TestStaleTemp: what a dead writer left (its staging directory, and the
// move-aside and temporary directories of the publication before the
// commit protocol) is removed by the next Begin, and the published
// directory is untouched.
func TestStaleTemp(t *testing.T) {
	parent := t.TempDir()
	final := filepath.Join(parent, "d")
	commit(t, final, "x\n1\n")
	stale := []string{filepath.Join(parent, "_v", "d", "000009.tmp"), filepath.Join(parent, ".d.tmp-123-1")}
	for _, p := range stale {
		os.MkdirAll(p, 0o755)
	}
	d, err := publish.Begin(final)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Abort()
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s kept", p)
		}
	}
	if _, err := publish.Verify(final); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(d.Tmp); st.Mode().Perm() != 0o755 {
		t.Errorf("staging directory mode %v", st.Mode())
	}
}

// TestCreateHashesWhileWriting: a file written through Create is listed
// with the SHA-256 of its bytes (computed independently here) without
// being read back, and the published directory verifies.
func TestCreateHashesWhileWriting(t *testing.T) {
	final := filepath.Join(t.TempDir(), "out", "2024-01-31")
	d, err := publish.Begin(final)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Abort()
	w, err := d.Create("big.csv")
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for i := range 1000 {
		line := []byte("row," + strconv.Itoa(i) + "\n")
		all = append(all, line...)
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d.Written("big.csv", 1000)
	files, err := d.Files()
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(all)
	if len(files) != 1 || files[0].SHA256 != hex.EncodeToString(want[:]) || files[0].Bytes != int64(len(all)) || files[0].Rows != 1000 {
		t.Fatalf("files %+v, want sha256 %x bytes %d", files, want, len(all))
	}
	if err := d.Commit(map[string]any{"files": files}); err != nil {
		t.Fatal(err)
	}
	if _, err := publish.Verify(final); err != nil {
		t.Fatal(err)
	}
}
