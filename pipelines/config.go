// Package pipelines runs qiandun's stages as a DAG declared in a YAML
// config: it orders the stages by their needs, skips a stage whose config
// section and upstream outputs are unchanged since its last successful
// run, and records why it ran or skipped in a run manifest per stage.
//
// The package knows nothing about what a stage does: each step of a stage
// names a command (a function the caller provides, in qiandun the
// subcommands of bin/qiandun) and the flags to call it with, so the DAG and
// skip logic can be tested with fake stages and no DuckDB.
package pipelines

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	// Stages in declaration order.
	Stages []*Stage
	// Artifacts name the outputs the closing summary points at; values
	// are paths or globs (the last match in lexical order is shown).
	Artifacts []KV
}

// KV is one ordered key/value pair of a YAML mapping.
type KV struct {
	Key   string
	Value string
}

// Stage is one node of the DAG.
type Stage struct {
	Name string `json:"name"`
	// Needs are the stages whose outputs this one reads.
	Needs []string `json:"needs,omitempty"`
	// OnlyIfAbsent, when set, is a path: the stage runs only when it does
	// not exist (gen writes the demo book only when no raw data is there),
	// unless the stage is named by --only or --from.
	OnlyIfAbsent string `json:"only_if_absent,omitempty"`
	// Outputs are the files, directories or globs the stage writes; their
	// contents are the stage's output fingerprint that downstream stages
	// depend on.
	Outputs []string `json:"outputs,omitempty"`
	// Manifests are the stage's own manifests (JSON with outputs[].rows
	// and counts) the closing summary takes row counts from.
	Manifests []string `json:"manifests,omitempty"`
	// Steps run in order; the stage succeeds when all of them do.
	Steps []Step `json:"steps"`
}

// Step is one call of a command with flags.
type Step struct {
	Name       string   `json:"name,omitempty"`
	Cmd        string   `json:"cmd"`
	Args       []Arg    `json:"args,omitempty"`
	Positional []string `json:"positional,omitempty"`
}

// Arg is one flag of a step: --Key=Value, or --Key=v1,v2 for a List. A
// flag given a YAML mapping in the config (e.g. the score stage's rules
// file) is Inline: the runner writes the mapping, as YAML, to the file
// Value names (under the state directory) before the step runs.
type Arg struct {
	Key    string   `json:"k"`
	Value  string   `json:"v,omitempty"`
	List   []string `json:"l,omitempty"`
	Inline string   `json:"inline,omitempty"`
}

// Argv returns the step's command-line arguments: flags in declaration
// order as --key=value (a list joined with commas), then positionals.
func (s Step) Argv() []string {
	out := make([]string, 0, len(s.Args)+len(s.Positional))
	for _, a := range s.Args {
		v := a.Value
		if a.List != nil {
			v = strings.Join(a.List, ",")
		}
		out = append(out, "--"+a.Key+"="+v)
	}
	return append(out, s.Positional...)
}

// rawConfig mirrors the YAML document.
type rawConfig struct {
	Vars      yaml.Node `yaml:"vars"`
	State     string    `yaml:"state"`
	Stages    yaml.Node `yaml:"stages"`
	Artifacts yaml.Node `yaml:"artifacts"`
}

type rawStage struct {
	Needs        []string  `yaml:"needs"`
	OnlyIfAbsent string    `yaml:"only_if_absent"`
	Outputs      []string  `yaml:"outputs"`
	Manifests    []string  `yaml:"manifests"`
	Steps        []rawStep `yaml:"steps"`
}

type rawStep struct {
	Name       string    `yaml:"name"`
	Cmd        string    `yaml:"cmd"`
	Args       yaml.Node `yaml:"args"`
	Positional []string  `yaml:"positional"`
}

