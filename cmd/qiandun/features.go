package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"qiandun/features"
	"qiandun/pipelines"
	"qiandun/stages"
)

// runFeatures computes point-in-time feature snapshots (stages.Features), or with the
// argument "list" prints the feature catalog.
func runFeatures(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return runFeaturesList(e, args[1:])
	}
	fs := newFlags(e, "features", "[list] --lake DIR --set acard|bcard (--as-of YYYY-MM-DD | --from YYYY-MM --to YYYY-MM)\n\n"+
		"Writes <lake>/features/<set>/as_of=<date>/part-0.parquet (one row per application\n"+
		"for acard, per active loan at the date for bcard), the A-card fraud flags under\n"+
		"<lake>/features/fraud_flags/as_of=<date>/, <lake>/features/catalog.csv and the\n"+
		"manifest <lake>/_manifests/features-<set>.json. 'qiandun features list' prints the catalog.")
	lakeDir := fs.String("lake", "", "lake directory (required)")
	set := fs.String("set", "", "feature set: acard or bcard (required)")
	asOf := fs.String("as-of", "", "as-of date YYYY-MM-DD; features use only events strictly before it")
	from := fs.String("from", "", "first month YYYY-MM of a range of month-end snapshots")
	to := fs.String("to", "", "last month YYYY-MM of the range (default: --from)")
	mem := fs.String("memory-limit", "auto", "DuckDB memory limit (auto: a fifth of physical memory or of the cgroup limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *lakeDir == "" || *set == "" {
		fs.Usage()
		return errors.New("--lake and --set are required")
	}
	st := &stages.Features{Set: *set, AsOf: *asOf, From: *from, To: *to, MemoryLimit: *mem}
	return execStage(ctx, e, st, pipelines.Layout{Lake: *lakeDir})
}

func runFeaturesList(e *env, args []string) error {
	fs := newFlags(e, "features list", "[--set acard|bcard] [--csv]\n\nPrints the feature catalog parsed from the feature SQL files.")
	set := fs.String("set", "", "only this set")
	asCSV := fs.Bool("csv", false, "print CSV (as written to <lake>/features/catalog.csv)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cat, err := features.DefaultCatalog()
	if err != nil {
		return err
	}
	if *set != "" {
		cat.Features = cat.Set(*set)
	}
	if *asCSV {
		return cat.WriteCSV(e.stdout)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tNAME\tTYPE\tDESCRIPTION\tAS-OF RULE")
	for _, f := range cat.Features {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Group, f.Name, f.Type, f.Description, f.AsOfRule)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n%d features, catalog version %s\n", len(cat.Features), cat.Version[:12])
	return nil
}
