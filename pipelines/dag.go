package pipelines

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// derive sets each stage's Needs from the declared reads and writes: a
// stage needs every other stage that writes a path it reads, a path
// inside one it reads or a directory above one. Two stages writing
// overlapping paths are refused (the later commit would replace the
// earlier's).
func (c *Config) derive() error {
	for i, a := range c.Stages {
		for _, b := range c.Stages[i+1:] {
			for _, wa := range a.IO.Writes {
				for _, wb := range b.IO.Writes {
					if overlaps(wa, wb) {
						return fmt.Errorf("stages %s and %s both write %s", a.Name, b.Name, shorter(wa, wb))
					}
				}
			}
		}
	}
	for _, s := range c.Stages {
		s.Needs = nil
		for _, w := range c.Stages {
			if w == s {
				continue
			}
			if reads(s.IO.Reads, w.IO.Writes) {
				s.Needs = append(s.Needs, w.Name)
			}
		}
	}
	return nil
}

func reads(rs, ws []string) bool {
	for _, r := range rs {
		for _, w := range ws {
			if overlaps(r, w) {
				return true
			}
		}
	}
	return false
}

// overlaps reports whether paths a and b are the same or one is inside
// the other.
func overlaps(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	return a == b || under(a, b) || under(b, a)
}

func shorter(a, b string) string {
	if len(a) <= len(b) {
		return a
	}
	return b
}

// Order returns the stages in dependency order: every stage after the
// stages it needs, ties kept in declaration order. It reports cycles.
func (c *Config) Order() ([]*Node, error) {
	done := map[string]bool{}
	var out []*Node
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
			return nil, fmt.Errorf("stages %s form a cycle (each reads what another writes)", strings.Join(left, ", "))
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

// WritePlan prints the DAG without running anything: each stage in run
// order with the stages it needs and the paths it reads and writes
// (relative to base when inside it).
func (c *Config) WritePlan(w io.Writer, base string) error {
	order, err := c.Order()
	if err != nil {
		return err
	}
	rel := func(ps []string) string {
		if len(ps) == 0 {
			return "-"
		}
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p
			if base != "" {
				if r, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(r, "..") {
					out[i] = r
				}
			}
		}
		return strings.Join(out, " ")
	}
	for i, s := range order {
		needs := "-"
		if len(s.Needs) > 0 {
			needs = strings.Join(s.Needs, " ")
		}
		if _, err := fmt.Fprintf(w, "%d. %s\n   needs:  %s\n   reads:  %s\n   writes: %s\n", i+1, s.Name, needs, rel(s.IO.Reads), rel(s.IO.Writes)); err != nil {
			return err
		}
		if s.IO.OnlyIfAbsent != "" {
			fmt.Fprintf(w, "   only if absent: %s\n", rel([]string{s.IO.OnlyIfAbsent}))
		}
	}
	return nil
}