// Load reads and parses the config at path; overrides replace (or add)
// vars before expansion, e.g. {"as_of": "2024-06-30"}.
func Load(path string, overrides map[string]string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline config: %w", err)
	}
	c, err := Parse(b, overrides)
	if err != nil {
		return nil, fmt.Errorf("pipeline config %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Parse parses a config document; see Load.
func Parse(doc []byte, overrides map[string]string) (*Config, error) {
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
	if err := c.parseStages(&raw.Stages, x, c.State); err != nil {
		return nil, err
	}
	if _, err := c.Order(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) parseStages(n *yaml.Node, x *expander, state string) error {
	if n.Kind == 0 {
		return errors.New("stages: none declared")
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: stages: want a mapping of stage name to stage", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, body := n.Content[i].Value, n.Content[i+1]
		if c.Stage(name) != nil {
			return fmt.Errorf("line %d: stage %q declared twice", n.Content[i].Line, name)
		}
		if err := checkKeys(body, "stage "+name, stageKeys); err != nil {
			return err
		}
		var rs rawStage
		if err := body.Decode(&rs); err != nil {
			return fmt.Errorf("stage %s: %w", name, err)
		}
		st, err := rs.expand(name, x, state)
		if err != nil {
			return fmt.Errorf("line %d: stage %s: %w", n.Content[i].Line, name, err)
		}
		c.Stages = append(c.Stages, st)
	}
	return nil
}

// The keys a stage section and a step may have (the YAML decoder of a
// sub-node does not refuse unknown fields).
var (
	stageKeys = []string{"needs", "only_if_absent", "outputs", "manifests", "steps"}
	stepKeys  = []string{"name", "cmd", "args", "positional"}
)

// checkKeys refuses a key of mapping n that is not in keys (a misspelled
// key would be ignored silently), and the same for each step of a stage.
func checkKeys(n *yaml.Node, where string, keys []string) error {
	if n.Kind != yaml.MappingNode {
		return nil // the decoder reports the wrong shape
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(keys, k.Value) {
			return fmt.Errorf("line %d: %s: unknown key %q%s", k.Line, where, k.Value, nearest(k.Value, keys, "key"))
		}
		if k.Value == "steps" && n.Content[i+1].Kind == yaml.SequenceNode {
			for j, st := range n.Content[i+1].Content {
				if err := checkKeys(st, fmt.Sprintf("%s: steps[%d]", where, j), stepKeys); err != nil {
					return err
				}
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

// writeArgs are the step flags that name a place a stage writes.
var writeArgs = []string{"out", "lake", "raw", "models"}

// CheckInside refuses a config that writes outside dir (normally the
// working directory): the state directory, every stage output and every
// out/lake/raw/models flag must lie within it, so a `--set root=../../..`
// cannot write outside the project without the caller's explicit consent.
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
		for _, o := range st.Outputs {
			if err := check(o, "stage "+st.Name+" output"); err != nil {
				return err
			}
		}
		for _, s := range st.Steps {
			for _, a := range s.Args {
				if slices.Contains(writeArgs, a.Key) {
					if err := check(a.Value, "stage "+st.Name+" --"+a.Key); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func (rs rawStage) expand(name string, x *expander, state string) (*Stage, error) {
	st := &Stage{Name: name, Needs: rs.Needs}
	var err error
	if st.OnlyIfAbsent, err = x.expand(rs.OnlyIfAbsent, "only_if_absent"); err != nil {
		return nil, err
	}
	if st.Outputs, err = x.expandAll(rs.Outputs, "outputs"); err != nil {
		return nil, err
	}
	if st.Manifests, err = x.expandAll(rs.Manifests, "manifests"); err != nil {
		return nil, err
	}
	if len(rs.Steps) == 0 {
		return nil, errors.New("no steps")
	}
	for i, r := range rs.Steps {
		where := fmt.Sprintf("steps[%d]", i)
		if r.Cmd == "" {
			return nil, fmt.Errorf("%s: cmd is required", where)
		}
		s := Step{Name: r.Name, Cmd: r.Cmd}
		if s.Positional, err = x.expandAll(r.Positional, where+".positional"); err != nil {
			return nil, err
		}
		if r.Args.Kind != 0 && r.Args.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: %s.args: want a mapping of flag to value", r.Args.Line, where)
		}
		for j := 0; j+1 < len(r.Args.Content); j += 2 {
			k, v := r.Args.Content[j].Value, r.Args.Content[j+1]
			a := Arg{Key: k}
			if v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			switch v.Kind {
			case yaml.ScalarNode:
				if a.Value, err = x.expand(v.Value, where+".args."+k); err != nil {
					return nil, err
				}
			case yaml.MappingNode:
				nv := *v
				nv.Anchor = ""
				b, err := yaml.Marshal(&nv)
				if err != nil {
					return nil, fmt.Errorf("%s.args.%s: %w", where, k, err)
				}
				if a.Inline, err = x.expand(string(b), where+".args."+k); err != nil {
					return nil, err
				}
				a.Value = filepath.Join(state, "inline", fmt.Sprintf("%s-%d-%s.yaml", name, i+1, k))
			case yaml.SequenceNode:
				a.List = []string{}
				for _, e := range v.Content {
					if e.Kind != yaml.ScalarNode {
						return nil, fmt.Errorf("line %d: %s.args.%s: want scalars", e.Line, where, k)
					}
					ev, err := x.expand(e.Value, where+".args."+k)
					if err != nil {
						return nil, err
					}
					a.List = append(a.List, ev)
				}
			default:
				return nil, fmt.Errorf("line %d: %s.args.%s: want a scalar or a list", v.Line, where, k)
			}
			s.Args = append(s.Args, a)
		}
		st.Steps = append(st.Steps, s)
	}
	return st, nil
}

// Stage returns the stage called name, or nil.
func (c *Config) Stage(name string) *Stage {
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

// Order returns the stages in dependency order: every stage after the
// stages it needs, ties kept in declaration order. It reports unknown
// needs and cycles.
func (c *Config) Order() ([]*Stage, error) {
	for _, s := range c.Stages {
		for _, d := range s.Needs {
			if c.Stage(d) == nil {
				return nil, fmt.Errorf("stage %s needs unknown stage %q", s.Name, d)
			}
		}
	}
	done := map[string]bool{}
	var out []*Stage
	for len(out) < len(c.Stages) {
		progressed := false
		for _, s := range c.Stages {
			if done[s.Name] {
				continue
			}
			ready := true
			for _, d := range s.Needs {
				if !done[d] {
					ready = false
					break
				}
			}
			if ready {
				done[s.Name] = true
				out = append(out, s)
				progressed = true
				break // restart so declaration order decides ties
			}
		}
		if !progressed {
			var left []string
			for _, s := range c.Stages {
				if !done[s.Name] {
					left = append(left, s.Name)
				}
			}
			return nil, fmt.Errorf("stages %s form a cycle", strings.Join(left, ", "))
		}
	}
	return out, nil
}

// Downstream returns name and every stage that transitively needs it.
func (c *Config) Downstream(name string) map[string]bool {
	set := map[string]bool{name: true}
	for changed := true; changed; {
		changed = false
		for _, s := range c.Stages {
			if set[s.Name] {
				continue
			}
			for _, d := range s.Needs {
				if set[d] {
					set[s.Name] = true
					changed = true
					break
				}
			}
		}
	}
	return set
}

// Upstream returns name and every stage it transitively needs.
func (c *Config) Upstream(name string) map[string]bool {
	set := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if set[n] {
			return
		}
		set[n] = true
		if s := c.Stage(n); s != nil {
			for _, d := range s.Needs {
				visit(d)
			}
		}
	}
	visit(name)
	return set
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

func (x *expander) expandAll(ss []string, where string) ([]string, error) {
	if ss == nil {
		return nil, nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		v, err := x.expand(s, where)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
