package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"qiandun/internal/durable"
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
	mem := fs.String("memory-limit", "1GB", "DuckDB memory_limit of the portfolio report; it spills to <lake>/_tmp/duckdb beyond")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *lakeDir == "" && !*skipPortfolio {
		return errors.New("--lake is required for the portfolio report (or pass --no-portfolio)")
	}
	ctx, release, err := holdWriter(ctx, e, firstSet(*lakeDir, *out))
	if err != nil {
		return err
	}
	defer release()
	// All pages are one commit of the reports directory: the pages of the
	// last commit are kept (a page written now replaces its copy), each
	// page is mounted at <out>/<page>.
	if err := durable.Recover(*out); err != nil {
		return err
	}
	tx, err := durable.Begin(*out, "report")
	if err != nil {
		return err
	}
	defer tx.Abort()
	if dir := tx.Committed("."); dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if n := e.Name(); !e.IsDir() && !strings.HasPrefix(n, ".") && !strings.HasPrefix(n, "_") {
				if err := tx.Keep(n); err != nil {
					return err
				}
				tx.Mount(n)
			}
		}
	}
	final := *out
	*out = tx.Path(".")
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
			e.log.Info("model report", "model", d, "path", filepath.Join(final, filepath.Base(path)))
			written = append(written, path)
		}
		if len(dirs) == 0 {
			e.log.Warn("no model versions found", "models", *models)
		}
	}
	if !*skipPortfolio {
		in := report.PortfolioInputs{Lake: *lakeDir, Scores: *scores, EWS: *ews, MemoryLimit: *mem}
		if _, err := os.Stat(filepath.Join(final, "disclosure", "index.html")); err == nil {
			in.Disclosure = "disclosure/index.html" // qiandun disclose's site beside the reports
		}
		path, err := report.WritePortfolioReport(ctx, in, *out, opt)
		if err != nil {
			return fmt.Errorf("portfolio report: %w", err)
		}
		e.log.Info("portfolio report", "path", filepath.Join(final, filepath.Base(path)))
		written = append(written, path)
	}
	for i, p := range written {
		tx.Mount(filepath.Base(p))
		written[i] = filepath.Join(final, filepath.Base(p))
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, p := range written {
		fmt.Fprintln(e.stdout, p)
	}
	return nil
}
