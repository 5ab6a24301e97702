package main

import (
	"context"
	"fmt"

	"qiandun/pipelines"
	"qiandun/stages"
)

// runGen writes the synthetic raw exports (stages.Gen).
func runGen(ctx context.Context, e *env, args []string) error {
	st := stages.NewGen()
	fs := newFlags(e, "gen", "--out DIR [--loans N] [--seed S] [--start YYYY-MM] [--months M] [--encoding utf8|gbk] [--dirty RATE] [--custody-breaks RATE] [--migration-day YYYY-MM-DD]")
	out := fs.String("out", "", "directory to write <table>.csv and _truth/ into (required)")
	fs.IntVar(&st.Loans, "loans", st.Loans, "number of loans in the book")
	fs.Uint64Var(&st.Seed, "seed", st.Seed, "random seed; same seed and flags give the same bytes")
	fs.StringVar(&st.Start, "start", st.Start, "first month of the observation window (YYYY-MM)")
	fs.IntVar(&st.Months, "months", st.Months, "months in the window; loans are issued in all but the last six")
	fs.StringVar(&st.Encoding, "encoding", st.Encoding, "output encoding: utf8 or gbk")
	fs.Float64Var(&st.Dirty, "dirty", 0, "share of eligible rows given a defect (e.g. 0.005); counts go to _truth/dirty.json")
	fs.Float64Var(&st.CustodyBreaks, "custody-breaks", 0, "share of loans given one reconciliation break in the custodian's statement, and a fifth of it of sub-accounts given a migrated balance that differs and a balance chain that jumps (e.g. 0.01); counts by kind go to _truth/custody.json")
	fs.StringVar(&st.MigrationDay, "migration-day", "", "the day the custody moves from 贵州银行 to 新网银行 (YYYY-MM-DD; default the first day of the window's 17th month)")
	fs.IntVar(&st.Workers, "workers", 0, "parallel generators (0 = all CPUs); does not change the output")
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
	return execStage(ctx, e, st, pipelines.Layout{Raw: *out})
}
