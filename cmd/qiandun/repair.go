package main

import (
	"context"
	"fmt"

	"qiandun/collection/repair"
	"qiandun/data/vault"
	"qiandun/internal/audit"
	"qiandun/internal/keyfile"
)

// vaultPhones reveals the queue's phones from the PII vault: every value
// is read first, then one audit line per token goes to the lake's audit
// log (synced), and only then is the queue written.
type vaultPhones struct {
	v             *vault.Vault
	lake, purpose string
}

func (p vaultPhones) Reveal(ctx context.Context, tokens []string) (map[string]string, error) {
	out := make(map[string]string, len(tokens))
	for _, t := range tokens {
		val, err := p.v.Reveal(ctx, t, p.purpose)
		if err != nil {
			return nil, err
		}
		out[t] = val
	}
	if err := audit.Reveals(p.lake, "repair", p.purpose, tokens); err != nil {
		return nil, err
	}
	return out, nil
}

// runRepair: qiandun repair --lake DIR --as-of D --out DIR, or
// qiandun repair --backtest --truth FILE --lake DIR --as-of D.
func runRepair(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "repair", "--lake DIR --as-of YYYY-MM-DD --out DIR [--config FILE] [--queue=false] [--vault-key-file F]\n       qiandun repair --backtest --truth FILE --lake DIR --as-of YYYY-MM-DD [--config FILE]")
	var o repair.Options
	var config, truth string
	var backtest, queue bool
	fs.StringVar(&o.Lake, "lake", "", "lake directory (applications, loans, collection_events, bureau_reports, bureau_inquiries)")
	fs.StringVar(&o.AsOf, "as-of", "", "as-of date YYYY-MM-DD: events strictly before it count")
	fs.StringVar(&o.Out, "out", "", "output root; the list is published atomically at DIR/<as_of>/")
	fs.StringVar(&config, "config", "", "YAML/JSON weights, half-life, link windows and queue_top (defaults in collection/repair.DefaultConfig)")
	fs.BoolVar(&queue, "queue", true, "write queue.csv (0600): the top phones in clear, from the PII vault (each reveal an audit line)")
	vaultKeyFile := fs.String("vault-key-file", "", "PII vault key `FILE` (default $"+keyfile.DirEnv+"/"+vault.KeyFileName+"; $"+vault.KeyEnv+" overrides)")
	fs.BoolVar(&backtest, "backtest", false, "measure the ranking against --truth instead of writing a list")
	fs.StringVar(&truth, "truth", "", "back-test: CSV of the channels that reach each lost loan (loan_id, application_id, reaches, lost_at; the generator's _truth/repair.csv)")
	fs.StringVar(&o.Memory, "memory-limit", "3GB", "DuckDB memory_limit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	var err error
	if o.Config, err = repair.LoadConfig(config); err != nil {
		return err
	}
	o.Log = e.log
	if backtest {
		if truth == "" {
			return fmt.Errorf("--backtest needs --truth FILE")
		}
		bt, err := repair.RunBacktest(ctx, o, truth)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "repair back-test at %s: %d lost-contact loans, %d with a reaching channel before as-of, %d of them found among the candidates (%d candidates)\n",
			bt.AsOf, bt.LostLoans, bt.Reachable, bt.Found, bt.Candidates)
		for _, k := range bt.Top {
			fmt.Fprintf(e.stdout, "  top %d: %d reached (%.1f%% of reachable; a random order of the same candidates: %.1f%%)\n", k.K, k.Hits, 100*k.Share, 100*k.Random)
		}
		if bt.Missing > 0 {
			fmt.Fprintf(e.stdout, "  %d of the %d loans the truth lists as lost are not in the list\n", bt.Missing, bt.TruthLost)
		}
		return nil
	}
	if queue {
		key, err := vault.LoadKey(o.Lake, *vaultKeyFile, false, e.log)
		if err != nil {
			return fmt.Errorf("repair queue: %w (or --queue=false writes the token list only)", err)
		}
		v, err := vault.Open(o.Lake, key, e.log)
		if err != nil {
			return fmt.Errorf("repair queue: %w", err)
		}
		o.Queue = vaultPhones{v: v, lake: o.Lake, purpose: "repair " + o.AsOf}
	}
	ctx, release, err := holdWriter(ctx, e, firstSet(o.Lake, o.Out))
	if err != nil {
		return err
	}
	defer release()
	m, dir, err := repair.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "repair %s: %d lost-contact loans, %d with a phone candidate, %d candidates %v, queue %d rows, at %s\n",
		m.AsOf, m.LostLoans, m.WithPhone, m.Candidates, m.ByKind, m.QueueRows, dir)
	return nil
}
