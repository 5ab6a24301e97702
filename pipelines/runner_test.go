package pipelines

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"qiandun/internal/lakelock"
)

// fakeConfig is a diamond plus a tail, derived from the stages' reads
// and writes (no stage names another):
//
//	gen -> ingest -> perf -----> train -> report
//	              \-> features -/
//
// Each stage copies its inputs' contents (plus its own salt) into its
// output file, so an output changes exactly when an input or the config
// changes.
const fakeConfig = `
vars:
  root: ROOT
  raw: ${root}/raw
  lake: ${root}/lake
  salt: s1
state: ${lake}/_manifests/run
artifacts:
  report: ${root}/reports/*.txt
stages:
  gen:
    only_if_absent: ${raw}
    out: ${raw}/book.csv
    text: book
  ingest:
    in: ["${raw}/book.csv"]
    out: ${lake}/tables/t.parquet
    salt: ${salt}
    manifest: {path: "${lake}/_manifests/ingest.json", rows: 7}
  perf:
    in: ["${lake}/tables/t.parquet"]
    out: ${lake}/perf/p.parquet
  features:
    in: ["${lake}/tables/t.parquet"]
    out: ${lake}/features/f.parquet
  train:
    in: ["${lake}/perf/p.parquet", "${lake}/features/f.parquet"]
    out: ${root}/models/m.json
  report:
    in: ["${root}/models/m.json"]
    out: ${root}/reports/model.txt
`

// fakeStage writes Text, or the contents of its In files and its Salt,
// to Out; it reads In and writes Out's directory.
type fakeStage struct {
	Absent   bool     `yaml:"-"`
	OnlyIf   string   `yaml:"only_if_absent"`
	In       []string `yaml:"in"`
	Out      string   `yaml:"out"`
	Text     string   `yaml:"text"`
	Salt     string   `yaml:"salt"`
	Manifest struct {
		Path string `yaml:"path"`
		Rows int    `yaml:"rows"`
	} `yaml:"manifest"`
	Rules Section[fakeRules] `yaml:"rules"`
}

type fakeRules struct {
	Cutoffs []int  `yaml:"cutoffs"`
	Name    string `yaml:"name"`
}

func (s *fakeStage) IO(Layout) IO {
	io := IO{Reads: s.In, Writes: []string{filepath.Dir(s.Out)}, OnlyIfAbsent: s.OnlyIf}
	if s.Manifest.Path != "" {
		io.Manifests = []string{s.Manifest.Path}
	}
	return io
}

func (s *fakeStage) Run(context.Context, *Env) error { return errors.New("run through fake.exec") }

// fakeRegistry declares the stages of fakeConfig (and a, b, c for
// small configs), all fakeStage.
func fakeRegistry() Registry {
	var r Registry
	for _, n := range []string{"gen", "ingest", "perf", "features", "train", "report", "score", "a", "b", "c"} {
		r = append(r, Kind{Name: n, New: func() Stage { return &fakeStage{} }})
	}
	return r
}

type fake struct {
	calls  []string // stage outputs written, in order
	fail   map[string]bool
	before func(ctx context.Context, name string) // called before a stage runs
}

func write(out, text string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, []byte(text), 0o644)
}

func (f *fake) exec(ctx context.Context, name string, st Stage, _ *Env) error {
	if f.before != nil {
		f.before(ctx, name)
	}
	s := st.(*fakeStage)
	f.calls = append(f.calls, filepath.Base(s.Out))
	if f.fail[filepath.Base(s.Out)] {
		return errors.New("injected failure")
	}
	if s.Manifest.Path != "" {
		if err := write(s.Manifest.Path, `{"outputs":[{"path":"t","rows":`+strconv.Itoa(s.Manifest.Rows)+`},{"path":"q","rows":3}]}`); err != nil {
			return err
		}
	}
	if s.Text != "" {
		return write(s.Out, s.Text)
	}
	var b bytes.Buffer
	for _, p := range s.In {
		c, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b.Write(c)
		b.WriteByte('|')
	}
	b.WriteString(s.Salt)
	if y, _ := s.Rules.YAML(); y != nil {
		b.Write(y)
	}
	return write(s.Out, b.String())
}

