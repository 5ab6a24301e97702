package pipelines

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"qiandun/internal/lakelock"
)

// fakeConfig is a diamond plus a tail:
//
//	gen -> ingest -> perf -----> train -> report
//	              \-> features -/
//
// Each stage copies its inputs' contents (plus its own "salt" arg) into
// its output file, so an output changes exactly when an input or the
// config changes.
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
    outputs: ["${raw}"]
    steps:
      - cmd: write
        args: {out: "${raw}/book.csv", text: book}
  ingest:
    needs: [gen]
    outputs: ["${lake}/tables"]
    manifests: ["${lake}/_manifests/ingest.json"]
    steps:
      - cmd: copy
        args: {in: ["${raw}/book.csv"], out: "${lake}/tables/t.parquet", salt: "${salt}"}
      - cmd: manifest
        args: {out: "${lake}/_manifests/ingest.json", rows: 7}
  perf:
    needs: [ingest]
    outputs: ["${lake}/perf"]
    steps:
      - cmd: copy
        args: {in: ["${lake}/tables/t.parquet"], out: "${lake}/perf/p.parquet"}
  features:
    needs: [ingest]
    outputs: ["${lake}/features"]
    steps:
      - cmd: copy
        args: {in: ["${lake}/tables/t.parquet"], out: "${lake}/features/f.parquet"}
  train:
    needs: [perf, features]
    outputs: ["${root}/models"]
    steps:
      - cmd: copy
        args: {in: ["${lake}/perf/p.parquet", "${lake}/features/f.parquet"], out: "${root}/models/m.json"}
  report:
    needs: [train]
    outputs: ["${root}/reports"]
    steps:
      - cmd: copy
        args: {in: ["${root}/models/m.json"], out: "${root}/reports/model.txt"}
`

type fake struct {
	calls []string // stage outputs written, in order
	fail  map[string]bool
}

func (f *fake) funcs() map[string]Func {
	parse := func(args []string) (in []string, out, text, salt string, rows int, err error) {
		fs := flag.NewFlagSet("fake", flag.ContinueOnError)
		var ins string
		fs.StringVar(&ins, "in", "", "")
		fs.StringVar(&out, "out", "", "")
		fs.StringVar(&text, "text", "", "")
		fs.StringVar(&salt, "salt", "", "")
		fs.IntVar(&rows, "rows", 0, "")
		err = fs.Parse(args)
		if ins != "" {
			in = strings.Split(ins, ",")
		}
		return
	}
	write := func(out, text string) error {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, []byte(text), 0o644)
	}
	return map[string]Func{
		"write": func(_ context.Context, args []string) error {
			_, out, text, _, _, err := parse(args)
			if err != nil {
				return err
			}
			f.calls = append(f.calls, filepath.Base(out))
			return write(out, text)
		},
		"copy": func(_ context.Context, args []string) error {
			in, out, _, salt, _, err := parse(args)
			if err != nil {
				return err
			}
			f.calls = append(f.calls, filepath.Base(out))
			if f.fail[filepath.Base(out)] {
				return errors.New("injected failure")
			}
			var b bytes.Buffer
			for _, p := range in {
				c, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				b.Write(c)
				b.WriteByte('|')
			}
			b.WriteString(salt)
			return write(out, b.String())
		},
		"manifest": func(_ context.Context, args []string) error {
			_, out, _, _, rows, err := parse(args)
			if err != nil {
				return err
			}
			return write(out, `{"outputs":[{"path":"t","rows":`+strconv.Itoa(rows)+`},{"path":"q","rows":3}]}`)
		},
	}
}

func setup(t *testing.T, root string, overrides map[string]string) *Config {
	t.Helper()
	c, err := Parse([]byte(strings.ReplaceAll(fakeConfig, "ROOT", root)), overrides)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func run(t *testing.T, c *Config, f *fake, opt Options) (*Summary, error) {
	t.Helper()
	r := &Runner{Config: c, Funcs: f.funcs()}
	return r.Run(context.Background(), opt)
}

func statuses(s *Summary) map[string]string {
	m := map[string]string{}
	for _, r := range s.Results {
		m[r.Stage] = r.Status
	}
	return m
}

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
	// Declared out of order, the needs still decide.
	c2, err := Parse([]byte(`
state: s
stages:
  b: {needs: [a], steps: [{cmd: x}]}
  c: {steps: [{cmd: x}]}
  a: {needs: [c], steps: [{cmd: x}]}
