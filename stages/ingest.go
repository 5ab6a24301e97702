package stages

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sort"
	"sync"

	"qiandun/data/ingest"
	"qiandun/data/ingest/pii"
	"qiandun/data/schema"
	"qiandun/data/vault"
	"qiandun/internal/keyfile"
	"qiandun/pipelines"
)

// Ingest reads the raw exports into typed, validated Parquet tables (one
// per schema.Tables entry) and a quarantine of the rejected rows, and
// seals the clear PII values in the lake's vault.
type Ingest struct {
	// MaxRejectRate: the stage fails when more of a table's rows are
	// quarantined (nil: the --config file's, else the default).
	MaxRejectRate *float64 `yaml:"max_reject_rate" json:"max_reject_rate,omitempty"`
	// PIIKeyFile and VaultKeyFile are the token key and the vault key,
	// outside the lake ("" = the defaults of keyfile).
	PIIKeyFile   string `yaml:"pii_key_file" json:"pii_key_file,omitempty"`
	VaultKeyFile string `yaml:"vault_key_file" json:"vault_key_file,omitempty"`
	// Config is a YAML file of per-file encodings and max_reject_rate.
	Config string `yaml:"config" json:"config,omitempty"`
	// MemoryLimit is the stage's DuckDB memory in all, split between its
	// two lanes 8:3 and never below 800MB + 300MB ("auto": a share of
	// the machine, lake.DefaultMemoryLimit; "": the 800MB + 300MB).
	MemoryLimit string `yaml:"memory_limit" json:"memory_limit,omitempty"`
}

// Tables are the lake tables ingest writes: one per schema table, the one
// list of them.
func Tables() []string {
	ts := schema.Tables()
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// IO: the raw exports in, every lake table out.
func (s *Ingest) IO(l pipelines.Layout) pipelines.IO {
	return pipelines.IO{Reads: []string{l.Raw}, Writes: l.Tables(Tables()...), Manifests: []string{l.Manifest("ingest")}}
}

// Check needs both directories.
func (s *Ingest) Check(l pipelines.Layout) error {
	if l.Raw == "" || l.Lake == "" {
		return errors.New("--raw and --lake are required, and no other arguments")
	}
	return nil
}

// Run ingests and prints a line per table.
func (s *Ingest) Run(ctx context.Context, env *pipelines.Env) error {
	lakeDir := env.Layout.Lake
	o := ingest.Options{Raw: env.Layout.Raw, Lake: lakeDir, MaxRejectRate: ingest.DefaultMaxRejectRate, Log: env.Log, Progress: env.Stderr,
		MemoryLimit: s.MemoryLimit}
	if s.Config != "" {
		c, err := ingest.LoadConfig(s.Config)
		if err != nil {
			return err
		}
		o.Config = c
		if c.MaxRejectRate != nil {
			o.MaxRejectRate = *c.MaxRejectRate
		}
	}
	if s.MaxRejectRate != nil {
		o.MaxRejectRate = *s.MaxRejectRate
	}
	key, err := pii.LoadTokenKey(lakeDir, s.PIIKeyFile, env.Log)
	if err != nil {
		return err
	}
	o.Key = key
	vkey, err := vault.LoadKey(lakeDir, s.VaultKeyFile, true, env.Log)
	if err != nil {
		return err
	}
	if keyfile.Fingerprint(vkey) == keyfile.Fingerprint(key) {
		return fmt.Errorf("the PII vault key and the token key are the same key: keep them apart")
	}
	vlt, err := vault.Open(lakeDir, vkey, env.Log)
	if err != nil {
		return err
	}
	defer vlt.Close()
	vc := newVaultCollector(vlt)
	o.Vault = vc.add
	sealed, before := 0, vlt.Len()
	o.SealVault = func(path string) error {
		if err := vc.failed(); err != nil {
			return err
		}
		if err := vlt.WriteFile(path); err != nil {
			return err
		}
		sealed = vlt.Len() - before
		return nil
	}
	res, err := ingest.Run(ctx, o)
	if err != nil {
		return err
	}
	if sealed > 0 {
		env.Log.Info("sealed new values in the PII vault, committed with the tables", "values", sealed, "vault", vault.Path(lakeDir))
	}
	w := env.Stdout
	for _, s := range res.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.File, s.Reason)
	}
	for _, t := range res.Tables {
		var rs []string
		for r, n := range t.Reasons {
			rs = append(rs, fmt.Sprintf("%s=%d", r, n))
		}
		sort.Strings(rs)
		fmt.Fprintf(w, "%-19s read %9d  accepted %9d  quarantined %7d  lake rows %9d  %v\n",
			t.Table, t.Read, t.Accepted, t.Quarantined, t.LakeRows, rs)
	}
	if len(res.Tables) == 0 {
		fmt.Fprintln(w, "nothing new to ingest; the lake is unchanged")
	}
	fmt.Fprintf(w, "%d rows in %.1fs\n", res.Rows(), res.Elapsed.Seconds())
	return nil
}

// vaultCollector seals, while ingest reads, the clear value of each
// token into the vault (ingest.Options.Vault), which spills them to disk
// beyond its memory bound. A token is the HMAC of its value, so a token
// sealed a moment ago need not be again: recent remembers the last token
// of each of its slots (by hash), which catches most of the repeats of a
// borrower's or a lender's identity in bounded memory.
type vaultCollector struct {
	v      *vault.Vault
	seed   maphash.Seed
	mu     sync.Mutex
	recent []string
	err    error // the first Put's error
}

func newVaultCollector(v *vault.Vault) *vaultCollector {
	return &vaultCollector{v: v, seed: maphash.MakeSeed(), recent: make([]string, 1<<16)}
}

func (c *vaultCollector) add(_ string, token, clear []byte) {
	i := maphash.Bytes(c.seed, token) & uint64(len(c.recent)-1)
	c.mu.Lock()
	if c.recent[i] == string(token) || c.err != nil {
		c.mu.Unlock()
		return
	}
	c.recent[i] = string(token)
	c.mu.Unlock()
	if err := c.v.PutBytes(token, clear); err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
}

func (c *vaultCollector) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
