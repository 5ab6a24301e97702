package stages

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/pipelines"
)

// Perf builds the loan x month panel, vintages, roll rates, delinquency,
// expected loss, disclosure metrics and the A-/B-card labels. Its section
// is perf.Config's keys (label windows, LGD, DuckDB limits) and as_of.
type Perf struct {
	// AsOf is the month end the tables describe, YYYY-MM-DD ("" = the last
	// month end on or before the latest repayment or collection event).
	AsOf        string `yaml:"as_of" json:"as_of"`
	perf.Config `yaml:",inline" json:"config"`
}

// NewPerf returns perf's defaults (data/perf.DefaultConfig).
func NewPerf() *Perf { return &Perf{Config: perf.DefaultConfig()} }

// IO: the loan tables in; perf/* and labels/* out.
func (s *Perf) IO(l pipelines.Layout) pipelines.IO {
	return pipelines.IO{
		Reads:     l.Tables("loans", "repayment_schedule", "repayments", "collection_events"),
		Writes:    l.Tables("perf", "labels"),
		Manifests: []string{l.Manifest("perf")},
	}
}

// Check validates the lake and the as-of date.
func (s *Perf) Check(l pipelines.Layout) error {
	if l.Lake == "" {
		return errors.New("--lake is required")
	}
	if s.AsOf != "" {
		if _, err := time.Parse(time.DateOnly, s.AsOf); err != nil {
			return fmt.Errorf("--as-of %q: want YYYY-MM-DD: %w", s.AsOf, err)
		}
	}
	return nil
}

// Run builds the tables and prints their counts, the maturation of the
// A-card window, the disclosure metrics and the LGD.
func (s *Perf) Run(ctx context.Context, env *pipelines.Env) error {
	cfg := s.Config
	if s.AsOf != "" {
		t, err := time.Parse(time.DateOnly, s.AsOf)
		if err != nil {
			return fmt.Errorf("--as-of %q: want YYYY-MM-DD: %w", s.AsOf, err)
		}
		cfg.AsOf = t
	}
	res, err := perf.Run(ctx, lake.New(env.Layout.Lake), cfg, env.Log)
	if err != nil {
		return err
	}
	w := env.Stdout
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
