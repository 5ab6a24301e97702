package lake

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDefaultMemoryLimit: with no limit given (or "auto") DuckDB gets
// MemoryShare of the machine's memory, and a limit given is DuckDB's.
func TestDefaultMemoryLimit(t *testing.T) {
	def := DefaultMemoryLimit()
	mb, err := strconv.ParseUint(strings.TrimSuffix(def, "MB"), 10, 64)
	if total := physicalMemory(); total > 0 {
		if err != nil {
			t.Fatalf("DefaultMemoryLimit() = %q, want <n>MB", def)
		}
		if got, want := float64(mb<<20), float64(total)*MemoryShare; got > want || (got < want*0.9 && mb > 256) {
			t.Errorf("DefaultMemoryLimit() = %q, want about %.0f MB (%.2f of %d bytes)", def, want/(1<<20), MemoryShare, total)
		}
	}
	setting := func(limit string) string {
		t.Helper()
		l := New(t.TempDir())
		db, err := l.OpenDB(context.Background(), DBOptions{MemoryLimit: limit, TempDir: filepath.Join(l.Root, "tmp")})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var s string
		if err := db.QueryRow("SELECT current_setting('memory_limit')").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	want := setting(def)
	for _, limit := range []string{"", "auto"} {
		if got := setting(limit); got != want {
			t.Errorf("memory limit %q: DuckDB has %s, want %s (%s)", limit, got, want, def)
		}
	}
	if got := setting("300MB"); got == want || !strings.Contains(got, "MiB") {
		t.Errorf("memory limit 300MB: DuckDB has %s", got)
	}
}
