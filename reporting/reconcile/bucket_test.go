package reconcile

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"qiandun/data/lake"
)

// TestBuckets: matching by reference in several buckets finds what it
// finds in one (the same breaks, summary, migration and counts), on a
// generated book with duplicates and amount mismatches, and leaves no
// temp files in the lake.
func TestBuckets(t *testing.T) {
	lk, _ := generatedLake(t, 1000, 0.05)
	run := func(per int64, buckets int) (*Manifest, string) {
		t.Helper()
		var log bytes.Buffer
		m, dir, err := Run(context.Background(), Options{Lake: lk, Out: t.TempDir(), From: mustDay("2021-01-01"),
			To: mustDay("2023-12-31"), Window: DefaultWindow, Tolerance: DefaultTolerance, MaxOpenAmount: -1,
			MemoryLimit: "1GB", linesPerBucket: per,
			Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(log.Bytes(), []byte("sql=bucket.sql")); n < buckets {
			t.Fatalf("%d buckets matched, want at least %d", n, buckets)
		}
		left, err := filepath.Glob(filepath.Join(lk, lake.TmpDir, "reconcile-*"))
		if err != nil || len(left) > 0 {
			t.Fatalf("temp dirs left in the lake: %v %v", left, err)
		}
		return m, dir
	}
	one, oneDir := run(1<<62, 1)
	if one.Breaks["duplicate"] == 0 || one.Breaks["amount_mismatch"] == 0 || one.Breaks["timing"] == 0 {
		t.Fatalf("the book should have duplicates, amount mismatches and timing breaks: %v", one.Breaks)
	}
	// One bucket per a seventh of the lines: at least 7 buckets.
	many, manyDir := run(one.Lines/7+1, 7)
	if one.Matched != many.Matched || one.Records != many.Records || one.Lines != many.Lines ||
		one.Rows != many.Rows || one.OpenAmount != many.OpenAmount {
		t.Errorf("counts: one bucket %+v, several %+v", one, many)
	}
	for _, f := range []string{"breaks.csv", "summary.csv", "migration.csv"} {
		a, err := os.ReadFile(filepath.Join(oneDir, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(manyDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between one bucket and several", f)
		}
	}
	t.Logf("%d records, %d matched, breaks %v", one.Records, one.Matched, one.Breaks)
}
