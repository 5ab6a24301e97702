package pipelines_test

import (
	"context"
	"testing"

	"qiandun/pipelines"
)

type anyStage struct {
	In  []string `yaml:"in"`
	Out []string `yaml:"out"`
}

func (s *anyStage) IO(pipelines.Layout) pipelines.IO {
	return pipelines.IO{Reads: s.In, Writes: s.Out}
}
func (s *anyStage) Run(context.Context, *pipelines.Env) error { return nil }

// FuzzParse: parsing any pipeline config never panics, and a config that
// parses can be ordered and walked (each stage's upstream and
// downstream). The seed corpus, in testdata/fuzz/FuzzParse, starts from
// pipelines/default.yaml.
func FuzzParse(f *testing.F) {
	reg := pipelines.Registry{}
	for _, n := range []string{"gen", "ingest", "perf", "features", "a", "b"} {
		reg = append(reg, pipelines.Kind{Name: n, New: func() pipelines.Stage { return &anyStage{} }})
	}
	f.Add([]byte("vars: {root: demo}\nstate: ${root}/s\nstages: {}\n"), "")
	f.Add([]byte("vars: {root: demo}\nstate: ${root}/s\nstages:\n  a: {in: [x/y], out: [x/z]}\n  b: {in: [x/z], out: [w]}\n"), "r")
	f.Fuzz(func(t *testing.T, doc []byte, root string) {
		var over map[string]string
		if root != "" {
			over = map[string]string{"root": root}
		}
		c, err := pipelines.Parse(doc, over, reg)
		if err != nil {
			return
		}
		order, err := c.Order()
		if err != nil {
			return
		}
		for _, s := range order {
			c.Upstream(s.Name)
			c.Downstream(s.Name)
		}
	})
}
