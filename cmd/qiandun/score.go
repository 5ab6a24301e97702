package main

import (
	"context"
	"fmt"
	"path/filepath"

	"qiandun/scoring/lakescore"
	"qiandun/scoring/score"
)

func runScore(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "score", "--lake DIR --model MODEL_DIR|--models DIR --as-of YYYY-MM-DD --out DIR [flags]\n       qiandun score --data FILE.csv|FILE.parquet --model MODEL_DIR --out DIR [--id COL] [--target COL --bad-value V] [--as-of D]")
	var o score.Options
	var model, models, rules, name, lakeTable string
	fs.StringVar(&o.Lake, "lake", "", "lake directory (score the model's feature snapshot at --as-of)")
	fs.StringVar(&o.AsOf, "as-of", "", "as-of date YYYY-MM-DD (required with --lake; default today, Beijing time, with --data)")
	fs.StringVar(&o.Set, "set", "", "feature set acard|bcard (default: the set the model was trained on)")
	fs.StringVar(&o.Data, "data", "", "flat file to score (CSV with header, or Parquet)")
	fs.StringVar(&o.ID, "id", "", "column carried as entity_id (flat mode; default the 1-based row number)")
	fs.StringVar(&o.Target, "target", "", "outcome column: also write validation metrics (AUC, KS, Gini, gains)")
	fs.StringVar(&o.BadValue, "bad-value", "", "value of --target that means bad")
	fs.StringVar(&model, "model", "", "model directory <models>/<name>/<version>")
	fs.StringVar(&models, "models", "", "models root: score the latest version of every model under it (lake mode)")
	fs.StringVar(&o.Out, "out", "", "output root; the run is published atomically at DIR/<as_of>/")
	fs.StringVar(&rules, "rules", "", "YAML/JSON grade cut-offs and decision rules (see README)")
	fs.StringVar(&name, "name", "", "with --models: score only the latest version of the model with this name")
	fs.StringVar(&lakeTable, "lake-table", "", "lake mode, one model: also write its scores to <lake>/TABLE/part-0.parquet (application_id or loan_id, score), e.g. scores_acard")
	fs.BoolVar(&o.Full, "full", false, "lake mode: score every application of the A-card snapshot, not only the scoring window (applications since the previous published run's as-of, else in the as-of month); implied by --lake-table")
	fs.IntVar(&o.BatchRows, "batch-rows", 1<<16, "rows scored per batch")
	fs.IntVar(&o.Workers, "workers", 0, "scoring goroutines (default GOMAXPROCS)")
	fs.StringVar(&o.Memory, "memory-limit", "3GB", "DuckDB memory_limit")
	fs.BoolVar(&o.AllowEmpty, "allow-empty", false, "publish an input with no rows as an empty batch (default: refuse, publish nothing)")
	fs.BoolVar(&o.AllowDuplicateIDs, "allow-duplicate-ids", false, "score every row of an input whose entity ids repeat, with a warning (default: refuse, naming the first duplicate)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	var err error
	switch {
	case model != "" && models != "":
		return fmt.Errorf("give --model or --models, not both")
	case model != "":
		o.Models = []string{model}
	case models != "":
		if o.Models, err = score.LatestModels(models); err != nil {
			return err
		}
		if name != "" {
			var only []string
			for _, d := range o.Models {
				if filepath.Base(filepath.Dir(d)) == name {
					only = append(only, d)
				}
			}
			if len(only) == 0 {
				return fmt.Errorf("--name %s: no such model under %s", name, models)
			}
			o.Models = only
		}
	default:
		return fmt.Errorf("--model (or --models) is required")
	}
	if o.Rules, err = score.LoadRules(rules); err != nil {
		return err
	}
	if lakeTable != "" && (o.Lake == "" || len(o.Models) != 1) {
		return fmt.Errorf("--lake-table needs lake mode (--lake) and one model (--model, or --models with --name)")
	}
	if lakeTable != "" {
		o.Full = true // the lake table holds every application's score
	}
	o.Log = e.log
	ctx, release, err := holdWriter(ctx, e, firstSet(o.Lake, o.Out))
	if err != nil {
		return err
	}
	defer release()
	man, dir, err := score.Run(ctx, o)
	if err != nil {
		return err
	}
	if lakeTable != "" {
		m := man.Models[0]
		id := map[string]string{"acard": "application_id", "bcard": "loan_id"}[m.Set]
		if id == "" {
			return fmt.Errorf("--lake-table: model %s scored set %q, want acard or bcard", m.Name, m.Set)
		}
		n, err := lakescore.Write(ctx, lakescore.Options{Run: dir, Lake: o.Lake, Table: lakeTable, Model: m.Name, IDCol: id})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "lake table %s: %d rows (%s, score)\n", lakeTable, n, id)
	}
	fmt.Fprintf(e.stdout, "scores %s: %d rows\n", dir, man.Rows)
	for _, m := range man.Models {
		names := o.Rules.DecisionNames(m.Set)
		win := ""
		if m.Window != nil {
			win = fmt.Sprintf(" (%s)", m.Window)
		}
		fmt.Fprintf(e.stdout, "  %s %s: %d rows%s, grades A-E %d/%d/%d/%d/%d, decisions %s %d %s %d %s %d, score PSI %.4f (%s)\n",
			m.Name, m.Version, m.Rows, win, m.Grades["A"], m.Grades["B"], m.Grades["C"], m.Grades["D"], m.Grades["E"],
			names[0], m.Decisions[names[0]], names[1], m.Decisions[names[1]], names[2], m.Decisions[names[2]], m.Monitoring.ScorePSI, m.Monitoring.ScoreLevel)
		if v := m.Validation; v != nil {
			fmt.Fprintf(e.stdout, "  validation on %s: n %d bads %d AUC %.4f KS %.4f Gini %.4f\n", v.Target, v.N, v.Bads, v.AUC, v.KS, v.Gini)
		}
	}
	return nil
}
