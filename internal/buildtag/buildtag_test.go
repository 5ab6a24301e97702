//go:build duckdb_arrow

package buildtag_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildWithoutTag vets the whole module without the duckdb_arrow tag
// and checks that it fails with exactly one error line, this package's,
// which names both ways to build: a package that needs the tag without
// importing buildtag (directly or through data/lake) shows up here as a
// second, unreadable error ("undefined: duckdb.NewArrowFromConn", "build
// constraints exclude all Go files").
func TestBuildWithoutTag(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command over the module")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("go vet ./... without the tag succeeded:\n%s", out)
	}
	var errs []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(l, "# ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("go vet ./... without the tag printed %d error lines, want 1:\n%s", len(errs), out)
	}
	for _, want := range []string{"internal/buildtag/missing.go", "use the Makefile", "-tags=duckdb_arrow"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("error line %q does not mention %q", errs[0], want)
		}
	}
}
