package ingest

import (
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"qiandun/data/ingest/pii"
	"qiandun/data/schema"
)

// Config is the optional ingest configuration file (YAML):
//
//	max_reject_rate: 0.02        # per table; default 0.01
//	max_line_bytes: 1048576      # longest line read as a row; default 1 MiB
//	files:                       # per-file settings, by path or glob relative to the raw directory
//	  "applications*.csv": {encoding: gbk}
//	  "loans/*":           {encoding: utf8}
type Config struct {
	MaxRejectRate *float64              `yaml:"max_reject_rate"`
	Files         map[string]FileConfig `yaml:"files"`
	// MaxLineBytes is the longest line read as a row (default 1 MiB,
	// DefaultMaxLine); a longer one is quarantined as line_too_long.
	MaxLineBytes *int `yaml:"max_line_bytes"`
}

// FileConfig declares how to read matching files.
type FileConfig struct {
	Encoding string `yaml:"encoding"` // utf8 or gbk; empty or "auto" detects
}

// LoadConfig reads a configuration file.
func LoadConfig(file string) (*Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("ingest config %s: %w", file, err)
	}
	if c.MaxLineBytes != nil && *c.MaxLineBytes < 1024 {
		return nil, fmt.Errorf("ingest config %s: max_line_bytes %d is below 1024", file, *c.MaxLineBytes)
	}
	for pat, fc := range c.Files {
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("ingest config %s: bad pattern %q: %w", file, pat, err)
		}
		switch strings.ToLower(fc.Encoding) {
		case "", "auto", EncUTF8, "utf-8", EncGBK:
		default:
			return nil, fmt.Errorf("ingest config %s: files %q: unknown encoding %q (want utf8 or gbk)", file, pat, fc.Encoding)
		}
	}
	return &c, nil
}

// maxLine returns the longest line read as a row: Options.MaxLineBytes,
// else the config's max_line_bytes, else DefaultMaxLine.
func (o Options) maxLine() int {
	switch {
	case o.MaxLineBytes > 0:
		return o.MaxLineBytes
	case o.Config != nil && o.Config.MaxLineBytes != nil:
		return *o.Config.MaxLineBytes
	}
	return DefaultMaxLine
}

// missingExports returns the tables of the contract that have no raw
// file among srcs, each warned about: the lake keeps what it had of
// them, and their children may be quarantined as orphans.
func missingExports(srcs []Source, log *slog.Logger) []string {
	have := map[string]bool{}
	for _, s := range srcs {
		have[s.Table] = true
	}
	out := []string{} // an empty list in the manifest, not null
	for _, t := range schema.Tables() {
		if !have[t.Name] {
			out = append(out, t.Name)
			log.Warn("no export file for table: nothing of it is read in this run (the lake keeps what it had)", "table", t.Name)
		}
	}
	return out
}

// encodingFor returns the declared encoding of a raw file, EncAuto if none.
func (c *Config) encodingFor(rel string) string {
	if c == nil {
		return EncAuto
	}
	for pat, fc := range c.Files {
		if ok, _ := path.Match(pat, rel); ok {
			switch strings.ToLower(fc.Encoding) {
			case EncUTF8, "utf-8":
				return EncUTF8
			case EncGBK:
				return EncGBK
			}
		}
	}
	return EncAuto
}

// KeyEnv is the environment variable that holds the PII token key (see
// pii.LoadTokenKey, which loads and checks the key).
const KeyEnv = pii.KeyEnv
