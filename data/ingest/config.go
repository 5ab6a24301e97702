package ingest

import (
	"fmt"
	"os"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"qiandun/data/ingest/pii"
)

// Config is the optional ingest configuration file (YAML):
//
//	max_reject_rate: 0.02        # per table; default 0.01
//	files:                       # per-file settings, by path or glob relative to the raw directory
//	  "applications*.csv": {encoding: gbk}
//	  "loans/*":           {encoding: utf8}
type Config struct {
	MaxRejectRate *float64              `yaml:"max_reject_rate"`
	Files         map[string]FileConfig `yaml:"files"`
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
