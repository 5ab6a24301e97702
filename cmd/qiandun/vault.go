package main

import (
	"context"
	"fmt"

	"qiandun/data/vault"
	"qiandun/internal/keyfile"
	"qiandun/pipelines"
	"qiandun/stages"
)

// runVault: qiandun vault rotate --lake DIR --new-key-file F [--vault-key-file F]
func runVault(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return fmt.Errorf("usage: qiandun vault rotate --lake DIR --new-key-file F [--vault-key-file F]")
	}
	fs := newFlags(e, "vault rotate", "--lake DIR --new-key-file F [--vault-key-file F]")
	lakeDir := fs.String("lake", "", "lake root `DIR`")
	newKey := fs.String("new-key-file", "", "the new vault key `FILE` (outside the lake, mode 0600, at least 32 bytes)")
	oldKey := fs.String("vault-key-file", "", "the current vault key `FILE` (default $"+keyfile.DirEnv+"/"+vault.KeyFileName+"; $"+vault.KeyEnv+" overrides)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *lakeDir == "" || *newKey == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("--lake and --new-key-file are required, and no other arguments")
	}
	old, err := vault.LoadKey(*lakeDir, *oldKey, false, e.log)
	if err != nil {
		return err
	}
	next, err := keyfile.Load(keyfile.Spec{What: "new PII vault key", File: *newKey, Lake: *lakeDir})
	if err != nil {
		return err
	}
	_, release, err := stages.HoldWriter(ctx, &pipelines.Env{Log: e.log}, *lakeDir) // a new commit of the ingest chain
	if err != nil {
		return err
	}
	defer release()
	n, err := vault.Rotate(*lakeDir, old, next, e.log)
	if err != nil {
		return err
	}
	e.log.Info("vault re-encrypted under the new key; from now on use it (replace the old key file with it, or pass --vault-key-file)",
		"values", n, "vault", vault.Path(*lakeDir), "new_key_fingerprint", keyfile.Fingerprint(next))
	fmt.Fprintf(e.stdout, "%d values re-encrypted; the vault now opens with %s only\n", n, *newKey)
	return nil
}
