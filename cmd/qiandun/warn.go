package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"qiandun/pipelines"
	"qiandun/scoring/warn"
	"qiandun/stages"
)

// runWarn writes the early-warning list (stages.Warn), or back-tests its
// ranking (--backtest: read-only, no lock).
func runWarn(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "warn", "--lake DIR --model BCARD_DIR --as-of YYYY-MM-DD --out DIR [--config FILE]\n       qiandun warn --backtest --lake DIR --model BCARD_DIR [--from YYYY-MM --to YYYY-MM] [--config FILE]")
	st := stages.NewWarn()
	var l pipelines.Layout
	var config, from, to string
	var backtest bool
	fs.StringVar(&l.Lake, "lake", "", "lake directory (B-card feature snapshots, loans, schedules, repayments, labels)")
	fs.StringVar(&st.Model, "model", "", "B-card model directory <models>/<name>/<version>")
	fs.StringVar(&l.Models, "models", "", "models root: use the latest B-card under it")
	fs.StringVar(&l.Scores, "scores", "", "scores root: use the B-card of the published run <scores>/<as_of>/")
	fs.StringVar(&st.AsOf, "as-of", "", "as-of month end YYYY-MM-DD")
	fs.StringVar(&l.Warn, "out", "", "output root; the list is published atomically at DIR/<as_of>/")
	fs.StringVar(&config, "config", "", "YAML/JSON rules and thresholds (see README; defaults documented there)")
	fs.BoolVar(&backtest, "backtest", false, "back-test the ranking on historical month ends instead of writing a list")
	fs.StringVar(&from, "from", "", "back-test: first month YYYY-MM (default: earliest snapshot with mature labels)")
	fs.StringVar(&to, "to", "", "back-test: last month YYYY-MM")
	fs.StringVar(&st.MemoryLimit, "memory-limit", "auto", "DuckDB memory_limit (auto: a fifth of physical memory or of the cgroup limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	var err error
	if st.Config, err = pipelines.SectionFile[stages.WarnConfig](config); err != nil {
		return fmt.Errorf("warn config: %w", err)
	}
	if !backtest {
		return execStage(ctx, e, st, l)
	}
	if err := st.Check(l); err != nil {
		return err
	}
	o, err := st.Options(&pipelines.Env{Layout: l, Log: e.log, Stdout: e.stdout, Stderr: e.stderr})
	if err != nil {
		return err
	}
	bt, err := warn.RunBacktest(ctx, o, from, to)
	if err != nil {
		return err
	}
	printBacktest(e, bt)
	return nil
}

func printBacktest(e *env, bt *warn.Backtest) {
	first, last := bt.Months[0].AsOf, bt.Months[len(bt.Months)-1].AsOf
	fmt.Fprintf(e.stdout, "back-test of %s: %d month ends %s..%s, %d active loan-months, %d bads in the next 6 months\n\n",
		bt.Model, len(bt.Months), first, last, bt.Active, bt.Bads)
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "list size\tloans\tbads caught\tshare of bads\trandom list\tlift\t")
	row := func(name string, r warn.SizeResult) {
		lift := 0.0
		if r.Random > 0 {
			lift = r.Captured / r.Random
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\t%.1f%%\t%.1fx\t\n", name, r.Loans, r.Caught, 100*r.Captured, 100*r.Random, lift)
	}
	for _, r := range bt.Total {
		row(fmt.Sprintf("top %g%%", 100*r.Share), r)
	}
	row(fmt.Sprintf("rules (%.1f%%)", 100*bt.Rules.Share), bt.Rules)
	tw.Flush()
	fmt.Fprintf(e.stdout, "\nrules (pooled over the month ends; lift = bad rate of the flagged loans / the labelled book's %.2f%%):\n\n", 100*bt.BadRate())
	tw = tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rule\tflagged\tcoverage\tbad rate\tlift\tprimary\tonly this rule\tits bad rate\t")
	for _, r := range bt.RuleStats {
		onlyRate := "-"
		if r.OnlyLab > 0 {
			onlyRate = fmt.Sprintf("%.1f%%", 100*float64(r.OnlyBads)/float64(r.OnlyLab))
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f%%\t%.1f%%\t%.1fx\t%d\t%d\t%s\t\n", r.Name, r.Flagged, 100*r.Coverage, 100*r.BadRate, r.Lift, r.Primary, r.Only, onlyRate)
	}
	tw.Flush()
	for _, p := range bt.Populations {
		fmt.Fprintf(e.stdout, "\n%s loans at the month end (%s), labelled: %d loan-months, %d bads in the next 6 months (bad rate %.2f%%)\n\n",
			p.Name, p.Filter, p.Active, p.Bads, 100*p.BadRate())
		tw = tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "list\tloans\tbads caught\tshare of bads\trandom list\tlift\t")
		for _, r := range p.Sizes {
			row(fmt.Sprintf("top %g%% by B-card PD", 100*r.Share), r)
		}
		row(fmt.Sprintf("rules (%.1f%%)", 100*p.List.Share), p.List)
		tw.Flush()
		tw = tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(e.stdout)
		fmt.Fprintln(tw, "rule\tflagged\tcoverage\tshare of bads\tbad rate\tlift\t")
		for _, r := range p.Rules {
			fmt.Fprintf(tw, "%s\t%d\t%.2f%%\t%.1f%%\t%.1f%%\t%.1fx\t\n", r.Name, r.Flagged, 100*r.Coverage, 100*r.Captured, 100*r.BadRate, r.Lift)
		}
		tw.Flush()
	}
	fmt.Fprintln(e.stdout, "\nper month (share of that month's bads caught by the top 1/2/5/10/20%):")
	for _, m := range bt.Months {
		fmt.Fprintf(e.stdout, "  %s  active %d  bads %d ", m.AsOf, m.Active, m.Bads)
		for _, r := range m.Sizes {
			fmt.Fprintf(e.stdout, " %5.1f%%", 100*r.Captured)
		}
		fmt.Fprintln(e.stdout)
	}
}
