package stages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"qiandun/data/vault"
	"qiandun/internal/audit"
	"qiandun/pipelines"
	"qiandun/reporting/disclose"
)

// Disclose publishes the monthly information disclosure (operating data,
// the month's projects with borrowers masked from the PII vault, a static
// site) at <disclosure>/, one commit per month.
type Disclose struct {
	Month string `yaml:"month" json:"month"` // YYYY-MM
	// From also discloses every month from this one up to Month, each its
	// own commit.
	From         string          `yaml:"from" json:"from,omitempty"`
	VaultKeyFile string          `yaml:"vault_key_file" json:"vault_key_file,omitempty"`
	MemoryLimit  string          `yaml:"memory_limit" json:"memory_limit"`
	Config       disclose.Config `yaml:"config" json:"config"`
}

// NewDisclose returns disclose's defaults.
func NewDisclose() *Disclose { return &Disclose{MemoryLimit: "auto"} }

// IO: the loan, bureau and custody tables and the panel in; the site out.
func (s *Disclose) IO(l pipelines.Layout) pipelines.IO {
	io := pipelines.IO{Reads: l.Tables("loans", "applications", "repayments", "bureau_reports", "bureau_inquiries",
		"investments", "custody_transactions", "perf/panel"), Writes: []string{l.Disclosure}}
	if s.Month != "" {
		io.Manifests = []string{filepath.Join(l.Disclosure, s.Month, "manifest.json")}
	}
	return io
}

// Check validates the directories, the months and the register.
func (s *Disclose) Check(l pipelines.Layout) error {
	if l.Lake == "" || l.Disclosure == "" || s.Month == "" {
		return errors.New("--lake, --month and --out are required")
	}
	if _, err := s.months(); err != nil {
		return err
	}
	return s.Config.Validate()
}

// Run discloses each month and prints a line for each.
func (s *Disclose) Run(ctx context.Context, env *pipelines.Env) error {
	lakeDir := env.Layout.Lake
	key, err := vault.LoadKey(lakeDir, s.VaultKeyFile, false, env.Log)
	if err != nil {
		return fmt.Errorf("the PII vault key: %w (borrowers' names, ID numbers and phones are masked from the vault's values)", err)
	}
	if err := os.MkdirAll(filepath.Join(lakeDir, audit.Dir), 0o700); err != nil {
		return fmt.Errorf("the vault's audit log: %w", err)
	}
	alog, err := os.OpenFile(filepath.Join(lakeDir, audit.Dir, RevealLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("the vault's audit log: %w", err)
	}
	defer alog.Close()
	v, err := vault.Open(lakeDir, key, slog.New(slog.NewJSONHandler(alog, nil)))
	if err != nil {
		return err
	}
	reads := &countingVault{v: v}
	defer func() {
		env.Log.Info("disclose: identities read from the PII vault", "reads", reads.n, "audit", alog.Name())
	}()
	months, err := s.months()
	if err != nil {
		return err
	}
	o := disclose.Options{Lake: lakeDir, Out: env.Layout.Disclosure, Config: s.Config, Identities: reads, MemoryLimit: s.MemoryLimit, Log: env.Log}
	for _, m := range months {
		o.Month = m
		res, err := disclose.Run(ctx, o)
		if err != nil {
			return err
		}
		state := "published"
		if !res.Written {
			state = "unchanged, nothing written"
		}
		fmt.Fprintf(env.Stdout, "disclose %s: %s at %s: %d metrics, %d projects\n", m, state, res.Dir, res.Manifest.Metrics, res.Manifest.Projects)
	}
	return nil
}

// months returns From..Month (YYYY-MM), or just Month when From is empty.
func (s *Disclose) months() ([]string, error) {
	b, err := time.Parse("2006-01", s.Month)
	if err != nil {
		return nil, fmt.Errorf("--month %q: want YYYY-MM", s.Month)
	}
	if s.From == "" {
		return []string{s.Month}, nil
	}
	a, err := time.Parse("2006-01", s.From)
	if err != nil {
		return nil, fmt.Errorf("--from %q: want YYYY-MM", s.From)
	}
	if a.After(b) {
		return nil, fmt.Errorf("--from %s is after --month %s", s.From, s.Month)
	}
	var out []string
	for t := a; !t.After(b); t = t.AddDate(0, 1, 0) {
		out = append(out, t.Format("2006-01"))
	}
	return out, nil
}

// RevealLog is the file under <lake>/_audit that receives the vault's
// audit lines of disclose runs — one per identity read, naming the token
// and the purpose, never the value: thousands for a month of projects,
// kept beside the lake's audit trail rather than on the terminal.
const RevealLog = "vault-reveal.log"

// countingVault counts the reads of a vault.
type countingVault struct {
	v *vault.Vault
	n int
}

func (c *countingVault) Reveal(ctx context.Context, token, purpose string) (string, error) {
	c.n++
	return c.v.Reveal(ctx, token, purpose)
}
