//go:build duckdb_arrow

package score_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/lake"
	"qiandun/scoring/internal/demo"
	"qiandun/scoring/score"
	"qiandun/training/scorecard"
)

// TestLakeMode scores a generated, ingested book's A-card applications and
// B-card active loans at the as-of date: one row per entity of each
// snapshot, scores equal to scorecard.sql on the snapshot, fraud flags as
// in the flags table, and decisions following them.
func TestLakeMode(t *testing.T) {
	ctx := context.Background()
	book, err := demo.Build(ctx, t.TempDir(), 3000)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	man, dir := run(t, score.Options{Lake: book.Lake, AsOf: "2023-12-31", Models: []string{book.ACard, book.BCard}, Out: out, Full: true})
	got, _ := readScores(t, dir)
	db := openDB(t)
	l := lake.New(book.Lake)
	for i, set := range []string{"acard", "bcard"} {
		mr := man.Models[i]
		if mr.Set != set {
			t.Fatalf("model %d scored set %s, want %s", i, mr.Set, set)
		}
		m, err := scorecard.Load(mr.Dir)
		if err != nil {
			t.Fatal(err)
		}
		key := map[string]string{"acard": "application_id", "bcard": "loan_id"}[set]
		if _, err := db.Exec("CREATE OR REPLACE VIEW input AS SELECT * FROM " + "read_parquet(" + lake.Quote(l.Glob("features/"+set+"/as_of=2023-12-31")) + ")"); err != nil {
			t.Fatal(err)
		}
		rs, err := db.Query(fmt.Sprintf("SELECT CAST(%s AS VARCHAR), CAST(score AS DOUBLE) FROM (%s)", key, m.SQL("input")))
		if err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		for rs.Next() {
			var id string
			var s float64
			rs.Scan(&id, &s)
			g, ok := got[id]
			if !ok || g.score != int(math.Round(s)) {
				t.Fatalf("%s %s: score %d (present %v), scorecard.sql %v", set, id, g.score, ok, s)
			}
			n++
		}
		rs.Close()
		if n != mr.Rows || n == 0 {
			t.Fatalf("%s: %d rows scored, snapshot has %d", set, mr.Rows, n)
		}
		if len(mr.Monitoring.CSI) != len(m.Chars) || mr.Monitoring.ScoreLevel == "unknown" {
			t.Fatalf("%s: monitoring %+v", set, mr.Monitoring)
		}
	}
	// Fraud flags: the flags table, sorted and ';'-joined.
	rs, err := db.Query("SELECT application_id, string_agg(flag, ';' ORDER BY flag) FROM read_parquet(" +
		lake.Quote(l.Glob("features/fraud_flags/as_of=2023-12-31")) + ") GROUP BY 1")
	if err != nil {
		t.Fatal(err)
	}
	flagged, hard := 0, 0
	for rs.Next() {
		var id, flags string
		rs.Scan(&id, &flags)
		g := got[id]
		if g.flags != flags {
			t.Fatalf("%s: fraud_flags %q, want %q", id, g.flags, flags)
		}
		want := "review"
		if strings.Contains(flags, "invalid_id") || strings.Contains(flags, "ring_member") || g.grade == "E" {
			want = "decline"
			hard++
		}
		if g.decision != want {
			t.Fatalf("%s: flags %q grade %s decision %s, want %s", id, flags, g.grade, g.decision, want)
		}
		flagged++
	}
	rs.Close()
	if flagged == 0 || hard == 0 {
		t.Fatalf("the demo book has %d flagged applications, %d declined", flagged, hard)
	}
	// No snapshot at a date: refused, nothing written.
	_, _, err = score.Run(ctx, score.Options{Lake: book.Lake, AsOf: "2023-11-15", Models: []string{book.BCard}, Out: filepath.Join(out, "x")})
	if err == nil || !strings.Contains(err.Error(), "no bcard feature snapshot") {
		t.Fatalf("missing snapshot: %v", err)
	}
}
