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

// On a generated demo book (gen → ingest → perf → features → train, all
// in-process), the A-card's out-of-time AUC is within 0.03 of the AUC of
// the generator's true default probability on the same loans: the model
// recovers nearly all the signal the observable data carries.
func TestTrainDemoBookNearTruePD(t *testing.T) {
	dir := t.TempDir()
	raw, lk, models := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "models")
	const asOf = "2023-12-31"
	// The A-card settings of pipelines/default.yaml, on the demo book.
	cfgFile := filepath.Join(dir, "train.yaml")
	if err := os.WriteFile(cfgFile, []byte(`test_share: 0.3
binning: {method: optimal, monotonic: auto, max_bins: 6, min_share: 0.05, share_precision: true, fine_bins: 20}
selection: {max_missing: 0.95, max_single_share: 0.98, min_iv: 0.005, max_psi: 0.25, max_corr: 0.7, max_vif: 10, stepwise: both, criterion: aic, max_vars: 20, sign_check: true}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := [][]string{
		{"gen", "--out", raw, "--loans", "50000", "--seed", "1", "--start", "2021-01", "--months", "36"},
		{"ingest", "--raw", raw, "--lake", lk},
		{"perf", "--lake", lk, "--as-of", asOf},
		{"features", "--lake", lk, "--set", "acard", "--as-of", asOf},
		{"train", "--lake", lk, "--model", "acard", "--as-of", asOf, "--out", models, "--oot-months", "6", "--seed", "1", "--exclude", "assumed_annual_rate,city", "--config", cfgFile},
	}
	for _, s := range steps {
		var stdout, stderr bytes.Buffer
		if code := realMain(s, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d\n%s", s, code, stderr.String())
		}
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
	if math.Abs(modelAUC-trueAUC) > 0.03 {
		t.Errorf("OOT AUC %.4f is not within 0.03 of the true-PD AUC %.4f", modelAUC, trueAUC)
	}
}
