package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"qiandun/data/lake"
	"qiandun/data/perf"
)

// runPerf builds the performance panel, vintages, roll rates, delinquency,
// expected loss, disclosure metrics and A-/B-card labels of a lake.
func runPerf(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "perf", "--lake DIR [--as-of YYYY-MM-DD] [--config FILE] [--pd-from FILE]")
	lakeDir := fs.String("lake", "", "lake root directory (required)")
	asOf := fs.String("as-of", "", "month end to report as of (default: the last month end on or before the latest repayment or collection event)")
	config := fs.String("config", "", "YAML file with label definitions, LGD defaults and DuckDB limits (keys: acard{window_months,bad_dpd,good_max_dpd}, bcard{min_mob,window_months,bad_dpd}, pd_horizon_months, lgd{none,car,house}, min_recovery_loans, pd_from, memory_limit, threads)")
	pdFrom := fs.String("pd-from", "", "Parquet file with columns loan_id, pd (scorecard PD) used for expected loss instead of the bucket PD")
	memLimit := fs.String("memory-limit", "", "DuckDB memory_limit (default 3GB); DuckDB spills to <lake>/_tmp beyond it")
	threads := fs.Int("threads", 0, "DuckDB threads (default: all CPUs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lakeDir == "" {
		fs.Usage()
		return fmt.Errorf("--lake is required")
	}
	cfg := perf.DefaultConfig()
	if *config != "" {
		b, err := os.ReadFile(*config)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			return fmt.Errorf("config %s: %w", *config, err)
		}
	}
	if *asOf != "" {
		t, err := time.Parse(time.DateOnly, *asOf)
		if err != nil {
			return fmt.Errorf("--as-of %q: want YYYY-MM-DD: %w", *asOf, err)
		}
		cfg.AsOf = t
	}
	if *pdFrom != "" {
		cfg.PDFrom = *pdFrom
	}
	if *memLimit != "" {
		cfg.MemoryLimit = *memLimit
	}
	if *threads > 0 {
		cfg.Threads = *threads
	}
	ctx, release, err := holdWriter(ctx, e, *lakeDir)
	if err != nil {
		return err
	}
	defer release()
	res, err := perf.Run(ctx, lake.New(*lakeDir), cfg, e.log)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "perf as of %s\n\n", res.AsOf.Format(time.DateOnly))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trows\tseconds")
	for _, t := range perf.Tables() {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\n", t, res.Counts[t], res.Timings[t])
	}
	tw.Flush()
	fmt.Fprintln(w)
	perf.PrintMaturation(w, res.Maturation, cfg.ACard.WindowMonths)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "disclosure as of %s\n", res.AsOf.Format(time.DateOnly))
	perf.PrintDisclosure(w, res.Disclosure)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "expected loss LGD by collateral:")
	for _, l := range res.LGD {
		fmt.Fprintf(w, "  %-6s %.4f  %d loans  %s\n", l.CollateralType, l.LGD, l.Loans, l.Source)
	}
	return nil
}
