package stages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"qiandun/pipelines"
	"qiandun/scoring/publish"
	"qiandun/scoring/score"
	"qiandun/scoring/warn"
	"qiandun/training/scorecard"
)

// WarnConfig is the shape of warn's rules and thresholds block.
type WarnConfig struct {
	Thresholds warn.Thresholds      `yaml:"thresholds"`
	Rules      map[string]warn.Rule `yaml:"rules"`
}

// Warn writes the post-loan early-warning list of the active loans at
// as_of, ranked by the rules of its config, published atomically at
// <warn>/<as_of>/. The B-card is the one of the published score run at
// <scores>/<as_of>/ (else the latest under <models>, or Model).
type Warn struct {
	AsOf        string                        `yaml:"as_of" json:"as_of"`
	MemoryLimit string                        `yaml:"memory_limit" json:"memory_limit"`
	Config      pipelines.Section[WarnConfig] `yaml:"config" json:"config"`
	// Model is a B-card directory (CLI --model).
	Model string `yaml:"-" json:"model,omitempty"`
}

// NewWarn returns warn's defaults.
func NewWarn() *Warn { return &Warn{MemoryLimit: "auto"} }

// IO: the B-card snapshot, the loan tables, the panel and the published
// scores (or models) in; the list out.
func (s *Warn) IO(l pipelines.Layout) pipelines.IO {
	io := pipelines.IO{
		Reads:  l.Tables("loans", "repayment_schedule", "repayments", "features/bcard", "perf/panel", "perf/installment_payoff", "perf/loan_closure"),
		Writes: []string{l.Warn},
	}
	switch {
	case s.Model != "":
		io.Reads = append(io.Reads, s.Model)
	case l.Scores != "":
		io.Reads = append(io.Reads, l.Scores)
	default:
		io.Reads = append(io.Reads, l.Models)
	}
	if s.AsOf != "" {
		io.Manifests = []string{filepath.Join(l.Warn, s.AsOf, "manifest.json")}
	}
	return io
}

// Check validates the config and an explicitly named model.
func (s *Warn) Check(l pipelines.Layout) error {
	if _, err := s.config(); err != nil {
		return err
	}
	if s.Model == "" && l.Scores == "" && l.Models == "" {
		return errors.New("--model (or --models / --scores) is required")
	}
	if s.Model != "" {
		if _, err := scorecard.Load(s.Model); err != nil {
			return fmt.Errorf("warn: refusing model %s: %w", s.Model, err)
		}
	}
	return nil
}

func (s *Warn) config() (warn.Config, error) {
	b, err := s.Config.YAML()
	if err != nil {
		return warn.Config{}, err
	}
	return warn.ParseConfig(b, s.Config.Source)
}

// Options are the warn.Options of the stage on l (the B-card resolved).
func (s *Warn) Options(env *pipelines.Env) (warn.Options, error) {
	l := env.Layout
	o := warn.Options{Lake: l.Lake, Model: s.Model, AsOf: s.AsOf, Out: l.Warn, Memory: s.MemoryLimit, Log: env.Log}
	var err error
	if o.Config, err = s.config(); err != nil {
		return o, err
	}
	if o.Model == "" {
		if o.Model, err = findBCard(l.Models, l.Scores, s.AsOf); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Run writes and publishes the list and prints its rules' counts.
func (s *Warn) Run(ctx context.Context, env *pipelines.Env) error {
	o, err := s.Options(env)
	if err != nil {
		return err
	}
	man, dir, err := warn.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "early-warning list %s: %d of %d active loans (model %s %s, score PSI %.4f %s)\n", dir, man.Rows, man.ActiveLoans,
		man.Model.Name, man.Model.Version, man.Model.Monitoring.ScorePSI, man.Model.Monitoring.ScoreLevel)
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  rule\tloans\tpriority\taction\tqueue")
	for _, r := range man.Rules {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\n", r.Name, man.ByReason[r.Name], r.Priority, r.Action, r.Queue)
	}
	return tw.Flush()
}

// findBCard picks the B-card: from a published scores run, or the latest
// B-card under a models root.
func findBCard(models, scores, asOf string) (string, error) {
	switch {
	case scores != "":
		dir := filepath.Join(scores, asOf)
		if _, err := publish.Verify(dir); err != nil {
			return "", fmt.Errorf("--scores: %w", err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, publish.ManifestName))
		if err != nil {
			return "", err
		}
		var man score.Manifest
		if err := json.Unmarshal(raw, &man); err != nil {
			return "", fmt.Errorf("--scores: %s: %w", dir, err)
		}
		for _, m := range man.Models {
			if m.Set == "bcard" {
				return m.Dir, nil
			}
		}
		return "", fmt.Errorf("--scores: the run at %s scored no B-card", dir)
	case models != "":
		dirs, err := score.LatestModels(models)
		if err != nil {
			return "", err
		}
		for _, d := range dirs {
			if m, err := scorecard.Load(d); err == nil && m.Settings["model"] == "bcard" {
				return d, nil
			}
		}
		return "", fmt.Errorf("--models: no B-card under %s", models)
	}
	return "", fmt.Errorf("--model (or --models / --scores) is required")
}