func setup(t *testing.T, root string, overrides map[string]string) *Config {
	t.Helper()
	c, err := Parse([]byte(strings.ReplaceAll(fakeConfig, "ROOT", root)), overrides, fakeRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func run(t *testing.T, c *Config, f *fake, opt Options) (*Summary, error) {
	t.Helper()
	r := &Runner{Config: c, Exec: f.exec}
	return r.Run(context.Background(), opt)
}

func statuses(s *Summary) map[string]string {
	m := map[string]string{}
	for _, r := range s.Results {
		m[r.Stage] = r.Status
	}
	return m
}

func parseFake(doc string) (*Config, error) { return Parse([]byte(doc), nil, fakeRegistry()) }

func TestOrder(t *testing.T) {
	c := setup(t, t.TempDir(), nil)
	order, err := c.Order()
	if err != nil {
		t.Fatal(err)
	}
	got := stageNames(order)
	want := []string{"gen", "ingest", "perf", "features", "train", "report"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	if n := c.Stage("train").Needs; !reflect.DeepEqual(n, []string{"perf", "features"}) {
		t.Fatalf("train needs %v, want [perf features] (from its reads)", n)
	}
	// Declared out of order, the reads and writes still decide; a read of
	// a directory needs the stage writing a file in it.
	c2, err := parseFake(`
state: s
stages:
  b: {in: [d/a], out: d/b/x}
  c: {out: d/c/x}
  a: {in: [d/c/x], out: d/a/x}
`)
	if err != nil {
		t.Fatal(err)
	}
	o2, _ := c2.Order()
	if got := stageNames(o2); !reflect.DeepEqual(got, []string{"c", "a", "b"}) {
		t.Fatalf("order = %v, want [c a b]", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"cycle", "state: s\nstages:\n  a: {in: [d/b/x], out: d/a/x}\n  b: {in: [d/a/x], out: d/b/x}\n", "cycle"},
		{"two writers", "state: s\nstages:\n  a: {out: d/x/a}\n  b: {out: d/x/b}\n", "stages a and b both write d/x"},
		{"unknown stage", "state: s\nstages:\n  trian: {out: x/y}\n", `unknown stage "trian" (nearest stage: "train")`},
		{"unknown var", "state: s\nstages:\n  a: {out: '${nope}'}\n", "unknown var ${nope}"},
		{"unknown key", "state: s\nstages:\n  a: {outt: x}\n", `stage a: unknown key "outt" (nearest key: "out")`},
		{"unknown nested key", "state: s\nstages:\n  a:\n    out: x/y\n    manifest: {path: p, row: 1}\n", `line 5: stage a.manifest: unknown key "row"`},
		{"unknown key in a section", "state: s\nstages:\n  a:\n    out: x/y\n    rules: {cutof: [1]}\n", `stage a.rules: unknown key "cutof" (nearest key: "cutoffs")`},
		{"wrong type", "state: s\nstages:\n  a: {out: x, in: 5}\n", "stage a"},
		{"no state", "stages:\n  a: {out: x}\n", "state"},
		{"duplicate", "state: s\nstages:\n  a: {out: x}\n  a: {out: y}\n", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFake(tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestVarsExpandIntoStages(t *testing.T) {
	c := setup(t, "/r", map[string]string{"salt": "s2"})
	if got := c.Var("lake"); got != "/r/lake" {
		t.Fatalf("lake = %q", got)
	}
	st := c.Stage("ingest").Stage.(*fakeStage)
	if st.Out != "/r/lake/tables/t.parquet" || st.Salt != "s2" || st.Manifest.Rows != 7 || !reflect.DeepEqual(st.In, []string{"/r/raw/book.csv"}) {
		t.Fatalf("ingest = %+v", st)
	}
	if c.Layout.Lake != "/r/lake" || c.Layout.Raw != "/r/raw" {
		t.Fatalf("layout = %+v", c.Layout)
	}
}

// --plan: each stage in run order with what it needs, reads and writes,
// paths relative to the root; nothing is run or created.
func TestWritePlan(t *testing.T) {
	root := filepath.Join(t.TempDir(), "book")
	c := setup(t, root, nil)
	var b bytes.Buffer
	if err := c.WritePlan(&b, root); err != nil {
		t.Fatal(err)
	}
	want := `1. gen
   needs:  -
   reads:  -
   writes: raw
   only if absent: raw
2. ingest
   needs:  gen
   reads:  raw/book.csv
   writes: lake/tables
3. perf
   needs:  ingest
   reads:  lake/tables/t.parquet
   writes: lake/perf
4. features
   needs:  ingest
   reads:  lake/tables/t.parquet
   writes: lake/features
5. train
   needs:  perf features
   reads:  lake/perf/p.parquet lake/features/f.parquet
   writes: models
6. report
   needs:  train
   reads:  models/m.json
   writes: reports
`
	if b.String() != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", b.String(), want)
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the plan created %s: %v", root, err)
	}
}

func TestSkipWhenUnchanged(t *testing.T) {
	root := t.TempDir()
	f := &fake{}
	s, err := run(t, setup(t, root, nil), f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"book.csv", "t.parquet", "p.parquet", "f.parquet", "m.json", "model.txt"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("first run calls = %v, want %v", f.calls, want)
	}
	for _, r := range s.Results {
		if r.Status != StatusRan {
			t.Fatalf("first run: %s %s (%s)", r.Stage, r.Status, r.Reason)
		}
	}
	if s.Results[1].Rows != 10 { // 7 + 3 from the ingest manifest
		t.Fatalf("ingest rows = %d, want 10", s.Results[1].Rows)
	}
	if len(s.Artifacts) != 1 || s.Artifacts[0].Value != filepath.Join(root, "reports/model.txt") {
		t.Fatalf("artifacts = %v", s.Artifacts)
	}

	f2 := &fake{}
	s, err = run(t, setup(t, root, nil), f2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f2.calls) != 0 {
		t.Fatalf("second run re-ran %v", f2.calls)
	}
	for _, r := range s.Results {
		if r.Status != StatusSkipped {
			t.Fatalf("second run: %s %s", r.Stage, r.Status)
		}
	}
	if !strings.Contains(s.Results[0].Reason, "exists") || !strings.Contains(s.Results[2].Reason, "unchanged") {
		t.Fatalf("reasons: %q, %q", s.Results[0].Reason, s.Results[2].Reason)
	}
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil || !strings.Contains(buf.String(), "report:") {
		t.Fatalf("summary: %v\n%s", err, buf.String())
	}
}

func TestRerunOnChange(t *testing.T) {
	root := t.TempDir()
	if _, err := run(t, setup(t, root, nil), &fake{}, Options{}); err != nil {
		t.Fatal(err)
	}
	// A config change in ingest re-runs ingest and, since its output
	// changes, everything downstream.
	f := &fake{}
	s, err := run(t, setup(t, root, map[string]string{"salt": "s2"}), f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"t.parquet", "p.parquet", "f.parquet", "m.json", "model.txt"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("calls after config change = %v, want %v", f.calls, want)
	}
	if r := s.Results[1]; r.Reason != "config section changed" {
		t.Fatalf("ingest reason = %q", r.Reason)
	}
	if r := s.Results[2]; r.Reason != "output of ingest changed" {
		t.Fatalf("perf reason = %q", r.Reason)
	}

	// Ingest re-run alone with a new config: the next full run re-runs
	// what reads ingest's changed output, and only that.
	cfg3 := setup(t, root, map[string]string{"salt": "s3"})
	f = &fake{}
	if _, err := run(t, cfg3, f, Options{Only: "ingest"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"t.parquet"}; !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("--only ingest calls = %v, want %v", f.calls, want)
	}
	f = &fake{}
	s, err = run(t, cfg3, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"p.parquet", "f.parquet", "m.json", "model.txt"}; !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("calls after upstream change = %v, want %v", f.calls, want)
	}
	if st := statuses(s); st["ingest"] != StatusSkipped {
		t.Fatalf("statuses = %v", st)
	}

	// An output damaged by hand re-runs its stage; since the re-run
	// restores identical content, nothing downstream re-runs.
	if err := os.WriteFile(filepath.Join(root, "lake/perf/p.parquet"), []byte("by hand"), 0o644); err != nil {
		t.Fatal(err)
	}
	f = &fake{}
	s, err = run(t, cfg3, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"p.parquet"}; !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("calls after damaged output = %v, want %v", f.calls, want)
	}
	if r := s.Results[2]; r.Reason != "own outputs changed or missing" {
		t.Fatalf("perf reason = %q", r.Reason)
	}

	// A deleted output re-runs its stage.
	if err := os.RemoveAll(filepath.Join(root, "reports")); err != nil {
		t.Fatal(err)
	}
	f = &fake{}
	if _, err := run(t, cfg3, f, Options{}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"model.txt"}; !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("calls after deleted output = %v, want %v", f.calls, want)
	}
}

func TestFromOnlyForce(t *testing.T) {
	root := t.TempDir()
	if _, err := run(t, setup(t, root, nil), &fake{}, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opt  Options
		want []string
	}{
		{"from perf", Options{From: "perf"}, []string{"p.parquet", "m.json", "model.txt"}},
		{"from features", Options{From: "features"}, []string{"f.parquet", "m.json", "model.txt"}},
		{"only train", Options{Only: "train"}, []string{"m.json"}},
		{"only gen", Options{Only: "gen"}, []string{"book.csv"}},
		// --to runs upstream stages only, each still skipped when unchanged.
		{"to train, unchanged", Options{To: "train"}, nil},
		{"to train from features", Options{To: "train", From: "features"}, []string{"f.parquet", "m.json"}},
		// --force re-runs all but gen, whose raw data exists.
		{"force", Options{Force: true}, []string{"t.parquet", "p.parquet", "f.parquet", "m.json", "model.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{}
			if _, err := run(t, setup(t, root, nil), f, tc.opt); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.calls, tc.want) {
				t.Fatalf("calls = %v, want %v", f.calls, tc.want)
			}
		})
	}
	if _, err := run(t, setup(t, root, nil), &fake{}, Options{Only: "nope"}); err == nil {
		t.Fatal("--only with an unknown stage: no error")
	}
}

func TestFailureStopsDownstream(t *testing.T) {
	root := t.TempDir()
	if _, err := run(t, setup(t, root, nil), &fake{}, Options{}); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	model, report := read("models/m.json"), read("reports/model.txt")

	// Change ingest's config so everything downstream would re-run, and
	// make perf fail.
	cfg := setup(t, root, map[string]string{"salt": "s2"})
	f := &fake{fail: map[string]bool{"p.parquet": true}}
	s, err := run(t, cfg, f, Options{})
	if err == nil || !strings.Contains(err.Error(), "stage perf") || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("err = %v, want perf's injected failure", err)
	}
	st := statuses(s)
	want := map[string]string{"gen": StatusSkipped, "ingest": StatusRan, "perf": StatusFailed,
		"features": StatusRan, "train": StatusBlocked, "report": StatusBlocked}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("statuses = %v, want %v", st, want)
	}
	for _, c := range f.calls {
		if c == "m.json" || c == "model.txt" {
			t.Fatalf("downstream of the failure ran: %v", f.calls)
		}
	}
	if read("models/m.json") != model || read("reports/model.txt") != report {
		t.Fatal("outputs downstream of the failure changed")
	}

	// The next run retries perf (its manifest says it failed) and finishes.
	f = &fake{}
	s, err = run(t, cfg, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Results[2]; r.Status != StatusRan || r.Reason != "last run failed" {
		t.Fatalf("perf after failure: %s (%s)", r.Status, r.Reason)
	}
	if want := []string{"p.parquet", "m.json", "model.txt"}; !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("calls = %v, want %v", f.calls, want)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &Runner{Config: setup(t, t.TempDir(), nil), Exec: (&fake{}).exec}
	if _, err := r.Run(ctx, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestMonthFilter(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"${d|month}", "2023-12", ""},
		{"${d|month-6}", "2023-06", ""},
		{"${d|month-17}", "2022-07", ""},
		{"${d|month+1}", "2024-01", ""},
		{"${m|month-2}", "2023-11", ""},
		{"${d|day}", "", "unknown filter"},
		{"${x|month}", "", "not a date"},
	} {
		doc := "vars: {d: 2023-12-31, m: 2024-01, x: soon, v: '" + tc.in + "'}\nstate: s\nstages:\n  a: {out: x/y}\n"
		c, err := parseFake(doc)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got := c.Var("v"); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A nested section (e.g. score's rules) is part of the stage's config:
// changing a value in it re-runs the stage; the same value does not.
func TestSectionChangeReruns(t *testing.T) {
	root := t.TempDir()
	doc := func(cut string) string {
		return `
vars: {root: "` + root + `", cut: "` + cut + `"}
state: ${root}/state
stages:
  score:
    out: ${root}/out/s.txt
    rules:
      cutoffs:
        - ${cut}
        - 600
`
	}
	f := &fake{}
	for i, cut := range []string{"620", "620", "630"} {
		c, err := parseFake(doc(cut))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&Runner{Config: c, Exec: f.exec}).Run(context.Background(), Options{}); err != nil {
			t.Fatal(err)
		}
		if want := []int{1, 1, 2}[i]; len(f.calls) != want {
			t.Fatalf("run %d: stage ran %d times, want %d", i, len(f.calls), want)
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "out", "s.txt"))
	if err != nil || string(b) != "cutoffs:\n    - 630\n    - 600\n" {
		t.Fatalf("rules the stage saw: %q, %v", b, err)
	}
}

// A stage's section may merge another's (<<: *anchor) and set keys of
// its own, as default.yaml's B-card train config is the A-card's with
// method: logistic: the stage sees one standalone block, its own keys
// over the merged ones; a misspelled key beside the merge is refused.
func TestSectionMerge(t *testing.T) {
	root := t.TempDir()
	doc := func(key string) string {
		return `
vars: {root: "` + root + `"}
state: ${root}/state
stages:
  a:
    out: ${root}/a/a.txt
    rules: &r {cutoffs: [620, 600], name: acard}
  b:
    out: ${root}/b/b.txt
    rules:
      <<: *r
      ` + key + `: bcard
`
	}
	c, err := parseFake(doc("name"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Runner{Config: c, Exec: (&fake{}).exec}).Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{
		"a/a.txt": "{cutoffs: [620, 600], name: acard}\n",
		"b/b.txt": "name: bcard\ncutoffs: [620, 600]\n",
	} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil || string(b) != want {
			t.Errorf("%s: the stage saw %q (%v), want %q", f, b, err, want)
		}
	}
	if _, err := parseFake(doc("nme")); err == nil || !strings.Contains(err.Error(), `"nme"`) {
		t.Errorf("a misspelled key beside a merge: err = %v", err)
	}
}

// While one run holds the lake, another refuses to start.
func TestConcurrentRunRefused(t *testing.T) {
	root := t.TempDir()
	c := setup(t, root, nil)
	started, release := make(chan struct{}), make(chan struct{})
	f := &fake{before: func(_ context.Context, name string) {
		if name == "gen" {
			close(started)
			<-release
		}
	}}
	done := make(chan error)
	go func() {
		_, err := (&Runner{Config: c, Exec: f.exec}).Run(context.Background(), Options{})
		done <- err
	}()
	<-started
	_, err := (&Runner{Config: setup(t, root, nil), Exec: (&fake{}).exec}).Run(context.Background(), Options{})
	if !errors.Is(err, lakelock.ErrHeld) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d on host", os.Getpid())) {
		t.Errorf("second run: err = %v, want a lock refusal naming the holder", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, setup(t, root, nil), &fake{}, Options{}); err != nil {
		t.Fatalf("run after the first finished: %v", err)
	}
}

// New code is an input: every stage last run by another version re-runs
// (gen only writes when its raw data is absent, so it stays skipped).
func TestRerunOnCodeVersion(t *testing.T) {
	root := t.TempDir()
	r := &Runner{Config: setup(t, root, nil), Exec: (&fake{}).exec, CodeVersion: "v1"}
	if _, err := r.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	same := &fake{}
	r = &Runner{Config: setup(t, root, nil), Exec: same.exec, CodeVersion: "v1"}
	if _, err := r.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if len(same.calls) != 0 {
		t.Fatalf("same version re-ran %v", same.calls)
	}
	f := &fake{}
	r = &Runner{Config: setup(t, root, nil), Exec: f.exec, CodeVersion: "v2"}
	s, err := r.Run(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"t.parquet", "p.parquet", "f.parquet", "m.json", "model.txt"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("new version ran %v, want %v", f.calls, want)
	}
	if !strings.Contains(s.Results[1].Reason, "code version changed") {
		t.Fatalf("reason %q", s.Results[1].Reason)
	}
}

// The stages of a run take the lake's writer lock again from the context
// the run passes them (no deadlock on the run's own lock), while a writer
// started beside the run, without that context, is refused.
func TestRunPassesItsLockToStages(t *testing.T) {
	root := t.TempDir()
	lakeDir := filepath.Join(root, "lake")
	c := setup(t, root, nil)
	var inner, beside error
	f := &fake{before: func(ctx context.Context, name string) {
		if name != "gen" {
			return
		}
		_, release, err := lakelock.Acquire(ctx, lakeDir, nil)
		if err == nil {
			release()
		}
		inner = err
		_, _, beside = lakelock.Acquire(context.Background(), lakeDir, nil)
	}}
	if _, err := (&Runner{Config: c, Exec: f.exec, Lake: lakeDir}).Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if inner != nil {
		t.Errorf("a stage of the run could not take the run's lock: %v", inner)
	}
	if !errors.Is(beside, lakelock.ErrHeld) {
		t.Errorf("a writer beside the run: err = %v, want ErrHeld", beside)
	}
	// Released with the run.
	_, release, err := lakelock.Acquire(context.Background(), lakeDir, nil)
	if err != nil {
		t.Fatalf("after the run: %v", err)
	}
	release()
}
