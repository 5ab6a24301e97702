package main

import (
	"context"
	"fmt"

	"qiandun/data/vault"
	"qiandun/internal/keyfile"
	"qiandun/pipelines"
	"qiandun/reporting/bureau"
	"qiandun/stages"
)

// runBureau writes one month's bureau reporting files in one format
// (stages.Bureau).
func runBureau(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bureau", "--lake DIR --month YYYY-MM --format baihang|pboc --out DIR [--correct] [--strict] [--max-withheld SHARE] [--config FILE] [--identities vault|none] [--vault-key-file F]")
	st := stages.NewBureau()
	var l pipelines.Layout
	var config, format string
	fs.StringVar(&l.Lake, "lake", "", "lake directory (loans, applications, repayment_schedule, repayments, perf/panel)")
	fs.StringVar(&st.Month, "month", "", "month to report, YYYY-MM (the panel must reach its end)")
	fs.StringVar(&format, "format", "", "pboc (record type 210) or baihang (JSON Lines)")
	fs.StringVar(&l.Bureau, "out", "", "output root; submissions go to DIR/<format>/<month>/<seq>/")
	fs.BoolVar(&st.Strict, "strict", false, "refuse the whole month when any account fails validation (default: withhold the failing accounts, listed in withheld.csv)")
	fs.Float64Var(&st.MaxWithheld, "max-withheld", 0.01, "largest share of accounts that may be withheld before the month is refused")
	fs.BoolVar(&st.Correct, "correct", false, "the month was reported: write the differences as correction records (PBOC 212/213, Baihang opCode M/D)")
	fs.StringVar(&config, "config", "", "YAML: five_class bounds (minimum DPD of each class) and org_code")
	fs.StringVar(&st.Identities, "identities", "vault", "where names, ID numbers and phones come from: vault, or none (tokens in their place: FOR TESTING ONLY, the files cannot be submitted)")
	fs.StringVar(&st.VaultKeyFile, "vault-key-file", "", "PII vault key `FILE` (default $"+keyfile.DirEnv+"/"+vault.KeyFileName+"; $"+vault.KeyEnv+" overrides)")
	fs.StringVar(&st.MemoryLimit, "memory-limit", "auto", "DuckDB memory_limit (auto: a fifth of physical memory or of the cgroup limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	st.Formats = []string{format}
	var err error
	if st.Config, err = pipelines.SectionFile[bureau.Config](config); err != nil {
		return fmt.Errorf("bureau config: %w", err)
	}
	return execStage(ctx, e, st, l)
}
