package perf

import (
	"context"
	"testing"

	"qiandun/data/lake"
)

// TestDPDBucketMacro checks the shared dpd_bucket macro (sql/macros.sql)
// at every bucket boundary of DESIGN.md: C 0, M1 1-30, M2 31-60, M3 61-90,
// M4+ over 90.
func TestDPDBucketMacro(t *testing.T) {
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(Macros()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dpd  int
		want string
	}{{0, "C"}, {1, "M1"}, {30, "M1"}, {31, "M2"}, {60, "M2"}, {61, "M3"}, {90, "M3"}, {91, "M4+"}, {400, "M4+"}} {
		var got string
		if err := db.QueryRow("SELECT dpd_bucket(?)", tc.dpd).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("dpd_bucket(%d) = %s, want %s", tc.dpd, got, tc.want)
		}
	}
}
