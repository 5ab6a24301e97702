package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Stage is one typed node of the DAG: a config struct (its section of the
// pipeline YAML is decoded into it, unknown keys refused), the paths it
// reads and writes on a Layout, and the work. The runner orders stages by
// their declared reads and writes; a CLI subcommand builds the same value
// from its flags.
type Stage interface {
	// IO declares what the stage reads and writes, resolved on l.
	IO(l Layout) IO
	// Run does the work; its outputs are committed through
	// internal/durable before it returns nil.
	Run(ctx context.Context, env *Env) error
}

// Checker is a Stage that validates its config without writing anything
// (it may read, e.g. a named model): the parser calls it on every stage of
// a config, and a CLI command before it takes the lake's writer lock, so
// a refused command creates nothing.
type Checker interface {
	Check(l Layout) error
}

// IO is what a stage reads and writes.
type IO struct {
	// Reads are files or directories the stage reads; a stage needs every
	// stage that writes one of them (or a path inside or above one).
	Reads []string `json:"reads,omitempty"`
	// Writes are the files or directories the stage's commit replaces;
	// their contents are its output fingerprint for downstream stages.
	// Two stages may not write the same path.
	Writes []string `json:"writes,omitempty"`
	// Manifests are the stage's own manifests (JSON with outputs[].rows
	// or counts; globs allowed), for the row counts of the summary.
	Manifests []string `json:"manifests,omitempty"`
	// OnlyIfAbsent, when set, is a path: the stage runs only when it does
	// not exist (gen writes the demo book only when no raw data is
	// there), unless named by --only or --from.
	OnlyIfAbsent string `json:"only_if_absent,omitempty"`
}

// Layout is where a run reads and writes. The pipeline config's vars raw,
// lake, models, out and reports give it; a CLI command's flags give the
// directories it uses.
type Layout struct {
	Raw    string `json:"raw,omitempty"`    // raw exports
	Lake   string `json:"lake,omitempty"`   // the Parquet lake
	Models string `json:"models,omitempty"` // <models>/<name>/<version>/
	Scores string `json:"scores,omitempty"` // <scores>/<as_of>/ (score runs)
	Warn   string `json:"warn,omitempty"`   // <warn>/<as_of>/ (early-warning lists)
	Bureau string `json:"bureau,omitempty"` // <bureau>/<format>/<month>/<seq>/
	Repair string `json:"repair,omitempty"` // <repair>/<as_of>/ (lost-contact repair lists)
	// Reconcile is the custody reconciliation's root: <reconcile>/<to>/.
	Reconcile string `json:"reconcile,omitempty"`
	// Disclosure is the disclosure site's root: index.html, <month>/.
	Disclosure string `json:"disclosure,omitempty"`
	Reports    string `json:"reports,omitempty"` // HTML pages
}

// Table is the directory of a lake table ("loans", "perf/panel").
func (l Layout) Table(name string) string {
	return filepath.Join(l.Lake, filepath.FromSlash(name))
}

// Tables are the directories of lake tables.
func (l Layout) Tables(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = l.Table(n)
	}
	return out
}

// Manifest is the path of a stage manifest of the lake.
func (l Layout) Manifest(name string) string {
	return filepath.Join(l.Lake, "_manifests", name+".json")
}

// layoutFromVars is the layout of a pipeline config: vars raw, lake,
// models and reports, and out/scores, out/early_warning, out/bureau,
// out/repair, out/disclosure, out/reconcile.
func layoutFromVars(get func(string) string) Layout {
	sub := func(v, s string) string {
		if get(v) == "" {
			return ""
		}
		return filepath.Join(get(v), s)
	}
	return Layout{Raw: get("raw"), Lake: get("lake"), Models: get("models"),
		Scores: sub("out", "scores"), Warn: sub("out", "early_warning"), Bureau: sub("out", "bureau"),
		Repair: sub("out", "repair"), Disclosure: sub("out", "disclosure"),
		Reconcile: sub("out", "reconcile"), Reports: get("reports")}
}

// Env is what a stage runs with.
type Env struct {
	Layout Layout
	Log    *slog.Logger
	// Stdout receives the stage's summary lines; Stderr progress bars.
	Stdout io.Writer
	Stderr io.Writer
}

// Kind is a stage the config may declare: its section name and a
// constructor of the value (with its defaults) the section is decoded
// into.
type Kind struct {
	Name string
	New  func() Stage
}

// Registry is the stages a config may declare.
type Registry []Kind

