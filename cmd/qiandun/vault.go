package main

import (
	"context"
	"fmt"
	"sync"

	"qiandun/data/vault"
	"qiandun/internal/keyfile"
)

// vaultCollector gathers, while ingest reads, the clear value of each
// token for the PII vault (ingest.Options.Vault).
type vaultCollector struct {
	mu  sync.Mutex
	val map[string]string // token -> clear value
}

func (c *vaultCollector) add(_ string, token, clear []byte) {
	c.mu.Lock()
	if _, ok := c.val[string(token)]; !ok {
		c.val[string(token)] = string(clear)
	}
	c.mu.Unlock()
}

// seal seals the collected values into v and writes it to path (the
// vault's place in the ingest commit).
func (c *vaultCollector) seal(v *vault.Vault, path string) (int, error) {
	n := 0
	for tok, val := range c.val {
		if v.Has(tok) {
			continue
		}
		if err := v.Put(tok, val); err != nil {
			return n, err
		}
		n++
	}
	return n, v.WriteFile(path)
}

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
	_, release, err := holdWriter(ctx, e, *lakeDir) // a new commit of the ingest chain
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
