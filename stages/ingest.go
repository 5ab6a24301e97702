package stages

import (
	"context"
	"errors"
	"fmt"
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
