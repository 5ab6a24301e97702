package ingest

import (
	"strings"
	"testing"

	"qiandun/data/lake"
)

// TestLaneLimit: without a stage limit the lanes keep 800MB and 300MB;
// with one they split it 8:3, never below those; auto follows the
// machine (lake.DefaultMemoryLimit); a bad size is an error naming it.
func TestLaneLimit(t *testing.T) {
	for _, tc := range []struct {
		total        string
		want0, want1 string
	}{
		{"", "800MB", "300MB"},
		{"512MB", "800MB", "300MB"},   // below the floors (make guard's limit)
		{"1100MB", "800MB", "300MB"},  // exactly the floors
		{"11GB", "8000MB", "3000MB"},  // 8:3
		{"6GiB", "4685MB", "1757MB"},  // 6442450944 bytes x 8/11, x 3/11
		{"2.2 gb", "1600MB", "600MB"}, // case and spaces
	} {
		for i, want := range []string{tc.want0, tc.want1} {
			got, err := laneLimit(tc.total, i)
			if err != nil || got != want {
				t.Errorf("laneLimit(%q, %d) = %q, %v; want %q", tc.total, i, got, err, want)
			}
		}
	}
	auto0, err := laneLimit("auto", 0)
	if err != nil {
		t.Fatal(err)
	}
	want0, _ := laneLimit(lake.DefaultMemoryLimit(), 0)
	if auto0 != want0 {
		t.Errorf("auto: %q, want the split of %s: %q", auto0, lake.DefaultMemoryLimit(), want0)
	}
	if _, err := laneLimit("lots", 0); err == nil || !strings.Contains(err.Error(), `"lots"`) {
		t.Errorf("bad size: %v, want an error naming it", err)
	}
}
