package main

import (
	"context"
	"fmt"

	"qiandun/data/vault"
	"qiandun/internal/keyfile"
	"qiandun/reporting/bureau"
)

// vaultIdentities reveals borrowers' identities from the PII vault for
// one bureau month; each reveal is an audit line naming the token and the
// purpose (never the value).
type vaultIdentities struct {
	v       *vault.Vault
	purpose string
}

func (s vaultIdentities) Reveal(ctx context.Context, tokens []string) (map[string]string, error) {
	out := make(map[string]string, len(tokens))
	for _, t := range tokens {
		val, err := s.v.Reveal(ctx, t, s.purpose)
		if err != nil {
			return nil, err
		}
		out[t] = val
	}
	return out, nil
}

func (vaultIdentities) Clear() bool { return true }

func runBureau(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bureau", "--lake DIR --month YYYY-MM --format baihang|pboc --out DIR [--correct] [--strict] [--max-withheld SHARE] [--config FILE] [--identities vault|none] [--vault-key-file F]")
	var o bureau.Options
	var config, identities string
	fs.StringVar(&o.Lake, "lake", "", "lake directory (loans, applications, repayment_schedule, repayments, perf/panel)")
	fs.StringVar(&o.Month, "month", "", "month to report, YYYY-MM (the panel must reach its end)")
	fs.StringVar(&o.Format, "format", "", "pboc (record type 210) or baihang (JSON Lines)")
	fs.StringVar(&o.Out, "out", "", "output root; submissions go to DIR/<format>/<month>/<seq>/")
	fs.BoolVar(&o.Strict, "strict", false, "refuse the whole month when any account fails validation (default: withhold the failing accounts, listed in withheld.csv)")
	fs.Float64Var(&o.MaxWithheld, "max-withheld", 0.01, "largest share of accounts that may be withheld before the month is refused")
	fs.BoolVar(&o.Correct, "correct", false, "the month was reported: write the differences as correction records (PBOC 212/213, Baihang opCode M/D)")
	fs.StringVar(&config, "config", "", "YAML: five_class bounds (minimum DPD of each class) and org_code")
	fs.StringVar(&identities, "identities", "vault", "where names, ID numbers and phones come from: vault, or none (tokens in their place: FOR TESTING ONLY, the files cannot be submitted)")
	vaultKeyFile := fs.String("vault-key-file", "", "PII vault key `FILE` (default $"+keyfile.DirEnv+"/"+vault.KeyFileName+"; $"+vault.KeyEnv+" overrides)")
	fs.StringVar(&o.MemoryLimit, "memory-limit", "3GB", "DuckDB memory_limit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	switch identities {
	case "none":
		o.Identities = bureau.Tokens{}
	case "vault":
		key, err := vault.LoadKey(o.Lake, *vaultKeyFile, false, e.log)
		if err != nil {
			return fmt.Errorf("--identities vault: %w (or --identities none writes tokens in their place, for testing only)", err)
		}
		v, err := vault.Open(o.Lake, key, e.log)
		if err != nil {
			return fmt.Errorf("--identities vault: %w", err)
		}
		o.Identities = vaultIdentities{v: v, purpose: "bureau " + o.Format + " " + o.Month}
	default:
		return fmt.Errorf("--identities %q: want vault or none", identities)
	}
	var err error
	if o.Config, err = bureau.LoadConfig(config); err != nil {
		return err
	}
	o.Log = e.log
	ctx, release, err := holdWriter(ctx, e, firstSet(o.Lake, o.Out))
	if err != nil {
		return err
	}
	defer release()
	m, dir, err := bureau.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "bureau %s %s: submission %s (%s) at %s: %d accounts, records %v, identities %s\n",
		m.Format, m.Month, m.Submission, m.Kind, dir, m.Accounts, m.Records, m.Identities)
	if m.Changes != nil {
		fmt.Fprintf(e.stdout, "  corrects %s: %d added, %d changed, %d deleted\n", m.Corrects, m.Changes.Added, m.Changes.Changed, m.Changes.Deleted)
	}
	return nil
}
