package main

import (
	"context"
	"fmt"

	"qiandun/pipelines"
	"qiandun/stages"
)

// runReport writes one HTML report per model version found under --models
// and the portfolio report from the lake (stages.Report).
func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "--lake DIR --models DIR --out DIR [--scores DIR] [--ews DIR] [--model NAME/VERSION] [--disclosure DIR] [--reconcile DIR] [--no-portfolio]")
	st := &stages.Report{}
	var l pipelines.Layout
	fs.StringVar(&l.Lake, "lake", "", "lake root (perf tables, loans)")
	fs.StringVar(&l.Models, "models", "", "models root: <models>/<name>/<version>/")
	fs.StringVar(&l.Reports, "out", "reports", "output directory for the HTML files")
	fs.StringVar(&l.Scores, "scores", "", "score files root (<scores>/<as_of>/scores.csv) for PSI against the latest run")
	fs.StringVar(&l.Warn, "ews", "", "early-warning root (<ews>/<as_of>/ews.csv) for the list summary")
	fs.StringVar(&l.Disclosure, "disclosure", "", "the disclosure site's root (qiandun disclose --out): the portfolio report links it when published")
	fs.StringVar(&l.Reconcile, "reconcile", "", "the custody reconciliation root (qiandun reconcile --out): the portfolio report summarises and links its latest run")
	fs.StringVar(&st.Model, "model", "", "report only this model version, NAME/VERSION (default: every version)")
	fs.BoolVar(&st.NoPortfolio, "no-portfolio", false, "write model reports only")
	fs.StringVar(&st.MemoryLimit, "memory-limit", "1GB", "DuckDB memory_limit of the portfolio report; it spills to <lake>/_tmp/duckdb beyond")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return execStage(ctx, e, st, l)
}
