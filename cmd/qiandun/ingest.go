package main

import (
	"context"
	"fmt"

	"qiandun/data/ingest"
	"qiandun/data/vault"
	"qiandun/internal/keyfile"
	"qiandun/pipelines"
	"qiandun/stages"
)

// runIngest: qiandun ingest --raw DIR --lake DIR [--config FILE]
// [--max-reject-rate R] [--pii-key-file F] [--vault-key-file F]
// (stages.Ingest).
func runIngest(ctx context.Context, e *env, args []string) error {
	st := &stages.Ingest{}
	fs := newFlags(e, "ingest", "--raw DIR --lake DIR [--config FILE] [--max-reject-rate 0.01] [--pii-key-file F] [--vault-key-file F]")
	raw := fs.String("raw", "", "directory of raw exports (`DIR`)")
	lakeDir := fs.String("lake", "", "lake root `DIR`")
	fs.StringVar(&st.Config, "config", "", "YAML `FILE` with per-file encodings and max_reject_rate")
	maxRate := fs.Float64("max-reject-rate", ingest.DefaultMaxRejectRate, "largest share of a table's rows that may be quarantined before the stage fails")
	fs.StringVar(&st.PIIKeyFile, "pii-key-file", "", "PII token key `FILE`, outside the lake, mode 0600, at least 32 bytes (default $"+keyfile.DirEnv+"/pii.key, else ~/.config/qiandun/pii.key; created on first use; $"+ingest.KeyEnv+" overrides)")
	fs.StringVar(&st.VaultKeyFile, "vault-key-file", "", "PII vault key `FILE`, outside the lake, mode 0600, at least 32 bytes, not the token key (default $"+keyfile.DirEnv+"/"+vault.KeyFileName+"; created on first use; $"+vault.KeyEnv+" overrides)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *raw == "" || *lakeDir == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("--raw and --lake are required, and no other arguments")
	}
	if setFlag(fs, "max-reject-rate") {
		st.MaxRejectRate = maxRate
	}
	return execStage(ctx, e, st, pipelines.Layout{Raw: *raw, Lake: *lakeDir})
}
