package pipelines_test

import (
	"testing"

	"qiandun/pipelines"
)

// FuzzParse: parsing any pipeline config never panics, and a config that
// parses can be ordered and walked (each stage's upstream and downstream,
// each step's command line). The seed corpus, in
// testdata/fuzz/FuzzParse, starts from pipelines/default.yaml.
func FuzzParse(f *testing.F) {
	f.Add([]byte("vars: {root: demo}\nstate: ${root}/s\nstages: {}\n"), "")
	f.Fuzz(func(t *testing.T, doc []byte, root string) {
		var over map[string]string
		if root != "" {
			over = map[string]string{"root": root}
		}
		c, err := pipelines.Parse(doc, over)
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
			for _, st := range s.Steps {
				st.Argv()
			}
		}
	})
}
