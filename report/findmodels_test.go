package report

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FindModels lists model versions only: never the temporary directories
// of a publication (.<version>.tmp-*) nor anything under a name beginning
// with "_" (the commit protocol's _v, _tmp), which once produced reports of
// half-written models.
func TestFindModelsSkipsDebris(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"acard/v1", "acard/.v2.tmp-123", "_v/x", "_tmp/y", ".hidden/v3", "bcard/v4"} {
		p := filepath.Join(root, d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "bins.csv"), []byte("variable\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := FindModels(root)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i], _ = filepath.Rel(root, got[i])
	}
	want := []string{"acard/v1", "bcard/v4"}
	if len(got) != 2 || !reflect.DeepEqual(map[string]bool{got[0]: true, got[1]: true}, map[string]bool{want[0]: true, want[1]: true}) {
		t.Fatalf("FindModels = %v, want %v", got, want)
	}
}
