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
	fs := newFlags(e, "gen", "--out DIR [--loans N] [--seed S] [--start YYYY-MM] [--months M] [--encoding utf8|gbk] [--dirty RATE] [--custody-breaks RATE] [--migration-day YYYY-MM-DD]")
	out := fs.String("out", "", "directory to write <table>.csv and _truth/ into (required)")
	loans := fs.Int("loans", def.Loans, "number of loans in the book")
	seed := fs.Uint64("seed", def.Seed, "random seed; same seed and flags give the same bytes")
	start := fs.String("start", fmt.Sprintf("%04d-%02d", def.StartYear, def.StartMonth), "first month of the observation window (YYYY-MM)")
	months := fs.Int("months", def.Months, "months in the window; loans are issued in all but the last six")
	enc := fs.String("encoding", def.Encoding, "output encoding: utf8 or gbk")
	dirty := fs.Float64("dirty", 0, "share of eligible rows given a defect (e.g. 0.005); counts go to _truth/dirty.json")
	breaks := fs.Float64("custody-breaks", 0, "share of loans given one reconciliation break in the custodian's statement, and a fifth of it of sub-accounts given a migrated balance that differs and a balance chain that jumps (e.g. 0.01); counts by kind go to _truth/custody.json")
	migration := fs.String("migration-day", "", "the day the custody moves from 贵州银行 to 新网银行 (YYYY-MM-DD; default the first day of the window's 17th month)")
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
		Months: *months, Encoding: *enc, Dirty: *dirty, Workers: *workers, Progress: e.stderr, CustodyBreaks: *breaks}
	if *migration != "" {
		d, err := time.Parse("2006-01-02", *migration)
		if err != nil {
			return fmt.Errorf("--migration-day %q: want YYYY-MM-DD", *migration)
		}
		cfg.MigrationDay = gen.Day(d.Year(), int(d.Month()), d.Day())
	}
	s, err := gen.Generate(ctx, cfg, *out, e.log)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, s)
	return nil
}
