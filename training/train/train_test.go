package train_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"qiandun/data/lake"
	"qiandun/training/internal/gcredit"
	"qiandun/training/scorecard"
	"qiandun/training/train"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func flatConfig(out string) *train.Config {
	c := train.NewConfig()
	c.Data = gcredit.CSVPath()
	c.Target, c.BadValue = "creditability", "bad"
	c.Out = out
	return c
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// Same inputs and seed give the same artifact bytes; another seed gives
// another version.
func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	a, err := train.Run(ctx, flatConfig(t.TempDir()), quiet)
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Run(ctx, flatConfig(t.TempDir()), quiet)
	if err != nil {
		t.Fatal(err)
	}
	fa, fb := readDir(t, a.Dir), readDir(t, b.Dir)
	if len(fa) < 7 {
		t.Fatalf("artifact has %d files", len(fa))
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s differs between identical runs", name)
		}
	}
	c := flatConfig(t.TempDir())
	c.Seed = 2
	r, err := train.Run(ctx, c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if r.Model.Version == a.Model.Version {
		t.Error("seed 2 gave the same version as seed 1")
	}
}

// End to end on the German credit data: a sensible model (train AUC in the
// range of the reference's 0.82 and test AUC not far behind), positive
// coefficients, every column kept or dropped with a reason, a stratified
// 70/30 split, and an artifact that loads.
func TestFlatGermanCredit(t *testing.T) {
	r, err := train.Run(context.Background(), flatConfig(t.TempDir()), quiet)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Model
	if r.Samples["train"] != 700 || r.Samples["test"] != 300 {
		t.Errorf("samples %v, want 700/300", r.Samples)
	}
	met := map[string]scorecard.Sample{}
	for _, s := range m.Metrics {
		met[s.Sample] = s
	}
	if met["train"].Bads != 210 || met["test"].Bads != 90 {
		t.Errorf("bads train %d test %d, want 210/90 (stratified)", met["train"].Bads, met["test"].Bads)
	}
	if a := met["train"].AUC; a < 0.78 || a > 0.9 {
		t.Errorf("train AUC %v", a)
	}
	if a := met["test"].AUC; a < 0.70 {
		t.Errorf("test AUC %v", a)
	}
	seen := map[string]bool{}
	for _, c := range m.Chars {
		seen[c.Name] = true
		if c.Coef.Estimate <= 0 {
			t.Errorf("%s: coefficient %v <= 0 survived the sign check", c.Name, c.Coef.Estimate)
		}
	}
	for _, d := range m.Dropped {
		if seen[d.Variable] || d.Reason == "" {
			t.Errorf("dropped %+v", d)
		}
		seen[d.Variable] = true
	}
	if len(seen) != 20 {
		t.Errorf("%d of 20 characteristics accounted for", len(seen))
	}
	if _, err := scorecard.Load(r.Dir); err != nil {
		t.Fatal(err)
	}
}

