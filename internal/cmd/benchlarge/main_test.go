package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A stand-in for bin/qiandun: it records the stage it was asked to run in
// the run state the real runner writes, with the row count, and fails for
// the stage named by FAIL_STAGE.
const fakeBin = `#!/bin/sh
stage=""; root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --only) stage="$2"; shift ;;
    --set) case "$2" in root=*) root="${2#root=}" ;; esac; shift ;;
  esac
  shift
done
[ "$stage" = "$FAIL_STAGE" ] && { echo "boom in $stage" >&2; exit 1; }
[ "$stage" = "$HANG_STAGE" ] && { touch "$HANG_MARK"; exec sleep 60; }
mkdir -p "$root/lake/_manifests/run"
echo "{\"stage\":\"$stage\",\"rows\":42}" > "$root/lake/_manifests/run/$stage.json"
`

func TestMeasureAll(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "qiandun")
	if err := os.WriteFile(bin, []byte(fakeBin), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAIL_STAGE", "features")
	out := filepath.Join(dir, "out")
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"--bin", bin, "--config", "../../../pipelines/default.yaml",
		"--root", filepath.Join(dir, "books"), "--out", out, "--sizes", "1000,2000"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	stages, down, err := stageNames("../../../pipelines/default.yaml", map[string]string{"root": dir})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, "bench-large.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(recs)-1, 2*len(stages); got != want {
		t.Fatalf("%d measures, want a row per stage and size (%d)", got, want)
	}
	// features fails: the stages that need it are not run, the others
	// (before and after it in the order) are measured.
	var notRun, ranAfter int
	after := false
	for _, r := range recs[1 : 1+len(stages)] {
		stage, status, rows := r[1], r[2], r[6]
		switch {
		case stage == "features":
			if status != "failed" || !strings.Contains(r[8], "boom in features") {
				t.Errorf("features: %v, want failed with its error", r)
			}
			after = true
		case down["features"][stage]:
			if status != "not_run" || !strings.Contains(r[8], "needs features") {
				t.Errorf("%s needs the failed features: %v, want not_run saying so", stage, r)
			}
			notRun++
		default:
			if status != "ok" || rows != "42" {
				t.Errorf("%s: %v, want ok with the runner's 42 rows", stage, r)
			}
			if after {
				ranAfter++
			}
		}
	}
	if !after || notRun == 0 || ranAfter == 0 {
		t.Errorf("features failed %v, %d stages not run, %d independent ones run after it: want each", after, notRun, ranAfter)
	}
	if st, err := os.Stat(filepath.Join(out, "bench-large.png")); err != nil || st.Size() == 0 {
		t.Errorf("chart: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "books", "1000")); !os.IsNotExist(err) {
		t.Errorf("book not removed without --keep: %v", err)
	}
}

// TestKeptBookStays: a kept book measured again with --stages (or only
// merged, no stage run) is never removed, --keep or not.
func TestKeptBookStays(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "qiandun")
	if err := os.WriteFile(bin, []byte(fakeBin), 0o755); err != nil {
		t.Fatal(err)
	}
	book := filepath.Join(dir, "books", "1000")
	if err := os.MkdirAll(filepath.Join(book, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, stages := range []string{"perf,report", "none"} {
		var stdout, stderr strings.Builder
		err := run(context.Background(), []string{"--bin", bin, "--config", "../../../pipelines/default.yaml",
			"--root", filepath.Join(dir, "books"), "--out", filepath.Join(dir, "out"), "--sizes", "1000", "--stages", stages}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("--stages %s: %v\n%s", stages, err, stderr.String())
		}
		if _, err := os.Stat(filepath.Join(book, "lake")); err != nil {
			t.Errorf("--stages %s removed the kept book: %v", stages, err)
		}
	}
}

// TestDropRaw: the exports go, _truth stays.
func TestDropRaw(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "raw")
	for _, f := range []string{"loans.csv", "custody_transactions.csv.gz", "repayments/part-1.csv", "_truth/loans.csv"} {
		p := filepath.Join(raw, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := dropRaw(raw); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "_truth" {
		t.Fatalf("left %v, want only _truth", ents)
	}
	if _, err := os.Stat(filepath.Join(raw, "_truth", "loans.csv")); err != nil {
		t.Fatal(err)
	}
}

// TestMerge: an earlier run's CSV joins this run's (sizes in order), and a
// stage measured again at a size replaces the earlier row.
func TestMerge(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "qiandun")
	if err := os.WriteFile(bin, []byte(fakeBin), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "../../../pipelines/default.yaml"
	stages, _, err := stageNames(cfg, map[string]string{"root": dir})
	if err != nil {
		t.Fatal(err)
	}
	// runOnce runs benchlarge and reads its CSV back as --merge would.
	runOnce := func(out string, args ...string) []Measure {
		t.Helper()
		var stdout, stderr strings.Builder
		args = append([]string{"--bin", bin, "--config", cfg, "--root", filepath.Join(dir, "books"), "--out", out, "--keep"}, args...)
		if err := run(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		ms, err := readResults([]string{filepath.Join(out, "bench-large.csv")})
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	first := filepath.Join(dir, "first")
	runOnce(first, "--sizes", "2000")
	both := runOnce(filepath.Join(dir, "both"), "--sizes", "1000", "--merge", filepath.Join(first, "bench-large.csv"))
	if len(both) != 2*len(stages) || both[0].Loans != 1000 || both[len(both)-1].Loans != 2000 || both[len(both)-1].Rows != 42 {
		t.Fatalf("merged: %d rows, first %+v, last %+v; want %d, the 1000-loan book's first", len(both), both[0], both[len(both)-1], 2*len(stages))
	}
	again := runOnce(filepath.Join(dir, "again"), "--sizes", "2000", "--stages", stages[0], "--merge", filepath.Join(dir, "both", "bench-large.csv"))
	n := 0
	for _, m := range again {
		if m.Loans == 2000 && m.Stage == stages[0] {
			n++
		}
	}
	if len(again) != 2*len(stages) || n != 1 {
		t.Errorf("re-measured %s at 2000 loans: %d rows, that stage %d times; want %d and once", stages[0], len(again), n, 2*len(stages))
	}
	if _, err := readResults([]string{filepath.Join(dir, "nope.csv")}); err == nil || !strings.Contains(err.Error(), "--merge") {
		t.Errorf("a missing --merge file: %v, want an error naming the flag", err)
	}
}

// TestSavesEachStage: the CSV holds every stage measured so far while a
// later one is still running, so a run killed part way (a 10M book takes
// hours) keeps its rows.
func TestSavesEachStage(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "qiandun")
	if err := os.WriteFile(bin, []byte(fakeBin), 0o755); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(dir, "hanging")
	t.Setenv("HANG_STAGE", "features")
	t.Setenv("HANG_MARK", mark)
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		var stdout, stderr strings.Builder
		done <- run(ctx, []string{"--bin", bin, "--config", "../../../pipelines/default.yaml",
			"--root", filepath.Join(dir, "books"), "--out", out, "--sizes", "1000"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(mark); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before features started: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("features never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stages, _, err := stageNames("../../../pipelines/default.yaml", map[string]string{"root": dir})
	if err != nil {
		t.Fatal(err)
	}
	before := stages[:slices.Index(stages, "features")]
	got, err := readResults([]string{filepath.Join(out, "bench-large.csv")})
	if err != nil {
		t.Fatalf("while features runs: %v", err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Stage)
	}
	if !slices.Equal(names, before) {
		t.Errorf("CSV while features runs: stages %v, want those before it %v", names, before)
	}
	cancel()
	<-done
}
