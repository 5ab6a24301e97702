//go:build duckdb_arrow

package train_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/training/binning"
	"qiandun/training/train"
)

// The bins file: fixed bins, or per-variable overrides of the search and
// special codes; a spec that says nothing, or an unknown trend, is refused
// with the file and variable named.
func TestLoadBinsOverrides(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, yaml, err string
		check           func(map[string]binning.Spec) bool
	}{
		{"fixed and overrides", `
a: {breaks: [1, 2]}
b: {monotonic: descending, max_bins: 4, specials: [-1, 9999]}
c: {min_share: 0.02}
`, "", func(m map[string]binning.Spec) bool {
			a, b := m["a"], m["b"]
			return a.Manual() && !b.Manual() && m["b"].Monotonic == binning.Descending &&
				m["b"].MaxBins == 4 && len(m["b"].Specials) == 2 && m["c"].MinShare == 0.02
		}},
		{"empty spec", "a: {}\n", "a has none of", nil},
		{"unknown trend", "a: {monotonic: upward}\n", `a: monotonic "upward"`, nil},
		{"share out of range", "a: {min_share: 1.5}\n", "out of range", nil},
		{"both breaks and groups", "a: {breaks: [1], groups: [[x]]}\n", "both breaks and groups", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := train.LoadBins(p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), p) {
					t.Fatalf("err %v, want %q naming %s", err, tc.err, p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(m) {
				t.Errorf("specs %+v", m)
			}
		})
	}
}
