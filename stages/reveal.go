package stages

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"qiandun/data/vault"
	"qiandun/internal/audit"
)

// vaultReveals reveals values from the PII vault for a stage that writes
// them (bureau identities, repair's phone queue): every value is read
// first, then one audit line per token read (naming the token and the
// purpose, never the value) is appended to the lake's audit log in one
// synced write (audit.Reveals), and only then are the values returned to
// be written. The terminal gets one line per batch.
type vaultReveals struct {
	v                    *vault.Vault
	lake, stage, purpose string
	log                  *slog.Logger
}

// Reveal returns the clear value of each token. They are read in token
// order, the vault file's, so that each of its blocks is read once.
func (r vaultReveals) Reveal(ctx context.Context, tokens []string) (map[string]string, error) {
	out := make(map[string]string, len(tokens))
	for _, t := range slices.Sorted(slices.Values(tokens)) {
		val, err := r.v.Reveal(ctx, t, r.purpose)
		if err != nil {
			return nil, err
		}
		out[t] = val
	}
	if err := audit.Reveals(r.lake, r.stage, r.purpose, tokens); err != nil {
		return nil, fmt.Errorf("%s: the vault's audit lines: %w", r.stage, err)
	}
	r.log.Info(r.stage+": values read from the PII vault", "purpose", r.purpose, "reads", len(tokens), "audit", audit.Path(r.lake))
	return out, nil
}