// --bins with the reference bins and --features with the reference list
// reproduce the reference fit on the full data used as both train and test.
func TestFlatWithReferenceBins(t *testing.T) {
	ref, err := gcredit.LoadReference()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var y bytes.Buffer
	for _, v := range ref.Logit.Variables {
		rv := ref.Variables[v]
		if rv.Type == "numeric" {
			fmt.Fprintf(&y, "%s:\n  breaks: [", v)
			for i, b := range rv.Breaks {
				if i > 0 {
					y.WriteString(", ")
				}
				fmt.Fprint(&y, b)
			}
			y.WriteString("]\n")
			continue
		}
		fmt.Fprintf(&y, "%s:\n  groups:\n", v)
		for _, g := range rv.Groups {
			y.WriteString("    - [")
			for i, s := range g {
				if i > 0 {
					y.WriteString(", ")
				}
				fmt.Fprintf(&y, "%q", s)
			}
			y.WriteString("]\n")
		}
	}
	binsFile := filepath.Join(dir, "bins.yaml")
	if err := os.WriteFile(binsFile, y.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c := flatConfig(filepath.Join(dir, "models"))
	c.Test = gcredit.CSVPath()
	c.BinsFile = binsFile
	c.Features = ref.Logit.Variables
	r, err := train.Run(context.Background(), c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Model
	if len(m.Chars) != len(ref.Logit.Variables) {
		t.Fatalf("%d characteristics", len(m.Chars))
	}
	if math.Abs(m.Intercept.Estimate-ref.Logit.Coef["const"]) > 1e-5 {
		t.Errorf("intercept %v, reference %v", m.Intercept.Estimate, ref.Logit.Coef["const"])
	}
	for _, ch := range m.Chars {
		if w := ref.Logit.Coef[ch.Name+"_woe"]; math.Abs(ch.Coef.Estimate-w) > 1e-5 {
			t.Errorf("%s: %v, reference %v", ch.Name, ch.Coef.Estimate, w)
		}
		if math.Abs(ch.IV-ref.Variables[ch.Name].TotalIV) > 1e-6 {
			t.Errorf("%s: IV %v, reference %v", ch.Name, ch.IV, ref.Variables[ch.Name].TotalIV)
		}
	}
	if math.Abs(m.Fit.AIC-ref.Logit.AIC) > 1e-6 {
		t.Errorf("AIC %v, reference %v", m.Fit.AIC, ref.Logit.AIC)
	}
	for _, s := range m.Metrics {
		// the card's PD is the model PD to the 4-decimal point rounding
		if math.Abs(s.AUC-ref.Logit.TrainAUC) > 1e-3 {
			t.Errorf("%s AUC %v, reference %v", s.Sample, s.AUC, ref.Logit.TrainAUC)
		}
	}
}

// A hand-made lake: A-card features for 6 monthly cohorts joined with
// labels; indeterminate labels are left out, and so is the latest month,
// which still holds immature loans (training keeps mature vintages only);
// the two latest mature months are out-of-time.
// writeACardLake writes an A-card feature snapshot and its labels under
// root and returns the DuckDB holding their source table base.
func writeACardLake(t *testing.T, root string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, dir := range []string{"features/acard/as_of=2024-07-01", "labels/acard"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// 6000 applications; risk rises with x1 and with channel 'web'; label
	// drawn from a seeded hash so the data is fixed.
	base := `SELECT i, 'A' || lpad(CAST(i AS VARCHAR), 6, '0') AS application_id, 'B' || CAST(i % 5000 AS VARCHAR) AS borrower_id,
  TIMESTAMP '2024-01-01 10:00:00' + INTERVAL (i % 180) DAY AS apply_time,
  CAST((hash(i * 7) % 1000) AS DOUBLE) / 100.0 AS x1,
  CASE WHEN hash(i * 13) % 3 = 0 THEN 'web' WHEN hash(i * 13) % 3 = 1 THEN 'app' ELSE NULL END AS channel,
  CAST(hash(i * 31) % 100 AS INTEGER) AS noise,
  DATE_TRUNC('month', DATE '2024-01-01' + INTERVAL (i % 180) DAY) AS issue_month
FROM range(6000) t(i)`
	q := fmt.Sprintf(`CREATE TABLE base AS SELECT *, CASE WHEN (hash(i * 101) %% 10000) / 10000.0 <
   1 / (1 + exp(-(-2.5 + 0.25 * x1 + CASE WHEN channel = 'web' THEN 0.8 ELSE 0 END))) THEN 1 ELSE 0 END AS b FROM (%s)`, base)
	stmts := []string{q,
		fmt.Sprintf(`COPY (SELECT application_id, borrower_id, apply_time, x1, channel, noise FROM base ORDER BY application_id) TO %s (FORMAT parquet)`,
			lake.Quote(filepath.Join(root, "features/acard/as_of=2024-07-01/part-0.parquet"))),
		fmt.Sprintf(`COPY (SELECT 'L' || application_id AS loan_id, application_id, borrower_id, CAST(issue_month AS DATE) AS issue_month,
  CASE WHEN i %% 50 = 0 THEN 'indeterminate' WHEN i %% 77 = 0 AND issue_month = DATE '2024-06-01' THEN 'immature' WHEN b = 1 THEN 'bad' ELSE 'good' END AS label,
  CASE WHEN i %% 50 = 0 OR (i %% 77 = 0 AND issue_month = DATE '2024-06-01') THEN NULL ELSE b END AS bad FROM base) TO %s (FORMAT parquet)`,
			lake.Quote(filepath.Join(root, "labels/acard/part-0.parquet"))),
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestLakeModeACard(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	db := writeACardLake(t, root)
	c := train.NewConfig()
	c.Lake, c.Model, c.Out, c.OOTMonths = root, "acard", filepath.Join(root, "models"), 2
	r, err := train.Run(ctx, c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	var want struct{ dev, oot int }
	row := db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE issue_month < DATE '2024-04-01' AND i % 50 <> 0),
	  count(*) FILTER (WHERE issue_month >= DATE '2024-04-01' AND issue_month < DATE '2024-06-01' AND i % 50 <> 0) FROM base`)
	if err := row.Scan(&want.dev, &want.oot); err != nil {
		t.Fatal(err)
	}
	if got := r.Samples["train"] + r.Samples["test"]; got != want.dev || r.Samples["oot"] != want.oot {
		t.Errorf("samples %v, want dev %d oot %d", r.Samples, want.dev, want.oot)
	}
	names := []string{}
	for _, ch := range r.Model.Chars {
		names = append(names, ch.Name)
	}
	if !slices.Contains(names, "x1") || !slices.Contains(names, "channel") {
		t.Errorf("kept %v, want x1 and channel", names)
	}
	for _, k := range []string{"application_id", "borrower_id", "apply_time"} {
		if slices.Contains(names, k) {
			t.Errorf("key %s used as a characteristic", k)
		}
	}
	for _, s := range r.Model.Metrics {
		if s.Sample == "oot" && s.AUC < 0.65 {
			t.Errorf("oot AUC %v", s.AUC)
		}
	}
	if r.Model.Name != "acard" || filepath.Dir(filepath.Dir(r.Dir)) != filepath.Join(root, "models") {
		t.Errorf("artifact at %s", r.Dir)
	}
	man, err := lake.New(root).ReadManifest("train-acard")
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Inputs) != 2 || len(man.Outputs) < 7 || man.Counts["oot_rows"] != int64(want.oot) || man.Extra["checksum"] != r.Model.Checksum {
		t.Errorf("manifest %+v", man)
	}
}

// B-card: snapshots at six month ends joined with labels on loan_id and
// as_of = obs_date; a snapshot without labels (the scoring month) and
// labels without a snapshot add nothing; the latest 2 observation months
// are out-of-time.
func TestLakeModeBCard(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	months := []string{"2023-01-31", "2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31", "2023-06-30", "2023-12-31"}
	if _, err := db.ExecContext(ctx, `CREATE TABLE obs AS
SELECT 'L' || lpad(CAST(i AS VARCHAR), 5, '0') AS loan_id, 'B' || CAST(i AS VARCHAR) AS borrower_id, m AS as_of,
  CAST(hash(i * 3 + k) % 90 AS INTEGER) AS max_dpd_3m,
  CASE WHEN hash(i * 5 + k) % 4 = 0 THEN 'sms' ELSE 'none' END AS last_channel,
  k
FROM range(3000) a(i), (SELECT CAST(unnest(`+sqlList(months)+`) AS DATE) AS m, generate_subscripts(`+sqlList(months)+`, 1) AS k) b`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE lab AS SELECT loan_id, as_of AS obs_date,
  CASE WHEN (hash(loan_id || CAST(as_of AS VARCHAR)) % 10000) / 10000.0 < 1 / (1 + exp(-(-3 + 0.04 * max_dpd_3m + CASE WHEN last_channel = 'sms' THEN 0.7 ELSE 0 END))) THEN 1 ELSE 0 END AS bad
FROM obs WHERE as_of < DATE '2023-12-01'`); err != nil {
		t.Fatal(err)
	}
	for k, m := range months {
		d := filepath.Join(root, "features", "bcard", "as_of="+m)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`COPY (SELECT loan_id, borrower_id, as_of, max_dpd_3m, last_channel FROM obs WHERE k = %d) TO %s (FORMAT parquet)`,
			k+1, lake.Quote(filepath.Join(d, "part-0.parquet")))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "labels", "bcard"), 0o755); err != nil {
		t.Fatal(err)
	}
	// labels: every 9th observation indeterminate; plus labels for a month with no snapshot
	if _, err := db.ExecContext(ctx, `COPY (
  SELECT loan_id, obs_date, CASE WHEN hash(loan_id) % 9 = 0 THEN 'indeterminate' WHEN bad = 1 THEN 'bad' ELSE 'good' END AS label,
    CASE WHEN hash(loan_id) % 9 = 0 THEN NULL ELSE bad END AS bad FROM lab
  UNION ALL SELECT loan_id, DATE '2022-12-31', 'bad', 1 FROM lab WHERE obs_date = DATE '2023-01-31'
) TO `+lake.Quote(filepath.Join(root, "labels", "bcard", "part-0.parquet"))+` (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	c := train.NewConfig()
	c.Lake, c.Model, c.Out, c.OOTMonths = root, "bcard", filepath.Join(root, "models"), 2
	r, err := train.Run(ctx, c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	var dev, oot int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE obs_date < DATE '2023-05-01'), count(*) FILTER (WHERE obs_date >= DATE '2023-05-01')
FROM lab WHERE hash(loan_id) % 9 <> 0`).Scan(&dev, &oot); err != nil {
		t.Fatal(err)
	}
	if r.Samples["train"]+r.Samples["test"] != dev || r.Samples["oot"] != oot {
		t.Errorf("samples %v, want dev %d oot %d", r.Samples, dev, oot)
	}
	var kept []string
	for _, ch := range r.Model.Chars {
		kept = append(kept, ch.Name)
	}
	if !slices.Contains(kept, "max_dpd_3m") || slices.Contains(kept, "loan_id") {
		t.Errorf("kept %v", kept)
	}
}

func sqlList(xs []string) string {
	var b bytes.Buffer
	b.WriteString("[")
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(lake.Quote(x))
	}
	b.WriteString("]")
	return b.String()
}

func TestConfigAndBinsFiles(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfgFile, []byte(`binning: {method: chimerge, max_bins: 4, min_share: 0.1}
selection: {stepwise: none, min_iv: 0.05, sign_check: false}
scaling: {base_score: 500, base_odds: 20, pdo: 40, round: true}
kinds: {installment_rate_in_percentage_of_disposable_income: categorical}
test_share: 0.25
`), 0o644)
	binsFile := filepath.Join(dir, "b.json")
	os.WriteFile(binsFile, []byte(`{"duration_in_month": {"breaks": [12, 24]}, "housing": {"groups": [["own"], ["rent", "for free"]]}}`), 0o644)
	c := flatConfig(filepath.Join(dir, "m"))
	if err := c.LoadConfig(cfgFile); err != nil {
		t.Fatal(err)
	}
	c.BinsFile = binsFile
	r, err := train.Run(context.Background(), c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Model
	if r.Samples["test"] != 250 || m.Scaling.BaseScore != 500 || m.Scaling.PDO != 40 || !m.Scaling.Round {
		t.Errorf("samples %v scaling %+v", r.Samples, m.Scaling)
	}
	for _, ch := range m.Chars {
		reg := 0
		for _, b := range ch.Bins {
			if b.Points != math.Round(b.Points) {
				t.Errorf("%s: non-integer points %v", ch.Name, b.Points)
			}
			if b.Interval || b.Values != nil {
				reg++
			}
		}
		switch ch.Name {
		case "duration_in_month":
			if !slices.Equal(ch.Breaks, []float64{12, 24}) {
				t.Errorf("duration breaks %v", ch.Breaks)
			}
		case "housing":
			if len(ch.Bins) != 2 {
				t.Errorf("housing bins %d", len(ch.Bins))
			}
		case "installment_rate_in_percentage_of_disposable_income":
			if ch.Kind != "categorical" {
				t.Errorf("kind override ignored: %s", ch.Kind)
			}
		default:
			if reg > 4 {
				t.Errorf("%s: %d bins > max 4", ch.Name, reg)
			}
		}
		if ch.IV < 0.05 {
			t.Errorf("%s kept with IV %v < 0.05", ch.Name, ch.IV)
		}
	}
	for _, bad := range []string{"binning: {method: magic}", "kinds: {x: text}", "boosted: {pair_min_gain: 2}"} {
		os.WriteFile(cfgFile, []byte(bad), 0o644)
		if err := flatConfig(dir).LoadConfig(cfgFile); err == nil {
			t.Errorf("config %q accepted", bad)
		}
	}
	os.WriteFile(binsFile, []byte(`{"x": {"breaks": [1], "groups": [["a"]]}}`), 0o644)
	if _, err := train.LoadBins(binsFile); err == nil {
		t.Error("bins with both breaks and groups accepted")
	}
}

// The same table as Parquet gives the same card as the CSV.
func TestFlatParquetSameAsCSV(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pq := filepath.Join(dir, "germancredit.parquet")
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "COPY (SELECT * FROM read_csv("+lake.Quote(gcredit.CSVPath())+", header = true)) TO "+lake.Quote(pq)+" (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	a, err := train.Run(ctx, flatConfig(filepath.Join(dir, "a")), quiet)
	if err != nil {
		t.Fatal(err)
	}
	c := flatConfig(filepath.Join(dir, "b"))
	c.Data, c.Name = pq, "germancredit"
	b, err := train.Run(ctx, c, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Model.Chars) != len(b.Model.Chars) {
		t.Fatalf("%d vs %d characteristics", len(a.Model.Chars), len(b.Model.Chars))
	}
	for j := range a.Model.Chars {
		x, y := a.Model.Chars[j], b.Model.Chars[j]
		if x.Name != y.Name || x.Coef != y.Coef || len(x.Bins) != len(y.Bins) {
			t.Errorf("characteristic %d: %s %+v vs %s %+v", j, x.Name, x.Coef, y.Name, y.Coef)
		}
	}
	if a.Model.Version == b.Model.Version {
		t.Error("different input files, same version: the data fingerprint is not in the checksum")
	}
}

// TestFlatQuotedNames: a CSV in a directory whose name holds a single
// quote, with a header whose names hold single and double quotes (real
// exports have both), trains the same card as the plain file: the path and
// the names reach DuckDB quoted, whatever DuckDB sniffs.
func TestFlatQuotedNames(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), `o'brien "exports"`)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(gcredit.CSVPath())
	if err != nil {
		t.Fatal(err)
	}
	const from, to = "duration_in_month,", `"duration's ""in"" month",`
	if !bytes.HasPrefix(b, []byte("status_of_existing_checking_account,"+from)) {
		t.Fatalf("germancredit.csv header changed: %.80s", b)
	}
	quoted := filepath.Join(dir, "german's credit.csv")
	if err := os.WriteFile(quoted, bytes.Replace(b, []byte(from), []byte(to), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := train.Run(ctx, flatConfig(filepath.Join(t.TempDir(), "a")), quiet)
	if err != nil {
		t.Fatal(err)
	}
	c := flatConfig(filepath.Join(t.TempDir(), "b"))
	c.Data = quoted
	q, err := train.Run(ctx, c, quiet)
	if err != nil {
		t.Fatalf("train on %s: %v", quoted, err)
	}
	if len(a.Model.Chars) != len(q.Model.Chars) {
		t.Fatalf("%d vs %d characteristics", len(a.Model.Chars), len(q.Model.Chars))
	}
	renamed := false
	for j := range a.Model.Chars {
		x, y := a.Model.Chars[j], q.Model.Chars[j]
		if x.Name == "duration_in_month" {
			renamed = y.Name == `duration's "in" month` && y.Coef.Term == y.Name
			x.Name, x.Coef.Term = y.Name, y.Coef.Term
		}
		if x.Name != y.Name || x.Coef != y.Coef || len(x.Bins) != len(y.Bins) {
			t.Errorf("characteristic %d: %s %+v vs %s %+v", j, x.Name, x.Coef, y.Name, y.Coef)
		}
	}
	if !renamed {
		t.Error(`duration_in_month is not in the card as "duration's \"in\" month"`)
	}
}

// TestLakeModeRootIndependent: the same book trained under two lake roots
// (one absolute, one relative to the working directory) gives the same
// model version and the same artifact bytes: model.json names its inputs
// relative to the lake.
func TestLakeModeRootIndependent(t *testing.T) {
	ctx := context.Background()
	var dirs [2]string
	var versions [2]string
	for i := range dirs {
		root := filepath.Join(t.TempDir(), fmt.Sprintf("book-%d", i))
		if i == 1 {
			wd, err := os.Getwd()
			if err != nil {
				t.Fatal(err)
			}
			rel, err := filepath.Rel(wd, root)
			if err != nil {
				t.Fatal(err)
			}
			root = rel
		}
		writeACardLake(t, root)
		c := train.NewConfig()
		c.Lake, c.Model, c.Out, c.OOTMonths = root, "acard", filepath.Join(root, "models"), 2
		r, err := train.Run(ctx, c, quiet)
		if err != nil {
			t.Fatal(err)
		}
		dirs[i], versions[i] = r.Dir, r.Model.Version
		for _, d := range r.Model.Data {
			if filepath.IsAbs(d.Path) || strings.Contains(d.Path, "book-") {
				t.Errorf("model.json names input %q with the lake's path", d.Path)
			}
		}
	}
	if versions[0] != versions[1] {
		t.Errorf("versions %s and %s for the same book under two roots", versions[0], versions[1])
	}
	fa, fb := readDir(t, dirs[0]), readDir(t, dirs[1])
	if len(fa) < 7 {
		t.Fatalf("artifact has %d files", len(fa))
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s differs between the two roots", name)
		}
	}
}

