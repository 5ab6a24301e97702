package pipelines_test

import (
	"fmt"

	"qiandun/pipelines"
)

// A config declares vars, the run-manifest directory and the stages; each
// step becomes a command line for one subcommand.
func ExampleParse() {
	doc := `
vars:
  root: demo
  lake: ${root}/lake
  as_of: 2023-12-31
state: ${lake}/_manifests/run
stages:
  perf:
    outputs: ["${lake}/perf"]
    steps:
      - cmd: perf
        args: {lake: "${lake}", as-of: "${as_of}"}
  features:
    needs: [perf]
    steps:
      - cmd: features
        args: {lake: "${lake}", set: bcard, from: "${as_of|month-11}", to: "${as_of|month}"}
`
	c, err := pipelines.Parse([]byte(doc), map[string]string{"root": "/data/book"})
	if err != nil {
		fmt.Println(err)
		return
	}
	order, _ := c.Order()
	for _, s := range order {
		for _, st := range s.Steps {
			fmt.Println(s.Name, st.Cmd, st.Argv())
		}
	}
	// Output:
	// perf perf [--lake=/data/book/lake --as-of=2023-12-31]
	// features features [--lake=/data/book/lake --set=bcard --from=2023-01 --to=2023-12]
}
