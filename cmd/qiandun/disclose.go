package main

import (
	"context"
	"fmt"

	"qiandun/data/vault"
	"qiandun/internal/keyfile"
	"qiandun/pipelines"
	"qiandun/reporting/disclose"
	"qiandun/stages"
)

// runDisclose publishes one month's information disclosure
// (stages.Disclose): operating data, the month's projects with borrowers
// masked (identities read from the PII vault, one audit line each) and
// the static site.
func runDisclose(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "disclose", "--lake DIR --month YYYY-MM --out DIR [--from YYYY-MM] [--config FILE] [--vault-key-file F]")
	st := stages.NewDisclose()
	var l pipelines.Layout
	var config string
	fs.StringVar(&l.Lake, "lake", "", "lake directory (loans, applications, bureau tables, repayments, investments, custody_transactions, perf/panel, the PII vault)")
	fs.StringVar(&st.Month, "month", "", "month to disclose, YYYY-MM (the panel must reach its end)")
	fs.StringVar(&l.Disclosure, "out", "", "the site's root: DIR/index.html and DIR/<month>/ (operating.csv, projects.jsonl, pages)")
	fs.StringVar(&st.From, "from", "", "also disclose every month from this one up to --month (each its own commit), e.g. to fill the site's history")
	fs.StringVar(&config, "config", "", "YAML: related_parties, the register of related borrowers (borrower ids)")
	fs.StringVar(&st.VaultKeyFile, "vault-key-file", "", "PII vault key `FILE` (default $"+keyfile.DirEnv+"/"+vault.KeyFileName+"; $"+vault.KeyEnv+" overrides)")
	fs.StringVar(&st.MemoryLimit, "memory-limit", "auto", "DuckDB memory_limit (auto: a fifth of physical memory or of the cgroup limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	var err error
	if st.Config, err = disclose.LoadConfig(config); err != nil {
		return err
	}
	return execStage(ctx, e, st, l)
}
