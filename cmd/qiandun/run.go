package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"qiandun/internal/audit"
	"qiandun/internal/version"
	"qiandun/pipelines"
	"qiandun/stages"
)

// multiFlag collects a repeatable key=value flag.
type multiFlag map[string]string

func (m multiFlag) String() string { return "" }

func (m multiFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	m[k] = v
	return nil
}

// runRun runs the pipeline DAG declared in the config: each stage is the
// typed value of package stages its section configures, run in-process in
// the order its declared reads and writes give (--plan prints it).
func runRun(ctx context.Context, e *env, args []string) (retErr error) {
	fs := newFlags(e, "run", "[--config pipelines/default.yaml] [--from STAGE] [--to STAGE] [--only STAGE] [--as-of DATE] [--force] [--plan] [--allow-outside] [--set var=value ...]")
	cfgPath := fs.String("config", "pipelines/default.yaml", "pipeline config (YAML)")
	from := fs.String("from", "", "re-run this stage and everything downstream of it")
	only := fs.String("only", "", "run just this stage")
	to := fs.String("to", "", "run only this stage and those upstream of it (each skipped when unchanged)")
	asOf := fs.String("as-of", "", "as-of date YYYY-MM-DD (overrides the config's vars.as_of)")
	allowOutside := fs.Bool("allow-outside", false, "allow the config's outputs (root, lake, out, ...) outside the working directory")
	force := fs.Bool("force", false, "re-run every stage (gen still runs only when its raw data is absent)")
	plan := fs.Bool("plan", false, "print the DAG (each stage in run order, the stages it needs, what it reads and writes) and run nothing")
	sets := multiFlag{}
	fs.Var(sets, "set", "override a config var, name=value (repeatable), e.g. --set root=demo-small --set loans=5000")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *asOf != "" {
		t, err := time.Parse(time.DateOnly, *asOf)
		if err != nil || t.AddDate(0, 0, 1).Day() != 1 {
			return fmt.Errorf("--as-of %q: want a month end YYYY-MM-DD (perf observes the book at month ends)", *asOf)
		}
		sets["as_of"] = *asOf
	}
	cfg, err := pipelines.Load(*cfgPath, sets, stages.Registry())
	if err != nil {
		return err
	}
	if *plan {
		return cfg.WritePlan(e.stdout, cfg.Var("root"))
	}
	if !*allowOutside {
		if err := cfg.CheckInside("."); err != nil {
			return fmt.Errorf("pipeline config %s: %w", *cfgPath, err)
		}
	}
	lakeDir := cfg.Var("lake")
	reportUnfinished(e, lakeDir)
	ar, err := audit.Begin(lakeDir, "run", args, "")
	if err != nil {
		return fmt.Errorf("%w (the audit trail must be writable)", err)
	}
	defer func() {
		exit := 0
		if retErr != nil {
			exit = 1
		}
		if aerr := ar.End(lakeDir, exit, retErr); aerr != nil && retErr == nil {
			retErr = aerr
		}
	}()
	exec := func(ctx context.Context, name string, st pipelines.Stage, senv *pipelines.Env) error {
		c := command{run: func(ctx context.Context, _ *env, _ []string) error { return stages.Exec(ctx, st, senv) }}
		return runAudited(ctx, e, name, c, []string{name}, lakeDir, ar.ID())
	}
	r := &pipelines.Runner{Config: cfg, Exec: exec, Log: e.log, Out: e.stderr, Stdout: e.stdout, CodeVersion: version.String(), Lake: lakeDir}
	sum, err := r.Run(ctx, pipelines.Options{From: *from, Only: *only, To: *to, Force: *force})
	if sum != nil {
		fmt.Fprintln(e.stdout)
		if werr := sum.Write(e.stdout); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
