package bureau

import (
	"context"
	"fmt"
	"slices"
)

// Identity is a borrower's clear identity, as the bureau needs it.
type Identity struct {
	Name, IDNumber, Phone string
}

// An IdentitySource reveals clear values by the tokens the lake carries
// (applications.name_token, id_number_token, phone_token). The PII vault
// is the real one (stages.Bureau reveals from it, each token read an
// audit line); Tokens stands in for testing.
type IdentitySource interface {
	// Reveal returns the clear value of each token (every token asked
	// for, or an error naming the first one missing).
	Reveal(ctx context.Context, tokens []string) (map[string]string, error)
	// Clear reports whether revealed values are real identities, to be
	// checked (ID check digit, phone form) before they leave; false for a
	// stand-in that returns placeholders.
	Clear() bool
}

// Tokens is the stand-in IdentitySource of `--identities none`: each
// token is "revealed" as itself, so the files carry tokens where names,
// ID numbers and phones belong. For testing the pipeline only: such files
// cannot be submitted, and their manifest says so.
type Tokens struct{}

// Reveal returns each token as its own value.
func (Tokens) Reveal(_ context.Context, tokens []string) (map[string]string, error) {
	out := make(map[string]string, len(tokens))
	for _, t := range tokens {
		out[t] = t
	}
	return out, nil
}

// Clear is false: tokens are not identities.
func (Tokens) Clear() bool { return false }

// reveal fills each account's identity from its tokens.
func reveal(ctx context.Context, src IdentitySource, accts []Account) error {
	// every token once, sorted (a borrower with several loans has the
	// same tokens on each)
	toks := make([]string, 0, 3*len(accts))
	for i := range accts {
		for _, t := range []string{accts[i].NameToken, accts[i].IDToken, accts[i].PhoneToken} {
			if t != "" {
				toks = append(toks, t)
			}
		}
	}
	slices.Sort(toks)
	toks = slices.Compact(toks)
	vals, err := src.Reveal(ctx, toks)
	if err != nil {
		return fmt.Errorf("bureau: reveal identities: %w", err)
	}
	for i := range accts {
		a := &accts[i]
		a.Identity = Identity{Name: vals[a.NameToken], IDNumber: vals[a.IDToken], Phone: vals[a.PhoneToken]}
	}
	return nil
}
