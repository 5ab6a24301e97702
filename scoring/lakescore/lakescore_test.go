//go:build duckdb_arrow

package lakescore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qiandun/data/lake"
	"qiandun/features"
	"qiandun/scoring/internal/demo"
	"qiandun/scoring/lakescore"
	"qiandun/scoring/score"
)

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestWrite: the model's rows only, typed, replacing the previous table;
// refusals leave the table as it was.
func TestWrite(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	run, lk := t.TempDir(), t.TempDir()
	writeRun := func(rows string) {
		t.Helper()
		if _, err := db.Exec("COPY (SELECT * FROM (VALUES " + rows + ") v(entity_id, model, score)) TO " +
			lake.Quote(filepath.Join(run, "scores.parquet")) + " (FORMAT parquet)"); err != nil {
			t.Fatal(err)
		}
	}
	read := func() map[string]int {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(lk, "scores_acard", "*"))
		if len(files) != 1 || filepath.Base(files[0]) != "part-0.parquet" {
			t.Fatalf("table files %v, want part-0.parquet only", files)
		}
		var typ string
		if err := db.QueryRow("SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM read_parquet(" + lake.Quote(files[0]) + "))").Scan(&typ); err != nil {
			t.Fatal(err)
		}
		if typ != "application_id VARCHAR, score INTEGER" {
			t.Fatalf("columns %s", typ)
		}
		rs, err := db.Query("SELECT application_id, score FROM read_parquet(" + lake.Quote(files[0]) + ")")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		got := map[string]int{}
		for rs.Next() {
			var id string
			var s int
			rs.Scan(&id, &s)
			got[id] = s
		}
		return got
	}
	o := lakescore.Options{Run: run, Lake: lk, Table: "scores_acard", Model: "acard", IDCol: "application_id"}
	for _, tc := range []struct {
		name, rows string
		want       map[string]int
	}{
		{"first", "('A1', 'acard', 612), ('A2', 'acard', 580), ('L1', 'bcard', 700)", map[string]int{"A1": 612, "A2": 580}},
		{"replaced", "('A3', 'acard', 599), ('L1', 'bcard', 700)", map[string]int{"A3": 599}},
	} {
		writeRun(tc.rows)
		n, err := lakescore.Write(ctx, o)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := read()
		if n != int64(len(tc.want)) || len(got) != len(tc.want) {
			t.Fatalf("%s: %d rows written, table %v, want %v", tc.name, n, got, tc.want)
		}
		for id, s := range tc.want {
			if got[id] != s {
				t.Fatalf("%s: %s score %d, want %d", tc.name, id, got[id], s)
			}
		}
	}
	for _, tc := range []struct {
		name string
		o    lakescore.Options
		want string
	}{
		{"no rows of the model", lakescore.Options{Run: run, Lake: lk, Table: "scores_acard", Model: "nope", IDCol: "application_id"}, "no rows of model"},
		{"no run", lakescore.Options{Run: filepath.Join(run, "missing"), Lake: lk, Table: "scores_acard", Model: "acard", IDCol: "application_id"}, "scores.parquet"},
		{"no table", lakescore.Options{Run: run, Lake: lk, Model: "acard", IDCol: "application_id"}, "required"},
	} {
		if _, err := lakescore.Write(ctx, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	if got := read(); len(got) != 1 || got["A3"] != 599 {
		t.Fatalf("table after refusals: %v", got)
	}
}

// TestFeedsBCard: on a generated book, the A-card scores of the A-card
// snapshot written to the lake become the B-card feature
// acard_score_at_origination: for every active loan, the score of its
// own application.
func TestFeedsBCard(t *testing.T) {
	ctx := context.Background()
	book, err := demo.Build(ctx, t.TempDir(), 3000)
	if err != nil {
		t.Fatal(err)
	}
	const asOf = "2023-12-31"
	_, run, err := score.Run(ctx, score.Options{Lake: book.Lake, AsOf: asOf, Models: []string{book.ACard}, Out: t.TempDir(), Full: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := lakescore.Write(ctx, lakescore.Options{Run: run, Lake: book.Lake, Table: "scores_acard", Model: "acard", IDCol: "application_id"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := features.Run(ctx, lake.New(book.Lake), features.SetBCard, []time.Time{book.AsOf}, lake.DBOptions{MemoryLimit: "1GB"}, nil); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	var loans, withScore, wrong int64
	q := "SELECT count(*), count(f.acard_score_at_origination), count(*) FILTER (WHERE f.acard_score_at_origination IS DISTINCT FROM s.score) " +
		"FROM read_parquet(" + lake.Quote(filepath.Join(book.Lake, "features", "bcard", "as_of="+asOf, "*.parquet")) + ") f " +
		"JOIN read_parquet(" + lake.Quote(filepath.Join(book.Lake, "loans", "*.parquet")) + ") l USING (loan_id) " +
		"LEFT JOIN read_parquet(" + lake.Quote(filepath.Join(run, "scores.parquet")) + ") s ON s.entity_id = l.application_id AND s.model = 'acard'"
	if err := db.QueryRow(q).Scan(&loans, &withScore, &wrong); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d applications scored; %d active loans, %d with an A-card score", n, loans, withScore)
	if loans == 0 || withScore != loans || wrong != 0 {
		t.Fatalf("%d active loans, %d with acard_score_at_origination, %d differing from their application's A-card score", loans, withScore, wrong)
	}
	if _, err := os.Stat(filepath.Join(book.Lake, "scores_acard", "part-0.parquet")); err != nil {
		t.Fatal(err)
	}
}
