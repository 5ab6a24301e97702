package pipelines

import (
	"strings"
	"testing"
)

// A misspelled --set var, an unknown key in a stage or a step are errors
// naming the culprit and the nearest valid name (issue 12, defect 13:
// `--set rooot=x` used to be ignored and the run used the default root).
func TestParseRefusesUnknownNames(t *testing.T) {
	doc := "vars:\n  root: demo\n  lake: ${root}/lake\n  loans: 5\nstate: s\nstages:\n  a: {out: '${lake}/a/x'}\n"
	for _, tc := range []struct {
		name, doc string
		sets      map[string]string
		want      []string
	}{
		{"misspelled var", doc, map[string]string{"rooot": "x"}, []string{`"rooot"`, `nearest declared var: "root"`}},
		{"misspelled var, another", doc, map[string]string{"root": "x", "lons": "9"}, []string{`"lons"`, `"loans"`}},
		{"unknown stage key", "state: s\nstages:\n  a:\n    outs: x\n    in: [y]\n", nil, []string{"line 4", "stage a", `"outs"`, `nearest key: "out"`}},
		{"unknown stage key beside a valid one", "state: s\nstages:\n  a: {out: x, inn: [y]}\n", nil, []string{`"inn"`, `"in"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), tc.sets, fakeRegistry())
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to mention %s", err, w)
				}
			}
		})
	}
	if _, err := Parse([]byte(doc), map[string]string{"root": "elsewhere"}, fakeRegistry()); err != nil {
		t.Fatalf("a declared var: %v", err)
	}
}
