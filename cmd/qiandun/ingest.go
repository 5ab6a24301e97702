package main

import (
	"context"
	"flag"
	"fmt"
	"sort"

	"qiandun/data/ingest"
	"qiandun/data/ingest/pii"
	"qiandun/data/vault"
	"qiandun/internal/keyfile"
)

// runIngest: qiandun ingest --raw DIR --lake DIR [--config FILE]
// [--max-reject-rate R] [--pii-key-file F] [--vault-key-file F]
func runIngest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "ingest", "--raw DIR --lake DIR [--config FILE] [--max-reject-rate 0.01] [--pii-key-file F] [--vault-key-file F]")
	raw := fs.String("raw", "", "directory of raw exports (`DIR`)")
	lakeDir := fs.String("lake", "", "lake root `DIR`")
	config := fs.String("config", "", "YAML `FILE` with per-file encodings and max_reject_rate")
	maxRate := fs.Float64("max-reject-rate", ingest.DefaultMaxRejectRate, "largest share of a table's rows that may be quarantined before the stage fails")
	keyFile := fs.String("pii-key-file", "", "PII token key `FILE`, outside the lake, mode 0600, at least 32 bytes (default $"+keyfile.DirEnv+"/pii.key, else ~/.config/qiandun/pii.key; created on first use; $"+ingest.KeyEnv+" overrides)")
	vaultKeyFile := fs.String("vault-key-file", "", "PII vault key `FILE`, outside the lake, mode 0600, at least 32 bytes, not the token key (default $"+keyfile.DirEnv+"/"+vault.KeyFileName+"; created on first use; $"+vault.KeyEnv+" overrides)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *raw == "" || *lakeDir == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("--raw and --lake are required, and no other arguments")
	}
	o := ingest.Options{Raw: *raw, Lake: *lakeDir, MaxRejectRate: *maxRate, Log: e.log, Progress: e.stderr}
	if *config != "" {
		c, err := ingest.LoadConfig(*config)
		if err != nil {
			return err
		}
		o.Config = c
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == "max-reject-rate" })
		if c.MaxRejectRate != nil && !set {
			o.MaxRejectRate = *c.MaxRejectRate
		}
	}
	ctx, release, err := holdWriter(ctx, e, *lakeDir)
	if err != nil {
		return err
	}
	defer release()
	key, err := pii.LoadTokenKey(*lakeDir, *keyFile, e.log)
	if err != nil {
		return err
	}
	o.Key = key
	vkey, err := vault.LoadKey(*lakeDir, *vaultKeyFile, true, e.log)
	if err != nil {
		return err
	}
	if keyfile.Fingerprint(vkey) == keyfile.Fingerprint(key) {
		return fmt.Errorf("the PII vault key and the token key are the same key: keep them apart")
	}
	vlt, err := vault.Open(*lakeDir, vkey, e.log)
	if err != nil {
		return err
	}
	vc := &vaultCollector{val: map[string]string{}}
	o.Vault = vc.add
	sealed := 0
	o.SealVault = func(path string) (err error) {
		sealed, err = vc.seal(vlt, path)
		return err
	}
	res, err := ingest.Run(ctx, o)
	if err != nil {
		return err
	}
	if sealed > 0 {
		e.log.Info("sealed new values in the PII vault, committed with the tables", "values", sealed, "vault", vault.Path(*lakeDir))
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(e.stdout, "skipped %s: %s\n", s.File, s.Reason)
	}
	for _, t := range res.Tables {
		var rs []string
		for r, n := range t.Reasons {
			rs = append(rs, fmt.Sprintf("%s=%d", r, n))
		}
		sort.Strings(rs)
		fmt.Fprintf(e.stdout, "%-19s read %9d  accepted %9d  quarantined %7d  lake rows %9d  %v\n",
			t.Table, t.Read, t.Accepted, t.Quarantined, t.LakeRows, rs)
	}
	if len(res.Tables) == 0 {
		fmt.Fprintln(e.stdout, "nothing new to ingest; the lake is unchanged")
	}
	fmt.Fprintf(e.stdout, "%d rows in %.1fs\n", res.Rows(), res.Elapsed.Seconds())
	return nil
}