// max_rows: a modelling table of more rows is sampled uniformly to about
// that many (the bad rate kept), the model records it, and the sample
// depends on the rows' keys and the seed, not on the order of the files:
// the same lake written in another row order gives the same samples and
// card, and another seed another sample.
func TestLakeModeMaxRows(t *testing.T) {
	ctx := context.Background()
	run := func(root string, maxRows int, seed uint64) *train.Result {
		t.Helper()
		c := train.NewConfig()
		c.Lake, c.Model, c.Out, c.OOTMonths, c.MaxRows, c.Seed = root, "acard", t.TempDir(), 2, maxRows, seed
		r, err := train.Run(ctx, c, quiet)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	total := func(r *train.Result) int { return r.Samples["train"] + r.Samples["test"] + r.Samples["oot"] }
	root := t.TempDir()
	db := writeACardLake(t, root)
	full := run(root, 0, 1)
	capped := run(root, 2000, 1)
	n := total(full)
	if n < 4000 {
		t.Fatalf("%d rows in the full table: the test needs more than twice max_rows", n)
	}
	if got := total(capped); got < 1800 || got > 2200 {
		t.Errorf("%d rows kept of %d with max_rows 2000", got, n)
	}
	if s := capped.Model.Settings; s["max_rows"] != "2000" || !strings.Contains(s["sampled"], fmt.Sprintf("%d of %d rows", total(capped), n)) {
		t.Errorf("settings %v", s)
	}
	if _, ok := full.Model.Settings["sampled"]; ok {
		t.Errorf("an uncapped run says it sampled: %v", full.Model.Settings)
	}
	badRate := func(r *train.Result) float64 {
		var bads, rows float64
		for _, s := range r.Model.Metrics {
			bads += float64(s.Bads)
			rows += float64(s.N)
		}
		return bads / rows
	}
	if a, b := badRate(full), badRate(capped); math.Abs(a-b) > 0.03 {
		t.Errorf("bad rate %.4f sampled, %.4f in full", b, a)
	}
	// The same lake, rows in another order.
	shuffled := t.TempDir()
	for _, dir := range []string{"features/acard/as_of=2024-07-01", "labels/acard"} {
		if err := os.MkdirAll(filepath.Join(shuffled, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		src, dst := lake.Quote(filepath.Join(root, dir, "part-0.parquet")), lake.Quote(filepath.Join(shuffled, dir, "part-0.parquet"))
		if _, err := db.ExecContext(ctx, "COPY (SELECT * FROM read_parquet("+src+") ORDER BY md5(application_id)) TO "+dst+" (FORMAT parquet)"); err != nil {
			t.Fatal(err)
		}
	}
	again := run(shuffled, 2000, 1)
	if !reflect.DeepEqual(again.Samples, capped.Samples) || !reflect.DeepEqual(again.Model.Chars, capped.Model.Chars) || !reflect.DeepEqual(again.Model.Metrics, capped.Model.Metrics) {
		t.Errorf("another row order, another sample or card: %v vs %v", again.Samples, capped.Samples)
	}
	// The out-of-time sample depends on the sampling alone (not on the
	// seed's train/test split).
	oot := func(r *train.Result) [2]int {
		for _, s := range r.Model.Metrics {
			if s.Sample == "oot" {
				return [2]int{s.N, s.Bads}
			}
		}
		t.Fatal("no oot metrics")
		return [2]int{}
	}
	if other := run(root, 2000, 2); oot(other) == oot(capped) {
		t.Errorf("seed 2 drew the same out-of-time rows and bads as seed 1: %v", oot(capped))
	}
}
