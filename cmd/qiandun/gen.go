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
	fs := newFlags(e, "gen", "--out DIR [--loans N] [--seed S] [--start YYYY-MM] [--months M] [--encoding utf8|gbk] [--dirty RATE]")
	out := fs.String("out", "", "directory to write <table>.csv and _truth/ into (required)")
	fs.IntVar(&st.Loans, "loans", st.Loans, "number of loans in the book")
	fs.Uint64Var(&st.Seed, "seed", st.Seed, "random seed; same seed and flags give the same bytes")
	fs.StringVar(&st.Start, "start", st.Start, "first month of the observation window (YYYY-MM)")
	fs.IntVar(&st.Months, "months", st.Months, "months in the window; loans are issued in all but the last six")
	fs.StringVar(&st.Encoding, "encoding", st.Encoding, "output encoding: utf8 or gbk")
	fs.Float64Var(&st.Dirty, "dirty", 0, "share of eligible rows given a defect (e.g. 0.005); counts go to _truth/dirty.json")
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
