package stages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"qiandun/collection/repair"
	"qiandun/data/vault"
	"qiandun/pipelines"
)

// Repair lists, for every loan whose latest contact state before as_of is
// lost_contact, the channels the lender's own data offers, ranked
// (collection/repair), published atomically at <repair>/<as_of>/; the
// queue's phones come from the PII vault, each reveal an audit line.
type Repair struct {
	AsOf         string        `yaml:"as_of" json:"as_of"`
	VaultKeyFile string        `yaml:"vault_key_file" json:"vault_key_file,omitempty"`
	MemoryLimit  string        `yaml:"memory_limit" json:"memory_limit"`
	Config       repair.Config `yaml:"config" json:"config"`
	// NoQueue writes the token list only (CLI --queue=false).
	NoQueue bool `yaml:"-" json:"no_queue,omitempty"`
}

// NewRepair returns repair's defaults.
func NewRepair() *Repair {
	return &Repair{MemoryLimit: "auto", Config: repair.DefaultConfig()}
}

// IO: the applications, collections and bureau tables in; the list out.
func (s *Repair) IO(l pipelines.Layout) pipelines.IO {
	io := pipelines.IO{Reads: l.Tables("applications", "loans", "collection_events", "bureau_reports", "bureau_inquiries"),
		Writes: []string{l.Repair}}
	if s.AsOf != "" {
		io.Manifests = []string{filepath.Join(l.Repair, s.AsOf, "manifest.json")}
	}
	return io
}

// Check validates the directories, the date and the config.
func (s *Repair) Check(l pipelines.Layout) error {
	if l.Lake == "" || s.AsOf == "" {
		return errors.New("--lake and --as-of are required")
	}
	return s.Config.Validate()
}

// Options are the package's options for env (the queue's revealer
// included unless NoQueue).
func (s *Repair) Options(env *pipelines.Env) (repair.Options, error) {
	o := repair.Options{Lake: env.Layout.Lake, AsOf: s.AsOf, Out: env.Layout.Repair, Config: s.Config, Memory: s.MemoryLimit, Log: env.Log}
	if s.NoQueue || o.Out == "" {
		return o, nil
	}
	key, err := vault.LoadKey(o.Lake, s.VaultKeyFile, false, env.Log)
	if err != nil {
		return o, fmt.Errorf("repair queue: %w (or --queue=false writes the token list only)", err)
	}
	// One audit line per reveal goes to the lake's audit log, not the
	// terminal (vaultReveals).
	v, err := vault.Open(o.Lake, key, slog.New(slog.DiscardHandler))
	if err != nil {
		return o, fmt.Errorf("repair queue: %w", err)
	}
	o.Queue = vaultReveals{v: v, lake: o.Lake, stage: "repair", purpose: "repair " + s.AsOf, log: env.Log}
	return o, nil
}

// Run writes the list and prints a summary line.
func (s *Repair) Run(ctx context.Context, env *pipelines.Env) error {
	if env.Layout.Repair == "" {
		return errors.New("--out is required")
	}
	o, err := s.Options(env)
	if err != nil {
		return err
	}
	m, dir, err := repair.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "repair %s: %d lost-contact loans, %d with a phone candidate, %d candidates %v, queue %d rows, at %s\n",
		m.AsOf, m.LostLoans, m.WithPhone, m.Candidates, m.ByKind, m.QueueRows, dir)
	return nil
}
