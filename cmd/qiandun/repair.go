package main

import (
	"context"
	"fmt"

	"qiandun/collection/repair"
	"qiandun/data/vault"
	"qiandun/internal/keyfile"
	"qiandun/pipelines"
	"qiandun/stages"
)

// runRepair: qiandun repair --lake DIR --as-of D --out DIR (stages.Repair),
// or qiandun repair --backtest --truth FILE --lake DIR --as-of D
// (read-only, no lock).
func runRepair(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "repair", "--lake DIR --as-of YYYY-MM-DD --out DIR [--config FILE] [--queue=false] [--vault-key-file F]\n       qiandun repair --backtest --truth FILE --lake DIR --as-of YYYY-MM-DD [--config FILE]")
	st := stages.NewRepair()
	var l pipelines.Layout
	var config, truth string
	var backtest, queue bool
	fs.StringVar(&l.Lake, "lake", "", "lake directory (applications, loans, collection_events, bureau_reports, bureau_inquiries)")
	fs.StringVar(&st.AsOf, "as-of", "", "as-of date YYYY-MM-DD: events strictly before it count")
	fs.StringVar(&l.Repair, "out", "", "output root; the list is published atomically at DIR/<as_of>/")
	fs.StringVar(&config, "config", "", "YAML/JSON weights, half-life, link windows and queue_top (defaults in collection/repair.DefaultConfig)")
	fs.BoolVar(&queue, "queue", true, "write queue.csv (0600): the top phones in clear, from the PII vault (each reveal an audit line)")
	fs.StringVar(&st.VaultKeyFile, "vault-key-file", "", "PII vault key `FILE` (default $"+keyfile.DirEnv+"/"+vault.KeyFileName+"; $"+vault.KeyEnv+" overrides)")
	fs.BoolVar(&backtest, "backtest", false, "measure the ranking against --truth instead of writing a list")
	fs.StringVar(&truth, "truth", "", "back-test: CSV of the channels that reach each lost loan (loan_id, application_id, reaches, lost_at; the generator's _truth/repair.csv)")
	fs.StringVar(&st.MemoryLimit, "memory-limit", "auto", "DuckDB memory_limit (auto: a fifth of physical memory or of the cgroup limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	var err error
	if st.Config, err = repair.LoadConfig(config); err != nil {
		return err
	}
	st.NoQueue = !queue
	if !backtest {
		return execStage(ctx, e, st, l)
	}
	if truth == "" {
		return fmt.Errorf("--backtest needs --truth FILE")
	}
	if err := st.Check(l); err != nil {
		return err
	}
	st.NoQueue = true
	o, err := st.Options(&pipelines.Env{Layout: l, Log: e.log, Stdout: e.stdout, Stderr: e.stderr})
	if err != nil {
		return err
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
