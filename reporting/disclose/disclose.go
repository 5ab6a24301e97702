// Package disclose writes the platform's monthly information disclosure
// (the 2017 P2P information-disclosure guideline): the operating data as
// of a month end, each metric with its written definition
// (operating.csv), one record per loan issued in the month with the
// borrower masked (projects.jsonl), and a static, self-contained HTML
// site — an index by month, a page per month and a page per project.
//
// The set work is DuckDB over the lake (operating.sql, projects.sql,
// flows.sql). Identities come from the PII vault through a Revealer, one
// audit line per read, and leave this package only masked (MaskName,
// MaskID, MaskPhone): never in clear, never as a token. A month's files
// are published with the commit protocol (internal/durable) under the
// output root, files 0600; the same lake gives the same bytes, and a
// re-run of an unchanged month writes nothing.
package disclose

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed operating.sql
var operatingSQL string

//go:embed projects.sql
var projectsSQL string

//go:embed flows.sql
var flowsSQL string

// Config is the disclose section of the pipeline config.
type Config struct {
	// RelatedParties is the platform's register of related parties
	// (shareholders, directors, staff and their affiliates) by
	// borrower_id: their active loans are the related-party metrics.
	RelatedParties []string `yaml:"related_parties"`
}

// LoadConfig reads a YAML config; "" gives the empty register. Unknown
// keys are errors.
func LoadConfig(path string) (Config, error) {
	var c Config
	if path == "" {
		return c, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("disclose config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("disclose config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("disclose config %s: %w", path, err)
	}
	return c, nil
}

// Validate refuses an empty id in the register.
func (c Config) Validate() error {
	for i, id := range c.RelatedParties {
		if id == "" {
			return fmt.Errorf("related_parties[%d] is empty", i)
		}
	}
	return nil
}

// A Revealer returns the clear value of a token the lake carries, for a
// purpose, and keeps an audit line of the read (data/vault.Vault is one).
type Revealer interface {
	Reveal(ctx context.Context, token, purpose string) (string, error)
}

// Options of one run.
type Options struct {
	Lake   string // the lake directory
	Out    string // the site's root: <Out>/index.html, <Out>/<month>/...
	Month  string // YYYY-MM
	Config Config
	// Identities reveals names, ID numbers and phones to be masked.
	Identities Revealer
	// MemoryLimit bounds DuckDB ("3GB" if empty); Threads is its thread
	// count (0: all cores).
	MemoryLimit string
	Threads     int
	Log         *slog.Logger
}

// monthBounds returns the first and last day of month YYYY-MM.
func monthBounds(month string) (time.Time, time.Time, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("month %q: want YYYY-MM", month)
	}
	return t, t.AddDate(0, 1, -1), nil
}

func (o *Options) check() error {
	if o.Lake == "" || o.Out == "" || o.Month == "" {
		return fmt.Errorf("disclose: --lake, --out and --month are required")
	}
	if _, _, err := monthBounds(o.Month); err != nil {
		return fmt.Errorf("disclose: %w", err)
	}
	if o.Identities == nil {
		return fmt.Errorf("disclose: no identity source (the PII vault)")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Result is what a run published (or found already published).
type Result struct {
	Manifest *Manifest
	Dir      string // <Out>/<month>
	Written  bool   // false when the month was unchanged and nothing was written
}

// Run discloses one month: it reads the operating data and the month's
// projects from the lake, reveals and masks the borrowers' identities,
// renders operating.csv, projects.jsonl and the site's pages, and
// publishes them in one commit — unless they equal what is published.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	data, err := read(ctx, o)
	if err != nil {
		return nil, err
	}
	t := time.Now()
	projects, err := mask(ctx, o, data)
	if err != nil {
		return nil, err
	}
	o.Log.Debug("disclose step", "step", "mask", "seconds", time.Since(t).Seconds())
	return publish(ctx, o, data, projects)
}
