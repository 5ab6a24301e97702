package stages

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"qiandun/internal/durable"
	"qiandun/internal/version"
	"qiandun/pipelines"
	"qiandun/report"
	"qiandun/reporting/reconcile"
)

// Report writes one HTML report per model version under <models> and the
// portfolio report from the lake, all pages one commit of <reports>
// (pages of earlier commits kept).
type Report struct {
	MemoryLimit string `yaml:"memory_limit" json:"memory_limit"`
	// Model reports only this version, NAME/VERSION (CLI --model).
	Model string `yaml:"-" json:"model,omitempty"`
	// NoPortfolio writes model reports only.
	NoPortfolio bool `yaml:"no_portfolio" json:"no_portfolio,omitempty"`
}

// IO: the models, the published scores and lists, the disclosure site,
// the custody reconciliation runs, the perf tables and loans in; the
// pages out.
func (s *Report) IO(l pipelines.Layout) pipelines.IO {
	io := pipelines.IO{Writes: []string{l.Reports}}
	for _, p := range []string{l.Models, l.Scores, l.Warn, l.Disclosure, l.Reconcile} {
		if p != "" {
			io.Reads = append(io.Reads, p)
		}
	}
	if l.Lake != "" {
		io.Reads = append(io.Reads, l.Tables("loans", "perf")...)
	}
	return io
}

// Check needs a lake for the portfolio report.
func (s *Report) Check(l pipelines.Layout) error {
	if l.Lake == "" && !s.NoPortfolio {
		return errors.New("--lake is required for the portfolio report (or pass --no-portfolio)")
	}
	if l.Reports == "" {
		return errors.New("--out is required")
	}
	return nil
}

// LockDir: the lake, else the reports directory.
func (s *Report) LockDir(l pipelines.Layout) string { return firstSet(l.Lake, l.Reports) }

// Run writes the pages into one commit and prints their paths.
func (s *Report) Run(ctx context.Context, env *pipelines.Env) error {
	l := env.Layout
	final := l.Reports
	// All pages are one commit of the reports directory: the pages of the
	// last commit are kept (a page written now replaces its copy), each
	// page is mounted at <reports>/<page>.
	if err := durable.Recover(final); err != nil {
		return err
	}
	tx, err := durable.Begin(final, "report")
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
	out := tx.Path(".")
	// No generation time in the HTML: the same inputs give the same
	// bytes (the run manifest records when the stage ran).
	opt := report.Options{Version: version.String()}
	var written []string
	if l.Models != "" {
		dirs, err := report.FindModels(l.Models)
		if err != nil {
			return err
		}
		if s.Model != "" {
			dirs = []string{filepath.Join(l.Models, s.Model)}
		}
		for _, d := range dirs {
			if err := ctx.Err(); err != nil {
				return err
			}
			path, err := report.WriteModelReport(d, l.Scores, out, opt)
			if err != nil {
				return fmt.Errorf("model report %s: %w", d, err)
			}
			env.Log.Info("model report", "model", d, "path", filepath.Join(final, filepath.Base(path)))
			written = append(written, path)
		}
		if len(dirs) == 0 {
			env.Log.Warn("no model versions found", "models", l.Models)
		}
	}
	if !s.NoPortfolio {
		in := report.PortfolioInputs{Lake: l.Lake, Scores: l.Scores, EWS: l.Warn, MemoryLimit: firstSet(s.MemoryLimit, "1GB")}
		in.Disclosure = disclosureLink(final, l.Disclosure)
		if in.Reconcile, in.ReconcileLink, err = reconcileRun(final, l.Reconcile); err != nil {
			return err
		}
		path, err := report.WritePortfolioReport(ctx, in, out, opt)
		if err != nil {
			return fmt.Errorf("portfolio report: %w", err)
		}
		env.Log.Info("portfolio report", "path", filepath.Join(final, filepath.Base(path)))
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
		fmt.Fprintln(env.Stdout, p)
	}
	return nil
}

// reconcileRun returns the latest published custody reconciliation run
// under root and its directory relative to the reports directory ("", ""
// when none is published).
func reconcileRun(reports, root string) (dir, link string, err error) {
	if root == "" {
		return "", "", nil
	}
	if dir, err = reconcile.LatestRun(root); err != nil || dir == "" {
		return "", "", err
	}
	rel, err := filepath.Rel(reports, dir)
	if err != nil {
		return dir, "", nil
	}
	return dir, filepath.ToSlash(rel), nil
}

// disclosureLink is the link from the reports directory to the
// disclosure site's index, when it is published ("" otherwise).
func disclosureLink(reports, site string) string {
	if site == "" {
		return ""
	}
	index := filepath.Join(site, "index.html")
	if _, err := os.Stat(index); err != nil {
		return ""
	}
	rel, err := filepath.Rel(reports, index)
	if err != nil {
		return ""
	}
	return filepath.ToSlash(rel)
}
