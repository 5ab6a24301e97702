// Package pipelines runs qiandun's stages as a DAG: a stage is a typed Go
// value (Stage) whose config is its section of a YAML file and which
// declares the paths it reads and writes; the runner derives the order
// from those declarations, skips a stage whose config, code version and
// upstream outputs are unchanged since its last successful run, and
// records why it ran or skipped in a run manifest per stage.
//
// The package knows nothing about what a stage does: the caller provides
// the Registry of stage kinds (in qiandun, package stages), so the DAG
// and skip logic can be tested with fake stages and no DuckDB.
package pipelines

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a parsed pipeline config.
type Config struct {
	// Path is the file the config was read from ("" when parsed from bytes).
	Path string
	// Vars are the named values ${name} expands to, in declaration order.
	Vars []KV
	// State is the directory of the run manifests (one JSON per stage).
	State string
	// Layout is where the stages read and write (from the vars).
	Layout Layout
	// Stages in declaration order.
	Stages []*Node
	// Artifacts name the outputs the closing summary points at; values
	// are paths or globs (the last match in lexical order is shown).
	Artifacts []KV
}

// KV is one ordered key/value pair of a YAML mapping.
type KV struct {
	Key   string
	Value string
}

// Node is one stage of a config: its typed value, what it reads and
// writes on the config's layout, and the stages it needs (derived).
type Node struct {
	Name  string
	Stage Stage
	IO    IO
	// Needs are the stages that write what this one reads, in
	// declaration order.
	Needs []string
	// Line is the line of the stage's section.
	Line int
}

// rawConfig mirrors the YAML document.
type rawConfig struct {
	Vars      yaml.Node `yaml:"vars"`
	State     string    `yaml:"state"`
	Stages    yaml.Node `yaml:"stages"`
	Artifacts yaml.Node `yaml:"artifacts"`
}

