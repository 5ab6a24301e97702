package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qiandun/data/lake"
)

// TestScoreWindowCLI runs the shipped pipeline to the score stage on a
// small book, then the score command as a scheduler would, and checks
// which rows each run scores, counted independently from the lake's
// applications table:
//   - the pipeline's A-card rows at 2023-06-30 (the demo book issues
//     nothing in its last six months, so a later as-of has no new
//     applications) are the applications of the as-of month (no earlier
//     run), its B-card decisions read maintain/monitor/act and
//     the A-card's approve/review/decline;
//   - a run at 2023-04-30 (April's applications), then one at
//     2023-06-30 scores the applications since 2023-04-30, the previous
//     published run's as-of;
//   - --full scores every application before the as-of date.
func TestScoreWindowCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real stages")
	}
	root := t.TempDir()
	runPipeline(t, "--to", "score", "--as-of", "2023-06-30", "--set", "root="+root, "--set", "loans=1500")
	lakeDir, models := filepath.Join(root, "lake"), filepath.Join(root, "models")
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(fmt.Sprintf(q, args...)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	apps := "read_parquet(" + lake.Quote(filepath.Join(lakeDir, "applications", "**", "*.parquet")) + ")"
	appsIn := func(from, to string) int {
		return count("SELECT count(*) FROM %s WHERE apply_time >= TIMESTAMP '%s' AND apply_time < TIMESTAMP '%s'", apps, from, to)
	}
	scores := func(dir, model string) int {
		return count("SELECT count(*) FROM read_parquet(%s) WHERE model = '%s'", lake.Quote(filepath.Join(dir, "scores.parquet")), model)
	}
	decisions := func(dir, model string) []string {
		rs, err := db.Query(fmt.Sprintf("SELECT DISTINCT decision FROM read_parquet(%s) WHERE model = '%s' ORDER BY 1", lake.Quote(filepath.Join(dir, "scores.parquet")), model))
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			var d string
			rs.Scan(&d)
			out = append(out, d)
		}
		return out
	}
	window := func(dir, model string) string {
		raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var man struct {
			Models []struct {
				Name   string
				Window *struct{ From, To, Since string }
			}
		}
		if err := json.Unmarshal(raw, &man); err != nil {
			t.Fatal(err)
		}
		for _, m := range man.Models {
			if m.Name == model && m.Window != nil {
				return m.Window.From + ".." + m.Window.To + " " + m.Window.Since
			}
		}
		return "full"
	}

	pipe := filepath.Join(root, "out", "scores", "2023-06-30")
	dec := appsIn("2023-06-01", "2023-06-30")
	if dec == 0 {
		t.Fatal("no June 2023 applications in the book")
	}
	if got := scores(pipe, "acard"); got != dec {
		t.Errorf("pipeline A-card rows %d, want the %d applications of June 2023", got, dec)
	}
	if w := window(pipe, "acard"); w != "2023-06-01..2023-06-30 as_of_month" {
		t.Errorf("pipeline A-card window %s", w)
	}
	for model, vocab := range map[string][]string{"acard": {"approve", "review", "decline"}, "bcard": {"maintain", "monitor", "act"}} {
		got := decisions(pipe, model)
		if len(got) == 0 {
			t.Errorf("%s: no rows", model)
		}
		for _, d := range got {
			if !slices.Contains(vocab, d) {
				t.Errorf("%s decision %q, want one of %v", model, d, vocab)
			}
		}
	}

	score := func(asOf string, extra ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		out := filepath.Join(root, "sched")
		args := append([]string{"score", "--lake", lakeDir, "--models", models, "--name", "acard", "--as-of", asOf, "--out", out}, extra...)
		if code := realMain(args, &stdout, &stderr); code != 0 {
			t.Fatalf("qiandun %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
		return filepath.Join(out, asOf)
	}
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"features", "--lake", lakeDir, "--set", "acard", "--as-of", "2023-04-30"}, &stdout, &stderr); code != 0 {
		t.Fatalf("features: exit %d: %s", code, stderr.String())
	}
	if got, want := scores(score("2023-04-30"), "acard"), appsIn("2023-04-01", "2023-04-30"); got != want {
		t.Errorf("2023-04-30 run: %d rows, want April's %d applications", got, want)
	}
	dec31 := score("2023-06-30")
	if got, want := scores(dec31, "acard"), appsIn("2023-04-30", "2023-06-30"); got != want || want <= dec {
		t.Errorf("2023-06-30 run after 2023-04-30: %d rows, want the %d applications since 2023-04-30 (June alone: %d)", got, want, dec)
	}
	if w := window(dec31, "acard"); w != "2023-04-30..2023-06-30 previous_run" {
		t.Errorf("window %s", w)
	}
	full := score("2023-06-30", "--full")
	if got, want := scores(full, "acard"), count("SELECT count(*) FROM %s WHERE apply_time < TIMESTAMP '2023-06-30'", apps); got != want {
		t.Errorf("--full: %d rows, want all %d applications before the as-of date", got, want)
	}
	if w := window(full, "acard"); w != "full" {
		t.Errorf("--full window %s", w)
	}
}
