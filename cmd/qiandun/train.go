package main

import (
	"context"
	"fmt"
	"strings"

	"qiandun/pipelines"
	"qiandun/stages"
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

// runTrain fits a scorecard (stages.Train): lake mode as the train_acard
// and train_bcard stages, or on a flat file.
func runTrain(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "train", "--data FILE.csv|FILE.parquet --target COL --bad-value V --out DIR [flags]\n       qiandun train --lake DIR --model acard|bcard --out DIR [flags]")
	st := stages.NewTrain("")
	var lakeDir, out, features, exclude, config, goods string
	fs.StringVar(&st.Data, "data", "", "flat training table (CSV sniffed by DuckDB, or Parquet)")
	fs.StringVar(&st.Test, "test", "", "flat test table (default: a seeded stratified split of --data)")
	fs.StringVar(&st.Target, "target", "", "target column (flat mode)")
	fs.StringVar(&st.BadValue, "bad-value", "", "value of --target that means bad (flat mode)")
	fs.StringVar(&goods, "good-value", "", "comma-separated values of --target that mean good (default: the other value when the target takes two; a third value is an error)")
	fs.BoolVar(&st.OthersGood, "others-good", false, "count every target value other than --bad-value and --good-value as good, instead of failing")
	fs.StringVar(&lakeDir, "lake", "", "lake directory (lake mode: features joined with labels)")
	fs.StringVar(&st.Model, "model", "", "acard or bcard (lake mode)")
	fs.StringVar(&st.AsOf, "as-of", "", "use only the features snapshot as_of=YYYY-MM-DD (lake mode)")
	oot := fs.Int("oot-months", 3, "latest periods held out as out-of-time (lake mode)")
	fs.StringVar(&out, "out", "", "models directory; the artifact goes to DIR/<name>/<version>/")
	fs.StringVar(&st.Name, "name", "", "model name (default: data file stem, or acard/bcard)")
	fs.StringVar(&st.Version, "version", "", "model version (default: v + 12 hex of the content checksum)")
	fs.StringVar(&st.BinsFile, "bins", "", "YAML/JSON file of manual bins: {var: {breaks: [...]}} or {var: {groups: [[...], ...]}}")
	fs.StringVar(&features, "features", "", "comma-separated characteristics to use as is (skips selection)")
	fs.StringVar(&exclude, "exclude", "", "comma-separated columns to leave out")
	fs.StringVar(&config, "config", "", "YAML/JSON file of binning/selection/scaling options")
	fs.Uint64Var(&st.Seed, "seed", 1, "seed of the train/test split")
	fs.StringVar(&st.Method, "method", "", "logistic (default: WoE, selection, logistic regression) or boosted (boosted additive card: points per fine bin, early-stopped)")
	fs.StringVar(&st.MemoryLimit, "memory-limit", "auto", "DuckDB memory_limit (auto: a fifth of physical memory or of the cgroup limit); in lake mode it spills to <lake>/_tmp beyond")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	// --oot-months wins over the config file's oot_months only when given.
	if config == "" || setFlag(fs, "oot-months") {
		st.OOTMonths = *oot
	}
	var err error
	if st.Config, err = pipelines.SectionFile[train.FileConfig](config); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	st.Features = splitList(features)
	st.GoodValues = splitList(goods)
	st.Exclude = splitList(exclude)
	return execStage(ctx, e, st, pipelines.Layout{Lake: lakeDir, Models: out})
}
