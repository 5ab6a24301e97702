package stages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"qiandun/data/gen"
	"qiandun/pipelines"
)

// Gen writes the synthetic raw exports (the demo book) to the layout's
// raw directory; deterministic by seed. In a run it runs only when the
// raw directory is absent: real exports are never overwritten.
type Gen struct {
	Loans    int     `yaml:"loans" json:"loans"`
	Seed     uint64  `yaml:"seed" json:"seed"`
	Start    string  `yaml:"start" json:"start"`       // first month of the window, YYYY-MM
	Months   int     `yaml:"months" json:"months"`     // loans are issued in all but the last six
	Encoding string  `yaml:"encoding" json:"encoding"` // utf8 or gbk
	Dirty    float64 `yaml:"dirty" json:"dirty"`       // share of rows given a realistic defect
	// CustodyBreaks is the share of loans given one reconciliation break
	// in the custodian's statement (counts in _truth/custody.json).
	CustodyBreaks float64 `yaml:"custody_breaks" json:"custody_breaks"`
	// MigrationDay is the day custody moves from 贵州银行 to 新网银行
	// (YYYY-MM-DD; empty: the first day of the window's 17th month).
	MigrationDay string `yaml:"migration_day" json:"migration_day"`
	// Gzip writes the exports gzipped (<table>.csv.gz): for books too big
	// for the disk as CSV (make bench-large's 10M).
	Gzip bool `yaml:"gzip" json:"gzip,omitempty"`
	// Workers does not change the output (not part of the fingerprint).
	Workers int `yaml:"-" json:"-"`
}

// NewGen returns gen's defaults (data/gen.DefaultConfig).
func NewGen() *Gen {
	d := gen.DefaultConfig()
	return &Gen{Loans: d.Loans, Seed: d.Seed, Start: fmt.Sprintf("%04d-%02d", d.StartYear, d.StartMonth), Months: d.Months, Encoding: d.Encoding}
}

// IO: gen reads nothing and writes the raw directory.
func (g *Gen) IO(l pipelines.Layout) pipelines.IO {
	return pipelines.IO{Writes: []string{l.Raw}, OnlyIfAbsent: l.Raw}
}

// Check validates the window start.
func (g *Gen) Check(l pipelines.Layout) error {
	if l.Raw == "" {
		return errors.New("--out is required")
	}
	if _, err := time.Parse("2006-01", g.Start); err != nil {
		return fmt.Errorf("--start %q: want YYYY-MM", g.Start)
	}
	if g.MigrationDay != "" {
		if _, err := time.Parse("2006-01-02", g.MigrationDay); err != nil {
			return fmt.Errorf("--migration-day %q: want YYYY-MM-DD", g.MigrationDay)
		}
	}
	return nil
}

// LockDir: gen writes no lake and takes no lock (it refuses a non-empty
// directory itself).
func (g *Gen) LockDir(pipelines.Layout) string { return "" }

// Run generates the book.
func (g *Gen) Run(ctx context.Context, env *pipelines.Env) error {
	t, err := time.Parse("2006-01", g.Start)
	if err != nil {
		return fmt.Errorf("--start %q: want YYYY-MM", g.Start)
	}
	cfg := gen.Config{Loans: g.Loans, Seed: g.Seed, StartYear: t.Year(), StartMonth: int(t.Month()),
		Months: g.Months, Encoding: g.Encoding, Dirty: g.Dirty, Workers: g.Workers, Progress: env.Stderr, CustodyBreaks: g.CustodyBreaks, Gzip: g.Gzip}
	if g.MigrationDay != "" {
		d, err := time.Parse("2006-01-02", g.MigrationDay)
		if err != nil {
			return fmt.Errorf("--migration-day %q: want YYYY-MM-DD", g.MigrationDay)
		}
		cfg.MigrationDay = gen.Day(d.Year(), int(d.Month()), d.Day())
	}
	s, err := gen.Generate(ctx, cfg, env.Layout.Raw, env.Log)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, s)
	return nil
}
