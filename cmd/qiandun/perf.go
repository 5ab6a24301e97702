package main

import (
	"context"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"

	"qiandun/pipelines"
	"qiandun/stages"
)

// runPerf builds the performance panel, vintages, roll rates, delinquency,
// expected loss, disclosure metrics and A-/B-card labels of a lake
// (stages.Perf).
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
	st := stages.NewPerf()
	if *config != "" {
		b, err := os.ReadFile(*config)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if err := yaml.Unmarshal(b, &st.Config); err != nil {
			return fmt.Errorf("config %s: %w", *config, err)
		}
	}
	st.AsOf = *asOf
	if *pdFrom != "" {
		st.PDFrom = *pdFrom
	}
	if *memLimit != "" {
		st.MemoryLimit = *memLimit
	}
	if *threads > 0 {
		st.Threads = *threads
	}
	return execStage(ctx, e, st, pipelines.Layout{Lake: *lakeDir})
}
