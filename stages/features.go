package stages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"qiandun/data/lake"
	"qiandun/features"
	"qiandun/pipelines"
)

// Features computes point-in-time feature snapshots of one set: the
// A-card's (stage features: one row per application, and its fraud
// flags) or the B-card's (stage features_bcard: one row per active loan
// at each month end, with the A-card score of the loan's application from
// scores_acard). Dates: as_of, or the month ends from..to.
type Features struct {
	Set         string `yaml:"-" json:"set"`
	AsOf        string `yaml:"as_of" json:"as_of,omitempty"` // YYYY-MM-DD; features use only events strictly before it
	From        string `yaml:"from" json:"from,omitempty"`   // first month YYYY-MM of month-end snapshots
	To          string `yaml:"to" json:"to,omitempty"`       // last month (default From)
	MemoryLimit string `yaml:"memory_limit" json:"memory_limit,omitempty"`
	// Also are more month ends, YYYY-MM (the B-card's as-of month beside
	// its training range).
	Also []string `yaml:"also" json:"also,omitempty"`
}

// IO: the raw lake tables (and for the B-card the A-card scores) in;
// the set's snapshots out. Both sets also rewrite features/catalog.csv,
// which no stage reads (it is documentation of the columns).
func (s *Features) IO(l pipelines.Layout) pipelines.IO {
	io := pipelines.IO{Reads: l.Tables(append(features.InputTables(), features.Intermediates()...)...), Manifests: []string{l.Manifest("features-" + s.Set)}}
	switch s.Set {
	case features.SetACard:
		io.Writes = l.Tables("features/acard", "features/fraud_flags")
	default:
		io.Reads = append(io.Reads, l.Table("scores_acard"))
		io.Writes = l.Tables("features/" + s.Set)
	}
	return io
}

// Check validates the set and the dates.
func (s *Features) Check(l pipelines.Layout) error {
	if l.Lake == "" || s.Set == "" {
		return errors.New("--lake and --set are required")
	}
	if _, err := features.Key(s.Set); err != nil {
		return err
	}
	_, err := s.dates()
	return err
}

func (s *Features) dates() ([]time.Time, error) {
	var dates []time.Time
	switch {
	case s.AsOf != "" && s.From != "":
		return nil, errors.New("give --as-of or --from/--to, not both")
	case s.AsOf != "":
		d, err := time.Parse(time.DateOnly, s.AsOf)
		if err != nil {
			return nil, fmt.Errorf("--as-of %q: want YYYY-MM-DD", s.AsOf)
		}
		dates = []time.Time{d}
	case s.From != "":
		to := firstSet(s.To, s.From)
		f, err := time.Parse("2006-01", s.From)
		if err != nil {
			return nil, fmt.Errorf("--from %q: want YYYY-MM", s.From)
		}
		t, err := time.Parse("2006-01", to)
		if err != nil {
			return nil, fmt.Errorf("--to %q: want YYYY-MM", to)
		}
		if dates, err = features.MonthEnds(f, t); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("--as-of or --from is required")
	}
	for _, m := range s.Also {
		t, err := time.Parse("2006-01", m)
		if err != nil {
			return nil, fmt.Errorf("also %q: want YYYY-MM", m)
		}
		d, err := features.MonthEnds(t, t)
		if err != nil {
			return nil, err
		}
		dates = append(dates, d...)
	}
	return dates, nil
}

// Run computes the snapshots (one commit per call of features.Run) and
// prints a line per snapshot.
func (s *Features) Run(ctx context.Context, env *pipelines.Env) error {
	dates, err := s.dates()
	if err != nil {
		return err
	}
	// The training range and each further month are separate runs, as
	// they were separate steps: one commit each.
	groups := [][]time.Time{dates[:len(dates)-len(s.Also)]}
	for _, d := range dates[len(dates)-len(s.Also):] {
		groups = append(groups, []time.Time{d})
	}
	for _, g := range groups {
		snaps, err := features.Run(ctx, lake.New(env.Layout.Lake), s.Set, g, lake.DBOptions{MemoryLimit: firstSet(s.MemoryLimit, "auto")}, env.Log)
		for _, sn := range snaps {
			fmt.Fprintf(env.Stdout, "%s as_of=%s rows=%d", sn.Set, features.DateString(sn.AsOf), sn.Rows)
			if sn.Set == features.SetACard {
				fmt.Fprintf(env.Stdout, " fraud_flags=%d", sn.Flags)
			}
			fmt.Fprintf(env.Stdout, " seconds=%.1f %s\n", sn.Seconds, sn.Path)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
