package main

import (
	"context"
	"fmt"
	"time"

	"qiandun/data/gen"
)

// runGen writes the synthetic raw exports.
func runGen(ctx context.Context, e *env, args []string) error {
	def := gen.DefaultConfig()
	fs := newFlags(e, "gen", "--out DIR [--loans N] [--seed S] [--start YYYY-MM] [--months M] [--encoding utf8|gbk] [--dirty RATE]")
	out := fs.String("out", "", "directory to write <table>.csv and _truth/ into (required)")
	loans := fs.Int("loans", def.Loans, "number of loans in the book")
	seed := fs.Uint64("seed", def.Seed, "random seed; same seed and flags give the same bytes")
	start := fs.String("start", fmt.Sprintf("%04d-%02d", def.StartYear, def.StartMonth), "first month of the observation window (YYYY-MM)")
	months := fs.Int("months", def.Months, "months in the window; loans are issued in all but the last six")
	enc := fs.String("encoding", def.Encoding, "output encoding: utf8 or gbk")
	dirty := fs.Float64("dirty", 0, "share of eligible rows given a defect (e.g. 0.005); counts go to _truth/dirty.json")
	workers := fs.Int("workers", 0, "parallel generators (0 = all CPUs); does not change the output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		fs.Usage()
		return fmt.Errorf("--out is required")
	}
	t, err := time.Parse("2006-01", *start)
	if err != nil {
		return fmt.Errorf("--start %q: want YYYY-MM", *start)
	}
	cfg := gen.Config{Loans: *loans, Seed: *seed, StartYear: t.Year(), StartMonth: int(t.Month()),
		Months: *months, Encoding: *enc, Dirty: *dirty, Workers: *workers, Progress: e.stderr}
	s, err := gen.Generate(ctx, cfg, *out, e.log)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, s)
	return nil
}