`), nil)
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
		{"cycle", "state: s\nstages:\n  a: {needs: [b], steps: [{cmd: x}]}\n  b: {needs: [a], steps: [{cmd: x}]}\n", "cycle"},
		{"unknown need", "state: s\nstages:\n  a: {needs: [zz], steps: [{cmd: x}]}\n", `unknown stage "zz"`},
		{"unknown var", "state: s\nstages:\n  a: {outputs: ['${nope}'], steps: [{cmd: x}]}\n", "unknown var ${nope}"},
		{"no steps", "state: s\nstages:\n  a: {outputs: [x]}\n", "no steps"},
		{"unknown field", "state: s\nstages:\n  a: {step: [{cmd: x}]}\n", "step"},
		{"no state", "stages:\n  a: {steps: [{cmd: x}]}\n", "state"},
		{"duplicate", "state: s\nstages:\n  a: {steps: [{cmd: x}]}\n  a: {steps: [{cmd: x}]}\n", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestArgvAndVars(t *testing.T) {
	c := setup(t, "/r", map[string]string{"salt": "s2"})
	if got := c.Var("lake"); got != "/r/lake" {
		t.Fatalf("lake = %q", got)
	}
	got := c.Stage("ingest").Steps[0].Argv()
	want := []string{"--in=/r/raw/book.csv", "--out=/r/lake/tables/t.parquet", "--salt=s2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("argv = %q, want %q", got, want)
	}
	got = c.Stage("train").Steps[0].Argv()
	if got[0] != "--in=/r/lake/perf/p.parquet,/r/lake/features/f.parquet" {
		t.Fatalf("list arg = %q", got[0])
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
	r := &Runner{Config: setup(t, t.TempDir(), nil), Funcs: (&fake{}).funcs()}
	if _, err := r.Run(ctx, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// The shipped config parses, orders the stages as the DAG says, and
// expands the demo paths.
func TestDefaultConfig(t *testing.T) {
	c, err := Load("default.yaml", map[string]string{"root": "x"})
	if err != nil {
		t.Fatal(err)
	}
	order, err := c.Order()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"gen", "ingest", "perf", "features", "train", "score", "warn", "bureau", "reconcile", "report"}
	if got := stageNames(order); !reflect.DeepEqual(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
	if c.State != "x/lake/_manifests/run" || c.Stage("gen").OnlyIfAbsent != "x/raw" {
		t.Fatalf("state %q, gen only_if_absent %q", c.State, c.Stage("gen").OnlyIfAbsent)
	}
	argv := c.Stage("train").Steps[2].Argv()
	if !reflect.DeepEqual(argv[:3], []string{"--lake=x/lake", "--set=bcard", "--from=2022-07"}) {
		t.Fatalf("features bcard argv = %q", argv)
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
		doc := "vars: {d: 2023-12-31, m: 2024-01, x: soon, v: '" + tc.in + "'}\nstate: s\nstages:\n  a: {steps: [{cmd: c}]}\n"
		c, err := Parse([]byte(doc), nil)
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

// A mapping given to a flag is written as a YAML file whose path the step
// receives; changing it re-runs the stage.
func TestInlineFileArg(t *testing.T) {
	root := t.TempDir()
	doc := func(cut string) []byte {
		return []byte(`
vars: {root: "` + root + `", cut: "` + cut + `"}
state: ${root}/state
stages:
  score:
    outputs: ["${root}/out"]
    steps:
      - cmd: score
        args:
          rules:
            grade_cutoffs:
              - ${cut}
              - 600
            decline_grades: [E]
          out: ${root}/out
`)
	}
	var got []string
	funcs := map[string]Func{"score": func(_ context.Context, args []string) error {
		fs := flag.NewFlagSet("score", flag.ContinueOnError)
		rules := fs.String("rules", "", "")
		out := fs.String("out", "", "")
		if err := fs.Parse(args); err != nil {
			return err
		}
		b, err := os.ReadFile(*rules)
		if err != nil {
			return err
		}
		got = append(got, string(b))
		return os.WriteFile(*out, b, 0o644)
	}}
	for i, cut := range []string{"620", "620", "630"} {
		c, err := Parse(doc(cut), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&Runner{Config: c, Funcs: funcs}).Run(context.Background(), Options{}); err != nil {
			t.Fatal(err)
		}
		if want := []int{1, 1, 2}[i]; len(got) != want {
			t.Fatalf("run %d: stage ran %d times, want %d", i, len(got), want)
		}
	}
	want := "grade_cutoffs:\n    - 630\n    - 600\ndecline_grades: [E]\n"
	if got[1] != want {
		t.Fatalf("rules file:\n%s\nwant:\n%s", got[1], want)
	}
	if p := c0(t, doc("620")).Stage("score").Steps[0].Args[0].Value; p != filepath.Join(root, "state", "inline", "score-1-rules.yaml") {
		t.Fatalf("rules path %s", p)
	}
}

func c0(t *testing.T, doc []byte) *Config {
	c, err := Parse(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// While one run holds the lake, another refuses to start.
func TestConcurrentRunRefused(t *testing.T) {
	root := t.TempDir()
	c := setup(t, root, nil)
	started, release := make(chan struct{}), make(chan struct{})
	f := &fake{}
	funcs := f.funcs()
	write := funcs["write"]
	funcs["write"] = func(ctx context.Context, args []string) error {
		close(started)
		<-release
		return write(ctx, args)
	}
	done := make(chan error)
	go func() {
		_, err := (&Runner{Config: c, Funcs: funcs}).Run(context.Background(), Options{})
		done <- err
	}()
	<-started
	_, err := (&Runner{Config: setup(t, root, nil), Funcs: (&fake{}).funcs()}).Run(context.Background(), Options{})
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
	r := &Runner{Config: setup(t, root, nil), Funcs: (&fake{}).funcs(), CodeVersion: "v1"}
	if _, err := r.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	same := &fake{}
	r = &Runner{Config: setup(t, root, nil), Funcs: same.funcs(), CodeVersion: "v1"}
	if _, err := r.Run(context.Background(), Options{}); err != nil {
		t.Fatal(err)
	}
	if len(same.calls) != 0 {
		t.Fatalf("same version re-ran %v", same.calls)
	}
	f := &fake{}
	r = &Runner{Config: setup(t, root, nil), Funcs: f.funcs(), CodeVersion: "v2"}
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
	f := &fake{}
	funcs := f.funcs()
	write := funcs["write"]
	var inner, beside error
	funcs["write"] = func(ctx context.Context, args []string) error {
		_, release, err := lakelock.Acquire(ctx, lakeDir, nil)
		if err == nil {
			release()
		}
		inner = err
		_, _, beside = lakelock.Acquire(context.Background(), lakeDir, nil)
		return write(ctx, args)
	}
	if _, err := (&Runner{Config: c, Funcs: funcs, Lake: lakeDir}).Run(context.Background(), Options{}); err != nil {
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
