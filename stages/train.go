package stages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"qiandun/features"
	"qiandun/pipelines"
	"qiandun/training/train"
)

// Train fits a scorecard. In a run it is lake mode (stages train_acard
// and train_bcard): the model's feature snapshots joined with perf's
// labels, the latest oot_months periods held out as out-of-time; the
// version is a checksum of the content. The CLI also trains on a flat
// file (Data).
type Train struct {
	Model       string   `yaml:"-" json:"model,omitempty"`     // acard | bcard (lake mode)
	AsOf        string   `yaml:"as_of" json:"as_of,omitempty"` // use only this feature snapshot
	OOTMonths   int      `yaml:"oot_months" json:"oot_months"` // 0: the config's, else 3
	Seed        uint64   `yaml:"seed" json:"seed"`             // of the stratified train/test split
	Exclude     []string `yaml:"exclude" json:"exclude"`       // columns left out
	Method      string   `yaml:"method" json:"method"`         // logistic | boosted ("" = the config's)
	MemoryLimit string   `yaml:"memory_limit" json:"memory_limit"`
	// Config is the binning, selection, scaling and method settings
	// (train.FileConfig).
	Config pipelines.Section[train.FileConfig] `yaml:"config" json:"config"`

	// Flat mode and CLI-only settings (see qiandun train --help).
	Data, Test, Target, BadValue string   `yaml:"-"`
	GoodValues                   []string `yaml:"-"`
	OthersGood                   bool     `yaml:"-"`
	Name, Version, BinsFile      string   `yaml:"-"`
	Features                     []string `yaml:"-"`
}

// NewTrain returns a lake-mode stage of model with the defaults.
func NewTrain(model string) *Train { return &Train{Model: model, Seed: 1, MemoryLimit: "auto"} }

func (s *Train) name() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.Data != "":
		return strings.TrimSuffix(filepath.Base(s.Data), filepath.Ext(s.Data))
	}
	return s.Model
}

// IO: lake mode reads features/<model> and labels/<model>; flat mode the
// data files. Both write <models>/<name>/.
func (s *Train) IO(l pipelines.Layout) pipelines.IO {
	io := pipelines.IO{Writes: []string{filepath.Join(l.Models, s.name())}}
	if l.Lake != "" {
		io.Reads = l.Tables("features/"+s.Model, "labels/"+s.Model)
		io.Manifests = []string{l.Manifest("train-" + s.Model)}
	} else {
		for _, f := range []string{s.Data, s.Test} {
			if f != "" {
				io.Reads = append(io.Reads, f)
			}
		}
	}
	return io
}

// LockDir: the lake, else the models root (flat mode).
func (s *Train) LockDir(l pipelines.Layout) string { return firstSet(l.Lake, l.Models) }

// Check validates the mode, the model and the data files.
func (s *Train) Check(l pipelines.Layout) error {
	if l.Models == "" {
		return errors.New("train: --out is required")
	}
	if (l.Lake != "") == (s.Data != "") {
		return errors.New("train: give exactly one of --data or --lake")
	}
	switch s.Method {
	case "", "logistic", "boosted":
	default:
		return fmt.Errorf("train: --method %q: want logistic or boosted", s.Method)
	}
	if l.Lake != "" {
		if _, err := features.Key(s.Model); err != nil {
			return fmt.Errorf("train: --model %q: want acard or bcard", s.Model)
		}
		return nil
	}
	for _, f := range []string{s.Data, s.Test} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	if s.Target == "" || s.BadValue == "" {
		return errors.New("train: --target and --bad-value are required with --data")
	}
	return nil
}

// config is the train.Config of the stage on layout l.
func (s *Train) config(l pipelines.Layout) (*train.Config, error) {
	cfg := train.NewConfig()
	cfg.Data, cfg.Test, cfg.Target, cfg.BadValue = s.Data, s.Test, s.Target, s.BadValue
	cfg.GoodValues, cfg.OthersGood = s.GoodValues, s.OthersGood
	cfg.Lake, cfg.Model, cfg.AsOf, cfg.Out = l.Lake, s.Model, s.AsOf, l.Models
	cfg.Name, cfg.Version, cfg.BinsFile, cfg.Features = s.Name, s.Version, s.BinsFile, s.Features
	cfg.Seed, cfg.MemoryLimit = s.Seed, s.MemoryLimit
	if s.Config.IsSet() {
		b, err := s.Config.YAML()
		if err != nil {
			return nil, err
		}
		if err := cfg.ParseConfig(b, s.Config.Source); err != nil {
			return nil, err
		}
	}
	if s.OOTMonths > 0 {
		cfg.OOTMonths = s.OOTMonths
	}
	if s.Method != "" {
		cfg.Method = s.Method
	}
	cfg.Exclude = append(cfg.Exclude, s.Exclude...)
	return cfg, nil
}

// Run fits and publishes the model version and prints its summary.
func (s *Train) Run(ctx context.Context, env *pipelines.Env) error {
	cfg, err := s.config(env.Layout)
	if err != nil {
		return err
	}
	res, err := train.Run(ctx, cfg, env.Log)
	if err != nil {
		return err
	}
	printTrainSummary(env.Stdout, res)
	return nil
}

func printTrainSummary(w io.Writer, res *train.Result) {
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
