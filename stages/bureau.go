package stages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"qiandun/data/vault"
	"qiandun/pipelines"
	"qiandun/reporting/bureau"
)

// Bureau writes the monthly credit-bureau reporting files of one month in
// each of its formats (one submission, one commit each), at
// <bureau>/<format>/<month>/<seq>/.
type Bureau struct {
	Month   string   `yaml:"month" json:"month"`     // YYYY-MM
	Formats []string `yaml:"formats" json:"formats"` // pboc, baihang
	// Identities: vault (names, ID numbers, phones revealed from the PII
	// vault) or none (tokens in their place: for testing only).
	Identities   string `yaml:"identities" json:"identities"`
	VaultKeyFile string `yaml:"vault_key_file" json:"vault_key_file,omitempty"`
	// Strict refuses the month when any account fails validation
	// (default: withhold the failing accounts, up to MaxWithheld).
	Strict      bool    `yaml:"strict" json:"strict"`
	MaxWithheld float64 `yaml:"max_withheld" json:"max_withheld"`
	// Correct writes the differences from the last submission of a month
	// already reported as correction records.
	Correct     bool                             `yaml:"correct" json:"correct"`
	Config      pipelines.Section[bureau.Config] `yaml:"config" json:"config"`
	MemoryLimit string                           `yaml:"memory_limit" json:"memory_limit"`
}

// NewBureau returns bureau's defaults.
func NewBureau() *Bureau {
	return &Bureau{Identities: "vault", MaxWithheld: 0.01, MemoryLimit: "auto"}
}

// IO: the loan tables and the panel in; the submissions out.
func (s *Bureau) IO(l pipelines.Layout) pipelines.IO {
	io := pipelines.IO{Reads: l.Tables("loans", "applications", "repayment_schedule", "repayments", "perf/panel"),
		Writes: []string{l.Bureau}}
	if s.Month != "" {
		io.Manifests = []string{filepath.Join(l.Bureau, "*", s.Month, "*", "manifest.json")}
	}
	return io
}

// Check validates the identities source and the config.
func (s *Bureau) Check(l pipelines.Layout) error {
	if len(s.Formats) == 0 {
		return errors.New("--format is required (pboc or baihang)")
	}
	switch s.Identities {
	case "none", "vault":
	default:
		return fmt.Errorf("--identities %q: want vault or none", s.Identities)
	}
	_, err := s.config()
	return err
}

func (s *Bureau) config() (bureau.Config, error) {
	if !s.Config.IsSet() {
		return bureau.DefaultConfig(), nil
	}
	b, err := s.Config.YAML()
	if err != nil {
		return bureau.Config{}, err
	}
	return bureau.ParseConfig(b, s.Config.Source)
}

// Run computes the month once and writes one submission per format,
// printing a line for each.
func (s *Bureau) Run(ctx context.Context, env *pipelines.Env) error {
	cfg, err := s.config()
	if err != nil {
		return err
	}
	ids, closeIDs, err := s.identities(env) // a missing key fails before the month is computed
	if err != nil {
		return err
	}
	defer closeIDs()
	month, err := bureau.Open(ctx, bureau.Options{Lake: env.Layout.Lake, Out: env.Layout.Bureau, Month: s.Month, Strict: s.Strict,
		MaxWithheld: s.MaxWithheld, Correct: s.Correct, Config: cfg, MemoryLimit: s.MemoryLimit, Log: env.Log})
	if err != nil {
		return err
	}
	defer month.Close()
	for i, f := range s.Formats {
		m, dir, err := month.Report(ctx, f, ids[i])
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "bureau %s %s: submission %s (%s) at %s: %d accounts, records %v, identities %s\n",
			m.Format, m.Month, m.Submission, m.Kind, dir, m.Accounts, m.Records, m.Identities)
		if m.Changes != nil {
			fmt.Fprintf(env.Stdout, "  corrects %s: %d added, %d changed, %d deleted\n", m.Corrects, m.Changes.Added, m.Changes.Changed, m.Changes.Deleted)
		}
	}
	return nil
}

// identities returns each format's identity source: tokens for
// --identities none, else the PII vault, opened once for every format
// (closed by the returned func), each format's reveals audited under its
// own purpose.
func (s *Bureau) identities(env *pipelines.Env) ([]bureau.IdentitySource, func(), error) {
	ids := make([]bureau.IdentitySource, len(s.Formats))
	if s.Identities == "none" {
		for i := range ids {
			ids[i] = bureau.Tokens{}
		}
		return ids, func() {}, nil
	}
	lakeDir := env.Layout.Lake
	key, err := vault.LoadKey(lakeDir, s.VaultKeyFile, false, env.Log)
	if err != nil {
		return nil, nil, fmt.Errorf("--identities vault: %w (or --identities none writes tokens in their place, for testing only)", err)
	}
	// The vault's own per-reveal log lines are not wanted here (hundreds
	// of thousands a month): the reveals are audited in one batch, in the
	// lake's audit log, by vaultReveals.Reveal.
	v, err := vault.Open(lakeDir, key, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, fmt.Errorf("--identities vault: %w", err)
	}
	for i, f := range s.Formats {
		ids[i] = vaultReveals{v: v, lake: lakeDir, stage: "bureau", purpose: "bureau " + f + " " + s.Month, log: env.Log}
	}
	return ids, func() { v.Close() }, nil
}

// Clear says the bureau files get clear identities.
func (vaultReveals) Clear() bool { return true }
