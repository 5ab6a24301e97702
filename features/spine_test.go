package features

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qiandun/data/lake"
)

// TestSpineOrder builds the A-card snapshot of a lake whose applications
// are in application_id order, as ingest writes them (the spine numbers
// them in file order), and of the same lake with the applications
// shuffled (the spine sorts them, with a warning): the snapshots are the
// same bytes.
func TestSpineOrder(t *testing.T) {
	ctx := context.Background()
	asOf, err := time.Parse(time.DateOnly, benchAsOf)
	if err != nil {
		t.Fatal(err)
	}
	build := func(order string) ([32]byte, string) {
		t.Helper()
		root := t.TempDir()
		synthLake(t, root, 2000)
		l := lake.New(root)
		file := filepath.Join(l.TableDir("applications"), "part-0.parquet")
		db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "1GB", Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, "CREATE TABLE a AS SELECT * FROM read_parquet("+lake.Quote(file)+") ORDER BY "+order)
		mustExec(t, db, "COPY a TO "+lake.Quote(file)+" (FORMAT parquet)")
		db.Close()
		var logs bytes.Buffer
		if _, err := Run(ctx, l, SetACard, []time.Time{asOf}, lake.DBOptions{MemoryLimit: "1GB", Threads: 2},
			slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(Dir(l, SetACard, asOf), "part-0.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b), logs.String()
	}
	sorted, sortedLog := build("application_id")
	shuffled, shuffledLog := build("hash(application_id)")
	const warning = "not in application_id order"
	if strings.Contains(sortedLog, warning) {
		t.Errorf("lake in application_id order: spine warned it was not:\n%s", sortedLog)
	}
	if !strings.Contains(shuffledLog, warning) {
		t.Errorf("shuffled lake: no warning that the applications are out of order:\n%s", shuffledLog)
	}
	if sorted != shuffled {
		t.Errorf("the snapshot of the shuffled lake differs from the sorted one's")
	}
}
