package main

import (
	"context"
	"fmt"

	"qiandun/pipelines"
	"qiandun/scoring/score"
	"qiandun/stages"
)

// runScore writes batch score files (stages.Score): lake mode as the
// score and score_acard stages, or on a flat file.
func runScore(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "score", "--lake DIR --model MODEL_DIR|--models DIR --as-of YYYY-MM-DD --out DIR [flags]\n       qiandun score --data FILE.csv|FILE.parquet --model MODEL_DIR --out DIR [--id COL] [--target COL --bad-value V] [--as-of D]")
	st := stages.NewScore()
	var l pipelines.Layout
	var rules string
	fs.StringVar(&l.Lake, "lake", "", "lake directory (score the model's feature snapshot at --as-of)")
	fs.StringVar(&st.AsOf, "as-of", "", "as-of date YYYY-MM-DD (required with --lake; default today, Beijing time, with --data)")
	fs.StringVar(&st.Set, "set", "", "feature set acard|bcard (default: the set the model was trained on)")
	fs.StringVar(&st.Data, "data", "", "flat file to score (CSV with header, or Parquet)")
	fs.StringVar(&st.ID, "id", "", "column carried as entity_id (flat mode; default the 1-based row number)")
	fs.StringVar(&st.Target, "target", "", "outcome column: also write validation metrics (AUC, KS, Gini, gains)")
	fs.StringVar(&st.BadValue, "bad-value", "", "value of --target that means bad")
	fs.StringVar(&st.Model, "model", "", "model directory <models>/<name>/<version>")
	fs.StringVar(&l.Models, "models", "", "models root: score the latest version of every model under it (lake mode)")
	fs.StringVar(&l.Scores, "out", "", "output root; the run is published atomically at DIR/<as_of>/ (with --lake-table: <lake>/_TABLE_runs/<as_of>/)")
	fs.StringVar(&rules, "rules", "", "YAML/JSON grade cut-offs and decision rules (see README)")
	fs.StringVar(&st.Name, "name", "", "with --models: score only the latest version of the model with this name")
	fs.StringVar(&st.LakeTable, "lake-table", "", "lake mode, one model: also write its scores to <lake>/TABLE/part-0.parquet (application_id or loan_id, score), e.g. scores_acard")
	fs.BoolVar(&st.Full, "full", false, "lake mode: score every application of the A-card snapshot, not only the scoring window (applications since the previous published run's as-of, else in the as-of month); implied by --lake-table")
	fs.IntVar(&st.BatchRows, "batch-rows", 1<<16, "rows scored per batch")
	fs.IntVar(&st.Workers, "workers", 0, "scoring goroutines (default GOMAXPROCS)")
	fs.StringVar(&st.MemoryLimit, "memory-limit", "auto", "DuckDB memory_limit (auto: a fifth of physical memory or of the cgroup limit)")
	fs.BoolVar(&st.AllowEmpty, "allow-empty", false, "publish an input with no rows as an empty batch (default: refuse, publish nothing)")
	fs.BoolVar(&st.AllowDuplicateIDs, "allow-duplicate-ids", false, "score every row of an input whose entity ids repeat, with a warning (default: refuse, naming the first duplicate)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	var err error
	if st.Rules, err = pipelines.SectionFile[score.Rules](rules); err != nil {
		return fmt.Errorf("score rules: %w", err)
	}
	return execStage(ctx, e, st, l)
}
