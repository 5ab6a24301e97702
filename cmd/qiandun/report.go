package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"qiandun/internal/version"
	"qiandun/report"
)

// runReport writes one HTML report per model version found under --models
// and the portfolio report from the lake.
func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "--lake DIR --models DIR --out DIR [--scores DIR] [--ews DIR] [--model NAME/VERSION] [--no-portfolio]")
	lakeDir := fs.String("lake", "", "lake root (perf tables, loans)")
	models := fs.String("models", "", "models root: <models>/<name>/<version>/")
	out := fs.String("out", "reports", "output directory for the HTML files")
	scores := fs.String("scores", "", "score files root (<scores>/<as_of>/scores.csv) for PSI against the latest run")
	ews := fs.String("ews", "", "early-warning root (<ews>/<as_of>/ews.csv) for the list summary")
	only := fs.String("model", "", "report only this model version, NAME/VERSION (default: every version)")
	skipPortfolio := fs.Bool("no-portfolio", false, "write model reports only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *lakeDir == "" && !*skipPortfolio {
		return errors.New("--lake is required for the portfolio report (or pass --no-portfolio)")
	}
	// No generation time in the HTML: the same inputs give the same
	// bytes (the run manifest records when the stage ran).
	opt := report.Options{Version: version.String()}
	var written []string
	if *models != "" {
		dirs, err := report.FindModels(*models)
		if err != nil {
			return err
		}
		if *only != "" {
			dirs = []string{filepath.Join(*models, *only)}
		}
		for _, d := range dirs {
			if err := ctx.Err(); err != nil {
				return err
			}
			path, err := report.WriteModelReport(d, *scores, *out, opt)
			if err != nil {
				return fmt.Errorf("model report %s: %w", d, err)
			}
			e.log.Info("model report", "model", d, "path", path)
			written = append(written, path)
		}
		if len(dirs) == 0 {
			e.log.Warn("no model versions found", "models", *models)
		}
	}
	if !*skipPortfolio {
		path, err := report.WritePortfolioReport(ctx, report.PortfolioInputs{Lake: *lakeDir, Scores: *scores, EWS: *ews}, *out, opt)
		if err != nil {
			return fmt.Errorf("portfolio report: %w", err)
		}
		e.log.Info("portfolio report", "path", path)
		written = append(written, path)
	}
	for _, p := range written {
		fmt.Fprintln(e.stdout, p)
	}
	return nil
}