func (r Registry) lookup(name string) (Kind, bool) {
	for _, k := range r {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// Section is a nested block of a stage's config kept as YAML (for a
// package that reads its own format, e.g. a rules file) while its keys
// are checked against T's yaml fields when the config is parsed.
type Section[T any] struct {
	// Source names where the block came from in errors (a file, or the
	// stage and key of the pipeline config).
	Source string
	node   *yaml.Node
}

// SectionFile reads a YAML file into a Section (empty path: none); its
// keys are checked against T.
func SectionFile[T any](path string) (Section[T], error) {
	if path == "" {
		return Section[T]{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Section[T]{}, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Section[T]{}, fmt.Errorf("%s: %w", path, err)
	}
	s := Section[T]{Source: path}
	if len(doc.Content) == 1 {
		if err := checkNode(doc.Content[0], reflect.TypeFor[T](), path); err != nil {
			return s, err
		}
		s.node = doc.Content[0]
	}
	return s, nil
}

// UnmarshalYAML keeps the block, standalone: aliases replaced by copies
// of what they name and merge keys (<<) by the merged keys the block does
// not set itself.
func (s *Section[T]) UnmarshalYAML(n *yaml.Node) error {
	s.node = standalone(n)
	return nil
}

// standalone is a deep copy of n without anchors, aliases or merge keys.
func standalone(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return standalone(n.Alias)
	}
	c := *n
	c.Anchor = ""
	c.Content = nil
	if n.Kind != yaml.MappingNode {
		for _, e := range n.Content {
			c.Content = append(c.Content, standalone(e))
		}
		return &c
	}
	own := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Tag != "!!merge" {
			own[k.Value] = true
			c.Content = append(c.Content, standalone(k), standalone(n.Content[i+1]))
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Tag != "!!merge" {
			continue
		}
		v := n.Content[i+1]
		srcs := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			srcs = v.Content
		}
		for _, src := range srcs {
			m := standalone(src)
			for j := 0; j+1 < len(m.Content); j += 2 {
				if k := m.Content[j].Value; !own[k] {
					own[k] = true
					c.Content = append(c.Content, m.Content[j], m.Content[j+1])
				}
			}
		}
	}
	return &c
}

// IsSet reports whether the block was given.
func (s Section[T]) IsSet() bool { return s.node != nil }

// YAML returns the block as a YAML document (nil when not given).
func (s Section[T]) YAML() ([]byte, error) {
	if s.node == nil {
		return nil, nil
	}
	return yaml.Marshal(s.node)
}

// MarshalJSON is the block's YAML, so a change of it changes the stage's
// config fingerprint.
func (s Section[T]) MarshalJSON() ([]byte, error) {
	b, err := s.YAML()
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(b))
}

func (Section[T]) keyType() reflect.Type { return reflect.TypeFor[T]() }

type keyTyper interface{ keyType() reflect.Type }

// decodeStrict decodes n into v after checking every key of n against
// v's yaml fields (nested structs, maps, lists and Sections included).
func decodeStrict(n *yaml.Node, v any, where string) error {
	if err := checkNode(n, reflect.TypeOf(v), where); err != nil {
		return err
	}
	if err := n.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

var keyTyperType = reflect.TypeFor[keyTyper]()

// checkNode refuses a mapping key of n that type t has no yaml field for
// (a misspelled key would otherwise be ignored silently).
func checkNode(n *yaml.Node, t reflect.Type, where string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(keyTyperType) {
		t = reflect.Zero(t).Interface().(keyTyper).keyType()
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		if t.Implements(reflect.TypeFor[yaml.Unmarshaler]()) || reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
			return nil // decodes itself
		}
		fields := yamlFields(t)
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		slices.Sort(names)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Tag == "!!merge" { // <<: *anchor (or a list of them): the merged mappings' keys are this mapping's
				if err := checkMerge(n.Content[i+1], t, where); err != nil {
					return err
				}
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("line %d: %s: unknown key %q%s", k.Line, where, k.Value, nearest(k.Value, names, "key"))
			}
			if err := checkNode(n.Content[i+1], ft, where+"."+k.Value); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkNode(n.Content[i+1], t.Elem(), where+"."+n.Content[i].Value); err != nil {
				return err
			}
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && n.Kind == yaml.SequenceNode:
		for i, e := range n.Content {
			if err := checkNode(e, t.Elem(), fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkMerge checks the value of a merge key (<<) of a mapping of type t:
// an alias of a mapping, or a sequence of them.
func checkMerge(v *yaml.Node, t reflect.Type, where string) error {
	if v.Kind == yaml.SequenceNode {
		for _, e := range v.Content {
			if err := checkNode(e, t, where); err != nil {
				return err
			}
		}
		return nil
	}
	return checkNode(v, t, where)
}

// yamlFields maps the yaml key of each field of struct t (inline
// structs flattened) to its type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range yamlFields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}
