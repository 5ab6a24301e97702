package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"qiandun/training/train"
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runTrain(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "train", "--data FILE.csv|FILE.parquet --target COL --bad-value V --out DIR [flags]\n       qiandun train --lake DIR --model acard|bcard --out DIR [flags]")
	cfg := train.NewConfig()
	var features, exclude, config, goods string
	fs.StringVar(&cfg.Data, "data", "", "flat training table (CSV sniffed by DuckDB, or Parquet)")
	fs.StringVar(&cfg.Test, "test", "", "flat test table (default: a seeded stratified split of --data)")
	fs.StringVar(&cfg.Target, "target", "", "target column (flat mode)")
	fs.StringVar(&cfg.BadValue, "bad-value", "", "value of --target that means bad (flat mode)")
	fs.StringVar(&goods, "good-value", "", "comma-separated values of --target that mean good (default: the other value when the target takes two; a third value is an error)")
	fs.BoolVar(&cfg.OthersGood, "others-good", false, "count every target value other than --bad-value and --good-value as good, instead of failing")
	fs.StringVar(&cfg.Lake, "lake", "", "lake directory (lake mode: features joined with labels)")
	fs.StringVar(&cfg.Model, "model", "", "acard or bcard (lake mode)")
	fs.StringVar(&cfg.AsOf, "as-of", "", "use only the features snapshot as_of=YYYY-MM-DD (lake mode)")
	fs.IntVar(&cfg.OOTMonths, "oot-months", 3, "latest periods held out as out-of-time (lake mode)")
	fs.StringVar(&cfg.Out, "out", "", "models directory; the artifact goes to DIR/<name>/<version>/")
	fs.StringVar(&cfg.Name, "name", "", "model name (default: data file stem, or acard/bcard)")
	fs.StringVar(&cfg.Version, "version", "", "model version (default: v + 12 hex of the content checksum)")
	fs.StringVar(&cfg.BinsFile, "bins", "", "YAML/JSON file of manual bins: {var: {breaks: [...]}} or {var: {groups: [[...], ...]}}")
	fs.StringVar(&features, "features", "", "comma-separated characteristics to use as is (skips selection)")
	fs.StringVar(&exclude, "exclude", "", "comma-separated columns to leave out")
	fs.StringVar(&config, "config", "", "YAML/JSON file of binning/selection/scaling options")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the train/test split")
	method := fs.String("method", "", "logistic (default: WoE, selection, logistic regression) or boosted (boosted additive card: points per fine bin, early-stopped)")
	fs.StringVar(&cfg.MemoryLimit, "memory-limit", "3GB", "DuckDB memory_limit; in lake mode it spills to <lake>/_tmp beyond")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if config != "" {
		oot := cfg.OOTMonths
		if err := cfg.LoadConfig(config); err != nil {
			return err
		}
		if setFlag(fs, "oot-months") {
			cfg.OOTMonths = oot
		}
	}
	if *method != "" {
		cfg.Method = *method
	}
	cfg.Features = splitList(features)
	cfg.GoodValues = splitList(goods)
	cfg.Exclude = append(cfg.Exclude, splitList(exclude)...)
	ctx, release, err := holdWriter(ctx, e, firstSet(cfg.Lake, cfg.Out))
	if err != nil {
		return err
	}
	defer release()
	res, err := train.Run(ctx, cfg, e.log)
	if err != nil {
		return err
	}
	printSummary(e.stdout, res)
	return nil
}

// setFlag reports whether the flag was given on the command line.
func setFlag(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func printSummary(w io.Writer, res *train.Result) {
	m := res.Model
	fmt.Fprintf(w, "model %s %s -> %s\n", m.Name, m.Version, res.Dir)
	fmt.Fprintf(w, "checksum %s\n\n", m.Checksum)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "kept\tiv\tbins\testimate\tstd_error\tp_value")
	fmt.Fprintf(tw, "intercept\t\t\t%.4f\t%.4f\t%.3g\n", m.Intercept.Estimate, m.Intercept.StdErr, m.Intercept.PValue)
	for _, c := range m.Chars {
		fmt.Fprintf(tw, "%s\t%.4f\t%d\t%.4f\t%.4f\t%.3g\n", c.Name, c.IV, len(c.Bins), c.Coef.Estimate, c.Coef.StdErr, c.Coef.PValue)
	}
	tw.Flush()
	if len(m.Dropped) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "dropped\treason")
		for _, d := range m.Dropped {
			fmt.Fprintf(tw, "%s\t%s\n", d.Variable, d.Reason)
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "sample\tn\tbads\tauc\tgini\tks\thl_p\tscore_psi")
	for _, s := range m.Metrics {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f\t%.4f\t%.4f\t%.3g\t%.4f\n", s.Sample, s.N, s.Bads, s.AUC, s.Gini, s.KS, s.HLP, s.ScorePSI)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nfit: n %d, loglik %.4f, AIC %.4f, BIC %.4f, %d iterations\n", m.Fit.N, m.Fit.LogLik, m.Fit.AIC, m.Fit.BIC, m.Fit.Iterations)
	var samples []string
	for s := range res.Fallbacks {
		samples = append(samples, s)
	}
	sort.Strings(samples)
	for _, s := range samples {
		var cs []string
		for c := range res.Fallbacks[s] {
			cs = append(cs, c)
		}
		sort.Strings(cs)
		for _, c := range cs {
			fmt.Fprintf(w, "note: %s: %d rows of %s had values unseen in training (fallback bin)\n", s, res.Fallbacks[s][c], c)
		}
	}
}
