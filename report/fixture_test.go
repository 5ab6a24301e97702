package report

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/lake"
)

// writeModelFixture writes a small model artifact directory with the
// fixed CSV columns the training stage publishes, and a scored.csv whose
// rows follow a logistic model so the curves have the usual shapes.
func writeModelFixture(t testing.TB, dir string) {
	t.Helper()
	must := func(name, body string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must("model.json", `{"name":"acard","version":"v1","target":"bad","pdo":20,"base_score":600,"base_odds":50,"rows":3000}`)
	var bins strings.Builder
	bins.WriteString("variable,bin,count,good,bad,bad_rate,woe,bin_iv,points\n")
	type b struct {
		bin       string
		good, bad int
	}
	vars := []struct {
		name string
		bins []b
	}{
		{"age", []b{{"[-inf,25)", 300, 90}, {"[25,35)", 700, 110}, {"[35,50)", 800, 90}, {"[50,inf)", 400, 30}, {"missing", 50, 12}}},
		{"inquiries_30d", []b{{"[-inf,1)", 1500, 120}, {"[1,3)", 600, 110}, {"[3,inf)", 150, 102}}},
		{"education", []b{{"本科 bachelor", 900, 90}, {"大专 college", 800, 130}, {"高中及以下 high school or less", 550, 112}}},
	}
	for _, v := range vars {
		var G, B float64
		for _, x := range v.bins {
			G += float64(x.good)
			B += float64(x.bad)
		}
		for _, x := range v.bins {
			woe := math.Log((float64(x.bad) / B) / (float64(x.good) / G))
			iv := (float64(x.bad)/B - float64(x.good)/G) * woe
			n := x.good + x.bad
			fmt.Fprintf(&bins, "%s,%q,%d,%d,%d,%.6f,%.6f,%.6f,%.1f\n", v.name, x.bin, n, x.good, x.bad, float64(x.bad)/float64(n), woe, iv, -20/math.Ln2*0.9*woe)
		}
	}
	must("bins.csv", bins.String())
	must("coefficients.csv", "term,estimate,std_error,z,p_value\n(Intercept),-2.0412,0.0551,-37.04,1.2e-300\nage,0.9012,0.1023,8.81,1.3e-18\ninquiries_30d,1.0551,0.0876,12.04,2.1e-33\neducation,0.4212,0.2011,2.09,0.0362\n")
	must("metrics.csv", "sample,n,bads,auc,gini,ks\ntrain,2100,240,0.7412,0.4824,0.3712\ntest,900,102,0.7298,0.4596,0.3521\noot,800,95,0.7150,0.4300,0.3400\n")
	must("dropped.csv", "variable,reason\nmonthly_income,iv below 0.02\nphone_prefix,correlation 0.82 with age\n")
	r := rand.New(rand.NewPCG(7, 7))
	var sc strings.Builder
	sc.WriteString("sample,score,bad,pd,age,education\n")
	for _, s := range []struct {
		name  string
		n     int
		shift float64
	}{{"train", 2100, 0}, {"test", 900, 0}, {"oot", 800, -8}} {
		for i := 0; i < s.n; i++ {
			score := math.Round(600 + s.shift + 45*r.NormFloat64())
			pd := 1 / (1 + 50*math.Exp((score-600)*math.Ln2/20))
			bad := 0
			if r.Float64() < pd {
				bad = 1
			}
			age := []string{"[-inf,25)", "[25,35)", "[35,50)", "[50,inf)"}[r.IntN(4)]
			edu := []string{"本科 bachelor", "大专 college"}[r.IntN(2)]
			fmt.Fprintf(&sc, "%s,%.0f,%d,%.6f,%s,%s\n", s.name, score, bad, pd, age, edu)
		}
	}
	must(ScoredFile, sc.String())
}

// writeScoresFixture writes a scoring run <dir>/2024-06-30/scores.csv.
func writeScoresFixture(t testing.TB, dir string) {
	t.Helper()
	r := rand.New(rand.NewPCG(8, 8))
	var b strings.Builder
	b.WriteString("entity_id,as_of,model,model_version,score,pd,grade,decision\n")
	for i := 0; i < 1500; i++ {
		fmt.Fprintf(&b, "A%05d,2024-06-30,acard,v1,%.0f,0.02,%s,%s\n", i, 590+50*r.NormFloat64(), []string{"A", "B", "C", "D", "E"}[i%5], []string{"approve", "approve", "approve", "review", "decline"}[i%5])
	}
	p := filepath.Join(dir, "2024-06-30", "scores.csv")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	man := `{"models":[{"name":"acard","version":"v1","monitoring":{"score_psi":0.0123,"csi":[{"variable":"age","csi":0.3456},{"variable":"education","csi":0.0042}]}},
		{"name":"acard","version":"v0","monitoring":{"score_psi":0.9,"csi":[{"variable":"age","csi":0.9}]}}]}`
	if err := os.WriteFile(filepath.Join(filepath.Dir(p), "manifest.json"), []byte(man), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeLakeFixture writes the lake tables the portfolio report reads,
// with DuckDB, and an early-warning list under ews.
func writeLakeFixture(t testing.TB, root, ews string) {
	t.Helper()
	ctx := context.Background()
	lk := lake.New(root)
	db, err := lk.OpenDB(ctx, lake.DBOptions{MemoryLimit: "512MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables := map[string]string{
		"loans": `SELECT 'L' || lpad(CAST(i AS VARCHAR), 5, '0') AS loan_id, 'B' || CAST(i % 700 AS VARCHAR) AS borrower_id,
			['cash_loan', 'consumer', 'car_loan'][1 + i % 3] AS product, DATE '2022-01-01' + INTERVAL (i % 900) DAY AS issue_date,
			CAST(1000 + (i * 37) % 20000 AS DECIMAL(18,2)) AS principal, ['广东', '浙江', '四川', '北京'][1 + i % 4] AS region,
			['none', 'car', 'house'][1 + i % 3] AS collateral_type, CASE WHEN i % 5 = 0 THEN 'settled' WHEN i % 97 = 0 THEN 'written_off' ELSE 'active' END AS status
			FROM range(1000) t(i)`,
		"perf/vintage": `SELECT CAST(DATE '2022-01-01' + INTERVAL (v) MONTH AS DATE) AS issue_month, m AS mob, 400 AS loans,
			CAST(400 * 0.06 * (1 - exp(-m / 4.0)) AS BIGINT) AS ever30_loans,
			CAST(0.06 * (1 - exp(-m / 4.0)) * (1 + v / 20.0) AS DOUBLE) AS ever30_share_loans,
			CAST(0.07 * (1 - exp(-m / 4.0)) * (1 + v / 20.0) AS DOUBLE) AS ever30_share_principal,
			CAST(400 * 0.03 * (1 - exp(-m / 4.0)) AS BIGINT) AS ever90_loans,
			CAST(0.03 * (1 - exp(-m / 6.0)) * (1 + v / 20.0) AS DOUBLE) AS ever90_share_loans
			FROM range(12) a(v), range(13) b(m) WHERE v + m <= 24`,
		"perf/roll_rates": `SELECT CAST(DATE '2023-01-31' + INTERVAL (k) MONTH AS DATE) AS month, f AS from_bucket, tt AS to_bucket, 100 AS n,
			CASE WHEN f = tt THEN 0.7 WHEN tt = 'C' THEN 0.2 ELSE 0.1 END + k / 1000.0 AS share_n,
			CASE WHEN f = tt THEN 0.6 WHEN tt = 'C' THEN 0.3 ELSE 0.1 END + k / 1000.0 AS share_balance
			FROM range(6) a(k), (VALUES ('C'), ('M1'), ('M2'), ('M3'), ('M4+')) x(f), (VALUES ('C'), ('M1'), ('M2'), ('M3'), ('M4+')) y(tt)`,
		"perf/delinquency": `SELECT CAST(DATE '2023-01-31' + INTERVAL (k) MONTH AS DATE) AS month_end, b AS bucket, 100 AS n,
			CAST(1000000 AS DECIMAL(18,2)) AS balance, CASE b WHEN 'C' THEN 0.9 ELSE 0.02 + k / 1000.0 END AS share_n,
			CASE b WHEN 'C' THEN 0.9 ELSE 0.025 + k / 1000.0 END AS share_balance
			FROM range(12) a(k), (VALUES ('C'), ('M1'), ('M2'), ('M3'), ('M4+')) x(b)`,
		"perf/expected_loss": `SELECT 'L' || CAST(i AS VARCHAR) AS loan_id, DATE '2024-06-30' AS as_of, ['C', 'C', 'C', 'M1', 'M2', 'M4+'][1 + i % 6] AS bucket,
			['none', 'car', 'house'][1 + i % 3] AS collateral_type, CAST(10000 AS DECIMAL(18,2)) AS ead, 0.02 + (i % 6) / 10.0 AS pd,
			[0.9, 0.45, 0.25][1 + i % 3] AS lgd, CAST(10000 * (0.02 + (i % 6) / 10.0) * [0.9, 0.45, 0.25][1 + i % 3] AS DECIMAL(18,2)) AS el
			FROM range(300) t(i)`,
		"perf/disclosure": `SELECT * FROM (VALUES (1, '累计借贷金额 cumulative lending', 12345678.9, 'CNY', '自成立以来撮合的借贷本金总额 total principal issued since inception'),
			(2, '逾期90天以上金额 90+ overdue amount', 234567.8, 'CNY', '逾期超过90天的未还本金 outstanding principal of loans more than 90 days past due'),
			(3, '项目逾期率 overdue loan rate', 0.0321, 'ratio', '逾期90天以上笔数 / 在贷笔数 loans 90+ DPD over active loans')) t(ord, metric, value, unit, definition)`,
	}
	for table, q := range tables {
		dir := lk.TableDir(table)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "COPY ("+q+") TO "+lake.Quote(filepath.Join(dir, "part-0.parquet"))+" (FORMAT parquet)"); err != nil {
			t.Fatalf("fixture %s: %v", table, err)
		}
	}
	p := filepath.Join(ews, "2024-06-30", "ews.csv")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("rank,loan_id,borrower_id,as_of,model,model_version,score,pd,grade,priority,primary_reason,reasons,action,queue,dpd,bucket,outstanding_principal,ltv\n")
	rules := []struct{ reason, action, queue, bucket string }{
		{"lost_contact", "lost_contact_repair", "skip_trace", "M2"},
		{"entering_m1", "call", "early_collection", "M1"},
		{"multi_lending", "sms_reminder", "pre_collection", "C"},
		{"m4_plus", "legal", "legal", "M4+"},
	}
	for i := 0; i < 120; i++ {
		r := rules[i%4]
		reasons := r.reason
		if i%3 == 0 {
			reasons += ";multi_lending"
		}
		fmt.Fprintf(&b, "%d,L%05d,B%d,2024-06-30,bcard,v2,%d,0.1,C,%d,%s,%s,%s,%s,%d,%s,%d.50,\n",
			i+1, i, i, 550+i%50, 1+i%4, r.reason, reasons, r.action, r.queue, 10*(i%4), r.bucket, 1000+i)
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
