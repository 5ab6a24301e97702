package stages

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"qiandun/data/schema"
	"qiandun/pipelines"
)

const defaultConfig = "../pipelines/default.yaml"

func load(t *testing.T, sets map[string]string) *pipelines.Config {
	t.Helper()
	c, err := pipelines.Load(defaultConfig, sets, Registry())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The shipped config parses into the typed stages; the order the runner
// derives from their reads and writes is the real one: the A-card, its
// scores of every application, the B-card snapshots that read them, the
// B-card, then scoring.
func TestDefaultConfig(t *testing.T) {
	c := load(t, map[string]string{"root": "x"})
	order, err := c.Order()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range order {
		got = append(got, s.Name)
	}
	want := []string{"gen", "ingest", "perf", "features", "train_acard", "score_acard", "features_bcard", "train_bcard", "score", "warn", "repair", "bureau", "disclose", "reconcile", "report"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	needs := map[string][]string{
		"ingest":         {"gen"},
		"repair":         {"ingest"},
		"train_acard":    {"perf", "features"},
		"score_acard":    {"features", "train_acard"},
		"features_bcard": {"ingest", "perf", "score_acard"},
		"train_bcard":    {"perf", "features_bcard"},
		"score":          {"features", "train_acard", "features_bcard", "train_bcard"},
	}
	for n, w := range needs {
		if g := c.Stage(n).Needs; !reflect.DeepEqual(g, w) {
			t.Errorf("%s needs %v, want %v", n, g, w)
		}
	}
	if c.State != "x/lake/_manifests/run" || c.Stage("gen").IO.OnlyIfAbsent != "x/raw" {
		t.Fatalf("state %q, gen only_if_absent %q", c.State, c.Stage("gen").IO.OnlyIfAbsent)
	}
	fb := c.Stage("features_bcard").Stage.(*Features)
	if fb.Set != "bcard" || fb.From != "2022-07" || fb.To != "2023-06" || !reflect.DeepEqual(fb.Also, []string{"2023-12"}) {
		t.Fatalf("features_bcard = %+v", fb)
	}
	if g := c.Stage("gen").Stage.(*Gen); g.Loans != 50000 || g.Months != 36 {
		t.Fatalf("gen = %+v", g)
	}
	// The ingest table list is schema's; the features read all of it
	// but the custody tables.
	if w := c.Stage("ingest").IO.Writes; len(w) != len(schema.Tables()) || w[0] != "x/lake/applications" {
		t.Fatalf("ingest writes %v", w)
	}
	for _, r := range c.Stage("features").IO.Reads {
		if strings.HasSuffix(r, "/investments") || strings.HasSuffix(r, "/custody_transactions") {
			t.Fatalf("features reads %s", r)
		}
	}
}

// An unknown key in a stage's section is an error naming the key, the
// stage and the line, also inside a nested block.
func TestDefaultConfigUnknownKey(t *testing.T) {
	b, err := os.ReadFile(defaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"    oot_months: 3        # latest observation months held out", "    oot_month: 3", `stage train_bcard: unknown key "oot_month" (nearest key: "oot_months")`},
		{"      grade_pd: [0.02, 0.05, 0.10, 0.20]", "      grade_pds: [0.02]", `stage score.rules: unknown key "grade_pds"`},
		{"        min_pd: 0.3 ", "        min_pdd: 0.3 ", `stage warn.config.thresholds: unknown key "min_pdd"`},
		{"    formats: [pboc, baihang]", "    formats: [pboc, baihang]\n    format: pboc", `stage bureau: unknown key "format" (nearest key: "formats")`},
	} {
		doc := strings.Replace(string(b), tc.from, tc.to, 1)
		if doc == string(b) {
			t.Fatalf("%q not in default.yaml", tc.from)
		}
		_, err := pipelines.Parse([]byte(doc), nil, Registry())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "line ") {
			t.Errorf("err = %v, want it to mention %s and the line", err, tc.want)
		}
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
		err := load(t, tc.sets).CheckInside(wd)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("--set %v: err = %v, want %q", tc.sets, err, tc.want)
		}
	}
	// An absolute path inside the working directory is inside.
	if err := load(t, map[string]string{"root": filepath.Join(wd, "demo")}).CheckInside(wd); err != nil {
		t.Errorf("absolute root inside: %v", err)
	}
}

// Every registered stage declares what it writes on the layout of the
// shipped config, and no two write the same path (the runner refuses
// that): each output has one owner.
func TestRegistryWritesDisjoint(t *testing.T) {
	c := load(t, map[string]string{"root": "r"})
	if len(c.Stages) != len(Registry()) {
		t.Fatalf("default.yaml declares %d stages, the registry has %d", len(c.Stages), len(Registry()))
	}
	owner := map[string]string{}
	for _, s := range c.Stages {
		if len(s.IO.Writes) == 0 {
			t.Errorf("stage %s declares no writes", s.Name)
		}
		for _, w := range s.IO.Writes {
			if o, ok := owner[w]; ok {
				t.Errorf("%s written by %s and %s", w, o, s.Name)
			}
			owner[w] = s.Name
		}
	}
	var b bytes.Buffer
	if err := c.WritePlan(&b, "r"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "6. score_acard\n   needs:  features train_acard\n   reads:  models/acard lake/features/acard\n   writes: lake/scores_acard\n") {
		t.Fatalf("plan:\n%s", b.String())
	}
}
