package lake

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrapOutOfMemory: a DuckDB out-of-memory error becomes one line
// naming the stage, the step and the setting to raise, with twice the
// limit DuckDB had; any other error passes unchanged.
func TestWrapOutOfMemory(t *testing.T) {
	duck := func(used string) string {
		return "Out of Memory Error: could not allocate block of size 256.0 KiB (" + used + " used)\n\nPossible solutions:\n* Reducing the number of threads"
	}
	for _, c := range []struct {
		name, stage, err       string
		step, limit, suggested string
	}{
		{"sql file", "features_bcard", "bcard as of 2022-08-31: features: prep_installments.sql: " + duck("2.7 GiB/2.7 GiB"), "prep_installments.sql", "2.7 GiB", "6GB"},
		{"innermost sql file", "perf", "perf: perf/panel (sql/panel.sql), chunk 1 of 1: " + duck("511.9 MiB/512.0 MiB"), "sql/panel.sql", "512.0 MiB", "1GB"},
		{"no sql file", "report", "portfolio report: scores a/scores.csv: " + duck("0 bytes/30.5 MiB"), "scores a/scores.csv", "30.5 MiB", "64MB"},
		{"no step, no limit", "warn", "warn: Out of Memory Error: failed", "", "", "4GB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := WrapOutOfMemory(c.stage, fmt.Errorf("wrapped: %w", errors.New(c.err)))
			var o *OutOfMemoryError
			if !errors.As(err, &o) {
				t.Fatalf("not an *OutOfMemoryError: %v", err)
			}
			if o.Stage != c.stage || o.Step != c.step || o.Limit != c.limit {
				t.Errorf("stage %q step %q limit %q, want %q %q %q", o.Stage, o.Step, o.Limit, c.stage, c.step, c.limit)
			}
			msg := err.Error()
			for _, want := range []string{"stage " + c.stage, "memory_limit", "--set memory_limit=" + c.suggested, "--memory-limit", "Out of Memory Error"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if c.step != "" && !strings.Contains(msg, "step "+c.step+",") {
				t.Errorf("message does not name step %q: %s", c.step, msg)
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "Possible solutions") {
				t.Errorf("not one line: %q", msg)
			}
			if again := WrapOutOfMemory("run", err); again != err {
				t.Errorf("wrapped twice: %v", again)
			}
		})
	}
	plain := errors.New("perf: panel.sql: Binder Error: column x")
	if got := WrapOutOfMemory("perf", plain); got != plain {
		t.Errorf("a non-memory error changed: %v", got)
	}
	if WrapOutOfMemory("perf", nil) != nil {
		t.Error("nil error wrapped")
	}
}

// TestOutOfMemoryFromDuckDB provokes DuckDB's own error at a tiny limit:
// the wrapped error names the step and the limit DuckDB reports.
func TestOutOfMemoryFromDuckDB(t *testing.T) {
	l := New(t.TempDir())
	db, err := l.OpenDB(context.Background(), DBOptions{MemoryLimit: "2MB", TempDir: filepath.Join(l.Root, "tmp"), Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A hash aggregate over distinct strings cannot finish in 2MB.
	_, qerr := db.Exec("CREATE TABLE t AS SELECT i::VARCHAR || repeat('x', 100) AS k, count(*) AS n FROM range(2000000) r(i) GROUP BY 1")
	if !IsOutOfMemory(qerr) {
		t.Fatalf("want DuckDB's out-of-memory error at 2MB, got %v", qerr)
	}
	err = WrapOutOfMemory("perf", fmt.Errorf("perf: sql/panel.sql: %w", qerr))
	var o *OutOfMemoryError
	if !errors.As(err, &o) || o.Step != "sql/panel.sql" || !strings.HasSuffix(o.Limit, "MiB") {
		t.Fatalf("%#v", o)
	}
	if !strings.Contains(err.Error(), "stage perf, step sql/panel.sql, ran out of DuckDB memory at its limit of "+o.Limit) {
		t.Errorf("message: %s", err)
	}
}
