package publish_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoDuckDB: publish writes through internal/durable alone; it must not
// link DuckDB (data/lake or the driver), which the loan-system writers and
// their tests would otherwise carry.
func TestNoDuckDB(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "qiandun/scoring/publish").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "qiandun/internal/durable") {
		t.Fatalf("publish does not depend on internal/durable: %v", deps)
	}
	for _, d := range deps {
		if d == "qiandun/data/lake" || strings.Contains(d, "duckdb") {
			t.Errorf("publish depends on %s", d)
		}
	}
}
