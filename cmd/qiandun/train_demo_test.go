package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/lake"
	"qiandun/training/metrics"
	"qiandun/training/scorecard"
)

// The shipped pipeline (pipelines/default.yaml, through `qiandun run`, up
// to the train stage) on the shipped 50,000-loan demo book: the A-card's
// out-of-time AUC is within 0.01 of the AUC of the generator's true
// default probability on the same loans, the card uses none of the
// columns default.yaml excludes, and the A-card features carry the true
// PD's drivers: the generator's observable risk score recomputed from
// them (testdata/acard_observable_logit.sql) ranks the same loans within
// 0.01 of the true PD. Measured on 7 Dec 2026 (OOT AUC of the card, of
// the observable score, of the true PD, 11,756 loans): the boosted card
// of default.yaml 0.7351, 0.7404, 0.7430; the logistic WoE card it
// replaced 0.7228. The margin is thin: with the train/test split's seed
// 2-5 instead of 1 the card scores 0.7303-0.7351, and on a book of
// generator seed 2 it is 0.0183 from the true PD (0.7328 against 0.7511;
// README, "Training"). At 20,000 loans no binned card comes within 0.01
// (0.707 against 0.732).
func TestTrainDemoBookNearTruePD(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo pipeline on the 50,000-loan demo book")
	}
	dir := t.TempDir()
	raw, lk, models := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "models")
	var stdout, stderr bytes.Buffer
	args := []string{"run", "--config", filepath.Join("..", "..", "pipelines", "default.yaml"), "--allow-outside", "--set", "root=" + dir,
		"--to", "train_acard"}
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
	obs, err := os.ReadFile(filepath.Join("testdata", "acard_observable_logit.sql"))
	if err != nil {
		t.Fatal(err)
	}
	feats := "read_parquet(" + lake.Quote(filepath.Join(lk, "features", "acard", "*", "*.parquet")) + ")"
	rows, err := db.QueryContext(ctx, `WITH a AS (
  SELECT * FROM read_parquet(`+lake.Quote(filepath.Join(lk, "labels", "acard", "*.parquet"))+`)),
l AS (SELECT * FROM a WHERE label IN ('good', 'bad')),
m AS (SELECT issue_month FROM a GROUP BY issue_month HAVING bool_and(label <> 'immature') ORDER BY issue_month DESC LIMIT 6),
t AS (SELECT * FROM read_csv(`+lake.Quote(filepath.Join(raw, "_truth", "loans.csv"))+`)),
o AS (`+strings.Replace(string(obs), "FEATURES", feats, 1)+`)
SELECT l.bad, t.true_pd, o.observable_score FROM l JOIN t USING (loan_id) JOIN o USING (application_id)
WHERE l.issue_month IN (SELECT issue_month FROM m)`)
	if err != nil {
		t.Fatal(err)
	}
	var bad, pd, obsScore []float64
	for rows.Next() {
		var b int
		var p, o float64
		if err := rows.Scan(&b, &p, &o); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, float64(b))
		pd = append(pd, p)
		obsScore = append(obsScore, o)
	}
	rows.Close()
	if len(bad) != ootN {
		t.Fatalf("OOT sample: model %d rows, labels %d", ootN, len(bad))
	}
	trueAUC, err := metrics.AUC(pd, bad)
	if err != nil {
		t.Fatal(err)
	}
	obsAUC, err := metrics.AUC(obsScore, bad)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("OOT n=%d: model AUC %.4f, observable-score AUC %.4f, true-PD AUC %.4f", ootN, modelAUC, obsAUC, trueAUC)
	// The features carry the true PD's drivers: the generator's own score
	// of them ranks within 0.01 of the true PD (what is left is the
	// generator's unobservable noise), so the card's gap is modelling.
	if math.Abs(obsAUC-trueAUC) > 0.01 {
		t.Errorf("the generator's observable score recomputed from the A-card features: OOT AUC %.4f, not within 0.01 of the true PD's %.4f (a feature lost a driver)", obsAUC, trueAUC)
	}
	const maxGap = 0.01
	if math.Abs(modelAUC-trueAUC) > maxGap {
		t.Errorf("OOT AUC %.4f is not within %g of the true-PD AUC %.4f", modelAUC, maxGap, trueAUC)
	}
	for _, c := range m.Chars {
		switch c.Name {
		case "city", "assumed_annual_rate", "collateral_type", "collateral_value", "loan_to_value":
			t.Errorf("the shipped A-card uses %s, which default.yaml excludes", c.Name)
		}
	}
}
