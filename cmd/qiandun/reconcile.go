package main

import (
	"context"
	"fmt"

	"qiandun/pipelines"
	"qiandun/reporting/reconcile"
	"qiandun/stages"
)

// runReconcile: qiandun reconcile --lake DIR --from D --to D --out DIR
// [--window DAYS] [--tolerance AMOUNT] [--max-open-amount AMOUNT]
// (stages.Reconcile).
func runReconcile(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "reconcile", "--lake DIR --from YYYY-MM-DD --to YYYY-MM-DD --out DIR [--window 3] [--tolerance 1.00] [--max-open-amount 0.00] [--memory-limit auto]")
	st := stages.NewReconcile()
	var l pipelines.Layout
	fs.StringVar(&l.Lake, "lake", "", "lake `DIR` (loans, repayments, investments, custody_transactions)")
	fs.StringVar(&st.From, "from", "", "first day of the period (YYYY-MM-DD)")
	fs.StringVar(&st.To, "to", "", "last day of the period (YYYY-MM-DD): records and lines after it are not read")
	fs.StringVar(&l.Reconcile, "out", "", "output root; the run goes to DIR/<to>/ (breaks.csv/.parquet, summary.csv, migration.csv, manifest.json)")
	fs.IntVar(&st.Window, "window", reconcile.DefaultWindow, "posting window in days: a line posted up to this many days after its record matches it (a timing break)")
	fs.StringVar(&st.Tolerance, "tolerance", "1.00", "largest amount difference matched as an amount_mismatch between lines without a reference (yuan)")
	fs.StringVar(&st.MaxOpenAmount, "max-open-amount", "0.00", "exit non-zero when the open breaks' amounts sum to more (yuan; -1 for no limit)")
	fs.StringVar(&st.MemoryLimit, "memory-limit", "auto", "DuckDB memory_limit (auto: a fifth of physical memory or of the cgroup limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	return execStage(ctx, e, st, l)
}