// Load reads and parses the config at path; overrides replace (or add)
// vars before expansion, e.g. {"as_of": "2024-06-30"}.
func Load(path string, overrides map[string]string, reg Registry) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline config: %w", err)
	}
	c, err := Parse(b, overrides, reg)
	if err != nil {
		return nil, fmt.Errorf("pipeline config %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse parses a config document; see Load.
func Parse(doc []byte, overrides map[string]string, reg Registry) (*Config, error) {
	var raw rawConfig
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	c := &Config{}
	vars, err := mapping(&raw.Vars, "vars")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, kv := range vars {
		if v, ok := overrides[kv.Key]; ok {
			kv.Value = v
		}
		seen[kv.Key] = true
		c.Vars = append(c.Vars, kv)
	}
	var extra []string
	for k := range overrides {
		if !seen[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		// A misspelled override would be ignored and the run would use
		// the default silently: refuse it, naming the nearest var.
		sort.Strings(extra)
		names := make([]string, len(vars))
		for i, kv := range vars {
			names[i] = kv.Key
		}
		return nil, fmt.Errorf("override of unknown var %q%s", extra[0], nearest(extra[0], names, "declared var"))
	}
	x, err := newExpander(c.Vars)
	if err != nil {
		return nil, err
	}
	for i := range c.Vars {
		c.Vars[i].Value = x.vals[c.Vars[i].Key]
	}
	if c.State, err = x.expand(raw.State, "state"); err != nil {
		return nil, err
	}
	if c.State == "" {
		return nil, errors.New("state: the run-manifest directory is required")
	}
	arts, err := mapping(&raw.Artifacts, "artifacts")
	if err != nil {
		return nil, err
	}
	for _, kv := range arts {
		v, err := x.expand(kv.Value, "artifacts."+kv.Key)
		if err != nil {
			return nil, err
		}
		c.Artifacts = append(c.Artifacts, KV{kv.Key, v})
	}
	c.Layout = layoutFromVars(c.Var)
	if err := c.parseStages(&raw.Stages, x, reg); err != nil {
		return nil, err
	}
	if err := c.derive(); err != nil {
		return nil, err
	}
	if _, err := c.Order(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) parseStages(n *yaml.Node, x *expander, reg Registry) error {
	if n.Kind == 0 {
		return errors.New("stages: none declared")
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: stages: want a mapping of stage name to stage", n.Line)
	}
	names := make([]string, len(reg))
	for i, k := range reg {
		names[i] = k.Name
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, body := n.Content[i].Value, n.Content[i+1]
		line := n.Content[i].Line
		if c.Stage(name) != nil {
			return fmt.Errorf("line %d: stage %q declared twice", line, name)
		}
		kind, ok := reg.lookup(name)
		if !ok {
			return fmt.Errorf("line %d: unknown stage %q%s", line, name, nearest(name, names, "stage"))
		}
		st := kind.New()
		if body.Kind != 0 && !(body.Kind == yaml.ScalarNode && body.Tag == "!!null") {
			if body.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: stage %s: want a mapping of its settings", body.Line, name)
			}
			if err := x.expandNode(body, "stage "+name); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			if err := decodeStrict(body, st, "stage "+name); err != nil {
				return err
			}
		}
		if ch, ok := st.(Checker); ok {
			if err := ch.Check(c.Layout); err != nil {
				return fmt.Errorf("line %d: stage %s: %w", line, name, err)
			}
		}
		c.Stages = append(c.Stages, &Node{Name: name, Stage: st, IO: st.IO(c.Layout), Line: line})
	}
	return nil
}

// expandNode expands ${var} in every scalar value below n (keys are
// left as they are). An expanded plain scalar is re-resolved, so
// `loans: ${loans}` decodes into an int.
func (x *expander) expandNode(n *yaml.Node, where string) error {
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := x.expand(n.Value, where)
		if err != nil {
			return err
		}
		if v != n.Value {
			n.Value = v
			if n.Style == 0 {
				n.Tag = ""
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := x.expandNode(n.Content[i+1], where+"."+n.Content[i].Value); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for _, e := range n.Content {
			if err := x.expandNode(e, where); err != nil {
				return err
			}
		}
	}
	return nil
}

// nearest returns ` (nearest <what>: "x")` for the name in names closest
// to s by edit distance, or "" when names is empty.
func nearest(s string, names []string, what string) string {
	best, bestD := "", -1
	for _, n := range names {
		if d := editDistance(s, n); bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	if bestD < 0 {
		return ""
	}
	return fmt.Sprintf(" (nearest %s: %q)", what, best)
}

// editDistance is the Levenshtein distance between a and b in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// CheckInside refuses a config that writes outside dir (normally the
// working directory): the state directory and every path a stage writes
// must lie within it, so a `--set root=../../..` cannot write outside the
// project without the caller's explicit consent.
func (c *Config) CheckInside(dir string) error {
	base, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	check := func(p, what string) error {
		if p == "" {
			return nil
		}
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(base, p)
		}
		rel, err := filepath.Rel(base, filepath.Clean(abs))
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%s %s is outside the working directory %s (pass --allow-outside to write there)", what, p, base)
		}
		return nil
	}
	if err := check(c.State, "state"); err != nil {
		return err
	}
	for _, st := range c.Stages {
		for _, o := range st.IO.Writes {
			if err := check(o, "stage "+st.Name+" output"); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stage returns the stage called name, or nil.
func (c *Config) Stage(name string) *Node {
	for _, s := range c.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Var returns the expanded value of var name.
func (c *Config) Var(name string) string {
	for _, kv := range c.Vars {
		if kv.Key == name {
			return kv.Value
		}
	}
	return ""
}

func mapping(n *yaml.Node, where string) ([]KV, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: %s: want a mapping", n.Line, where)
	}
	var out []KV
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: %s.%s: want a scalar", v.Line, where, n.Content[i].Value)
		}
		out = append(out, KV{n.Content[i].Value, v.Value})
	}
	return out, nil
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([a-z]+)([+-][0-9]+)?)?\}`)

// expander substitutes ${name} with the value of var name; vars may refer
// to vars declared before them. ${name|month} is the YYYY-MM of a
// YYYY-MM-DD (or YYYY-MM) value and ${name|month-6} the month six months
// earlier (month+N later), so month ranges follow an --as-of override.
type expander struct{ vals map[string]string }

func newExpander(vars []KV) (*expander, error) {
	x := &expander{vals: map[string]string{}}
	for _, kv := range vars {
		v, err := x.expand(kv.Value, "vars."+kv.Key)
		if err != nil {
			return nil, err
		}
		x.vals[kv.Key] = v
	}
	return x, nil
}

func (x *expander) expand(s, where string) (string, error) {
	var firstErr error
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		name, filter, offset := sub[1], sub[2], sub[3]
		v, ok := x.vals[name]
		if !ok {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: unknown var ${%s}", where, name)
			}
			return ""
		}
		if filter == "" {
			return v
		}
		r, err := applyFilter(v, filter, offset)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %s: %w", where, m, err)
		}
		return r
	})
	return out, firstErr
}

// applyFilter implements ${var|month[+-N]}.
func applyFilter(v, filter, offset string) (string, error) {
	if filter != "month" {
		return "", fmt.Errorf("unknown filter %q (want month, month-N or month+N)", filter)
	}
	var t time.Time
	var err error
	if len(v) == len("2006-01") {
		t, err = time.Parse("2006-01", v)
	} else {
		t, err = time.Parse(time.DateOnly, v)
	}
	if err != nil {
		return "", fmt.Errorf("%q is not a date YYYY-MM-DD or month YYYY-MM", v)
	}
	n := 0
	if offset != "" {
		if n, err = strconv.Atoi(offset); err != nil {
			return "", err
		}
	}
	// Month arithmetic on the first of the month never clamps.
	return time.Date(t.Year(), t.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC).Format("2006-01"), nil
}
