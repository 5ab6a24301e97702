package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"qiandun/data/vault"
	"qiandun/internal/audit"
	"qiandun/internal/keyfile"
	"qiandun/reporting/disclose"
)

// runDisclose publishes one month's information disclosure: operating
// data, the month's projects with borrowers masked (identities read from
// the PII vault, one audit line each) and the static site.
func runDisclose(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "disclose", "--lake DIR --month YYYY-MM --out DIR [--from YYYY-MM] [--config FILE] [--vault-key-file F]")
	var o disclose.Options
	var config, from string
	fs.StringVar(&o.Lake, "lake", "", "lake directory (loans, applications, bureau tables, repayments, investments, custody_transactions, perf/panel, the PII vault)")
	fs.StringVar(&o.Month, "month", "", "month to disclose, YYYY-MM (the panel must reach its end)")
	fs.StringVar(&o.Out, "out", "", "the site's root: DIR/index.html and DIR/<month>/ (operating.csv, projects.jsonl, pages)")
	fs.StringVar(&from, "from", "", "also disclose every month from this one up to --month (each its own commit), e.g. to fill the site's history")
	fs.StringVar(&config, "config", "", "YAML: related_parties, the register of related borrowers (borrower ids)")
	vaultKeyFile := fs.String("vault-key-file", "", "PII vault key `FILE` (default $"+keyfile.DirEnv+"/"+vault.KeyFileName+"; $"+vault.KeyEnv+" overrides)")
	fs.StringVar(&o.MemoryLimit, "memory-limit", "3GB", "DuckDB memory_limit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if o.Lake == "" || o.Out == "" || o.Month == "" {
		return fmt.Errorf("--lake, --month and --out are required")
	}
	var err error
	if o.Config, err = disclose.LoadConfig(config); err != nil {
		return err
	}
	key, err := vault.LoadKey(o.Lake, *vaultKeyFile, false, e.log)
	if err != nil {
		return fmt.Errorf("the PII vault key: %w (borrowers' names, ID numbers and phones are masked from the vault's values)", err)
	}
	ctx, release, err := holdWriter(ctx, e, o.Lake)
	if err != nil {
		return err
	}
	defer release()
	if err := os.MkdirAll(filepath.Join(o.Lake, audit.Dir), 0o700); err != nil {
		return fmt.Errorf("the vault's audit log: %w", err)
	}
	alog, err := os.OpenFile(filepath.Join(o.Lake, audit.Dir, revealLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("the vault's audit log: %w", err)
	}
	defer alog.Close()
	v, err := vault.Open(o.Lake, key, slog.New(slog.NewJSONHandler(alog, nil)))
	if err != nil {
		return err
	}
	reads := &countingVault{v: v}
	o.Identities, o.Log = reads, e.log
	months, err := monthRange(from, o.Month)
	if err != nil {
		return err
	}
	defer func() {
		e.log.Info("disclose: identities read from the PII vault", "reads", reads.n, "audit", alog.Name())
	}()
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
		fmt.Fprintf(e.stdout, "disclose %s: %s at %s: %d metrics, %d projects\n", m, state, res.Dir, res.Manifest.Metrics, res.Manifest.Projects)
	}
	return nil
}

// monthRange returns the months from..to (YYYY-MM), or just to when from
// is empty.
func monthRange(from, to string) ([]string, error) {
	if from == "" {
		return []string{to}, nil
	}
	a, err := time.Parse("2006-01", from)
	if err != nil {
		return nil, fmt.Errorf("--from %q: want YYYY-MM", from)
	}
	b, err := time.Parse("2006-01", to)
	if err != nil {
		return nil, fmt.Errorf("--month %q: want YYYY-MM", to)
	}
	if a.After(b) {
		return nil, fmt.Errorf("--from %s is after --month %s", from, to)
	}
	var out []string
	for t := a; !t.After(b); t = t.AddDate(0, 1, 0) {
		out = append(out, t.Format("2006-01"))
	}
	return out, nil
}

// revealLog is the file under <lake>/_audit that receives the vault's
// audit lines of disclose runs — one per identity read, naming the token
// and the purpose, never the value: thousands for a month of projects,
// kept beside the lake's audit trail rather than on the terminal.
const revealLog = "vault-reveal.log"

// countingVault counts the reads of a vault.
type countingVault struct {
	v *vault.Vault
	n int
}

func (c *countingVault) Reveal(ctx context.Context, token, purpose string) (string, error) {
	c.n++
	return c.v.Reveal(ctx, token, purpose)
}
