package main

import (
	"context"
	"fmt"
	"time"

	"qiandun/data/ingest/normalize"
	"qiandun/reporting/reconcile"
)

// runReconcile: qiandun reconcile --lake DIR --from D --to D --out DIR
// [--window DAYS] [--tolerance AMOUNT] [--max-open-amount AMOUNT]
func runReconcile(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "reconcile", "--lake DIR --from YYYY-MM-DD --to YYYY-MM-DD --out DIR [--window 3] [--tolerance 1.00] [--max-open-amount 0.00] [--memory-limit 3GB]")
	o := reconcile.Options{Log: e.log}
	var from, to, tol, maxOpen string
	fs.StringVar(&o.Lake, "lake", "", "lake `DIR` (loans, repayments, investments, custody_transactions)")
	fs.StringVar(&from, "from", "", "first day of the period (YYYY-MM-DD)")
	fs.StringVar(&to, "to", "", "last day of the period (YYYY-MM-DD): records and lines after it are not read")
	fs.StringVar(&o.Out, "out", "", "output root; the run goes to DIR/<to>/ (breaks.csv/.parquet, summary.csv, migration.csv, manifest.json)")
	fs.IntVar(&o.Window, "window", reconcile.DefaultWindow, "posting window in days: a line posted up to this many days after its record matches it (a timing break)")
	fs.StringVar(&tol, "tolerance", "1.00", "largest amount difference matched as an amount_mismatch between lines without a reference (yuan)")
	fs.StringVar(&maxOpen, "max-open-amount", "0.00", "exit non-zero when the open breaks' amounts sum to more (yuan; -1 for no limit)")
	fs.StringVar(&o.MemoryLimit, "memory-limit", "3GB", "DuckDB memory_limit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	var err error
	for _, d := range []struct {
		flag, v string
		t       *time.Time
	}{{"from", from, &o.From}, {"to", to, &o.To}} {
		if d.v == "" {
			continue
		}
		if *d.t, err = time.Parse("2006-01-02", d.v); err != nil {
			return fmt.Errorf("--%s %q: want YYYY-MM-DD", d.flag, d.v)
		}
	}
	if o.Tolerance, _, err = normalize.ParseAmount(tol); err != nil {
		return fmt.Errorf("--tolerance %q: %w", tol, err)
	}
	if maxOpen == "-1" {
		o.MaxOpenAmount = -1
	} else if o.MaxOpenAmount, _, err = normalize.ParseAmount(maxOpen); err != nil || o.MaxOpenAmount < 0 {
		return fmt.Errorf("--max-open-amount %q: want an amount in yuan, or -1", maxOpen)
	}
	ctx, release, err := holdWriter(ctx, e, o.Lake)
	if err != nil {
		return err
	}
	defer release()
	m, dir, err := reconcile.Run(ctx, o)
	if m != nil {
		fmt.Fprintf(e.stdout, "reconcile %s..%s: %d matched; breaks %v (open %v), open amount %s; %s\n",
			m.From, m.To, m.Matched, m.Breaks, m.Open, m.OpenAmount, dir)
	}
	return err
}
