package pipelines_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"qiandun/pipelines"
)

// copyStage is a stage: its section's keys are its yaml fields; it
// declares what it reads and writes; Run does the work.
type copyStage struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

func (s *copyStage) IO(l pipelines.Layout) pipelines.IO {
	return pipelines.IO{Reads: []string{l.Table(s.From)}, Writes: []string{l.Table(s.To)}}
}

func (s *copyStage) Run(_ context.Context, env *pipelines.Env) error {
	b, err := os.ReadFile(filepath.Join(env.Layout.Table(s.From), "part-0"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(env.Layout.Table(s.To), "part-0"), b, 0o644)
}

// A config declares vars, the run-manifest directory and each stage's
// settings; the order comes from what the stages read and write.
func ExampleParse() {
	reg := pipelines.Registry{
		{Name: "summary", New: func() pipelines.Stage { return &copyStage{} }},
		{Name: "panel", New: func() pipelines.Stage { return &copyStage{} }},
	}
	doc := `
vars:
  root: demo
  lake: ${root}/lake
state: ${lake}/_manifests/run
stages:
  summary: {from: perf/panel, to: perf/summary}
  panel: {from: loans, to: perf/panel}
`
	c, err := pipelines.Parse([]byte(doc), map[string]string{"root": "/data/book"}, reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	order, _ := c.Order()
	for _, s := range order {
		fmt.Println(s.Name, s.Needs, s.IO.Writes)
	}
	// Output:
	// panel [] [/data/book/lake/perf/panel]
	// summary [panel] [/data/book/lake/perf/summary]
}
