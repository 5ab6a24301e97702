package pipelines

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A misspelled --set var, an unknown key in a stage or a step are errors
// naming the culprit and the nearest valid name (issue 12, defect 13:
// `--set rooot=x` used to be ignored and the run used the default root).
func TestParseRefusesUnknownNames(t *testing.T) {
	doc := "vars:\n  root: demo\n  lake: ${root}/lake\n  loans: 5\nstate: s\nstages:\n  a: {outputs: ['${lake}/a'], steps: [{cmd: x}]}\n"
	for _, tc := range []struct {
		name, doc string
		sets      map[string]string
		want      []string
	}{
		{"misspelled var", doc, map[string]string{"rooot": "x"}, []string{`"rooot"`, `nearest declared var: "root"`}},
		{"misspelled var, another", doc, map[string]string{"root": "x", "lons": "9"}, []string{`"lons"`, `"loans"`}},
		{"unknown stage key", "state: s\nstages:\n  a:\n    output: [x]\n    steps: [{cmd: x}]\n", nil, []string{"line 4", "stage a", `"output"`, `nearest key: "outputs"`}},
		{"unknown stage key beside a valid one", "state: s\nstages:\n  a: {step: [{cmd: x}], steps: [{cmd: x}]}\n", nil, []string{`"step"`, `"steps"`}},
		{"unknown step key", "state: s\nstages:\n  a:\n    steps:\n      - cmd: x\n        arg: {a: 1}\n", nil, []string{"steps[0]", `"arg"`, `"args"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), tc.sets)
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
	if _, err := Parse([]byte(doc), map[string]string{"root": "elsewhere"}); err != nil {
		t.Fatalf("a declared var: %v", err)
	}
}

// The shipped config writes only under the working directory unless told
// otherwise: `--set root=../../..`, an absolute root elsewhere or a lake
// moved out are refused by CheckInside, with the path and the flag that
// allows it.
func TestCheckInside(t *testing.T) {
	wd := t.TempDir()
	for _, tc := range []struct {
		sets map[string]string
		want string // "" = accepted
	}{
		{map[string]string{"root": "demo"}, ""},
		{map[string]string{"root": "a/../b"}, ""},
		{map[string]string{"root": "../../.."}, "outside the working directory"},
		{map[string]string{"root": ".."}, "outside the working directory"},
		{map[string]string{"root": "/tmp/elsewhere"}, "/tmp/elsewhere"},
		{map[string]string{"lake": "../lake"}, "--allow-outside"},
		{map[string]string{"models": "/models"}, "/models"},
		{map[string]string{"reports": "x/../../r"}, "outside"},
	} {
		c, err := Load("default.yaml", tc.sets)
		if err != nil {
			t.Fatal(err)
		}
		err = c.CheckInside(wd)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("--set %v: err = %v, want %q", tc.sets, err, tc.want)
		}
	}
	// An absolute path inside the working directory is inside.
	c, err := Load("default.yaml", map[string]string{"root": filepath.Join(wd, "demo")})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckInside(wd); err != nil {
		t.Errorf("absolute root inside: %v", err)
	}
	if _, err := os.Stat("default.yaml"); err != nil {
		t.Fatal(err)
	}
}
