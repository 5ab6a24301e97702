//go:build duckdb_arrow

package score_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"qiandun/data/lake"
	"qiandun/scoring/publish"
	"qiandun/scoring/score"
	"qiandun/training/binning"
	"qiandun/training/frame"
	"qiandun/training/scorecard"
	"qiandun/training/train"
)

const german = "../../testdata/germancredit.csv"

// trainGerman fits a scorecard on the German credit data and returns its
// directory and the path of a copy of the data with an id column.
func trainGerman(t testing.TB) (modelDir, data string) {
	t.Helper()
	dir := t.TempDir()
	db := openDB(t)
	data = filepath.Join(dir, "german_id.csv")
	if _, err := db.Exec(fmt.Sprintf("COPY (SELECT 'G' || lpad(CAST(row_number() OVER () AS VARCHAR), 4, '0') AS id, * FROM read_csv(%s, header = true)) TO %s (HEADER)",
		lake.Quote(german), lake.Quote(data))); err != nil {
		t.Fatal(err)
	}
	cfg := train.NewConfig()
	cfg.Data, cfg.Target, cfg.BadValue, cfg.Out, cfg.Name = data, "creditability", "bad", filepath.Join(dir, "models"), "german"
	cfg.Exclude = []string{"id"}
	res, err := train.Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return res.Dir, data
}

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type row struct {
	score                    int
	pd                       float64
	grade, r1, r2, r3, flags string
	t1, t2, t3               string
	decision                 string
}

// readScores reads a published scores.parquet by entity id, and checks
// that scores.csv holds the same rows in the same order.
func readScores(t testing.TB, dir string) (map[string]row, []string) {
	t.Helper()
	if _, err := publish.Verify(dir); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	get := func(src string) ([]string, map[string]row) {
		rs, err := db.Query(fmt.Sprintf(`SELECT entity_id, score, pd, grade, coalesce(reason_1, ''), coalesce(reason_2, ''), coalesce(reason_3, ''),
			coalesce(reason_text_1, ''), coalesce(reason_text_2, ''), coalesce(reason_text_3, ''),
			coalesce(fraud_flags, ''), decision FROM %s`, src))
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		out := map[string]row{}
		var ids []string
		for rs.Next() {
			var id string
			var r row
			if err := rs.Scan(&id, &r.score, &r.pd, &r.grade, &r.r1, &r.r2, &r.r3, &r.t1, &r.t2, &r.t3, &r.flags, &r.decision); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			out[id] = r
		}
		return ids, out
	}
	ids, pq := get("read_parquet(" + lake.Quote(filepath.Join(dir, "scores.parquet")) + ")")
	csvIDs, csv := get("read_csv(" + lake.Quote(filepath.Join(dir, "scores.csv")) + ", header = true, all_varchar = false, types = {'entity_id': 'VARCHAR', 'fraud_flags': 'VARCHAR', 'reason_1': 'VARCHAR', 'reason_2': 'VARCHAR', 'reason_3': 'VARCHAR', 'reason_text_1': 'VARCHAR', 'reason_text_2': 'VARCHAR', 'reason_text_3': 'VARCHAR'})")
	if strings.Join(ids, ",") != strings.Join(csvIDs, ",") {
		t.Fatalf("scores.csv and scores.parquet rows differ in order or ids")
	}
	for id, r := range pq {
		if c := csv[id]; c != r {
			t.Fatalf("entity %s: parquet %+v, csv %+v", id, r, c)
		}
	}
	return pq, ids
}

// longNumber matches a number with more than 4 significant decimals, as
// an unrounded bin edge would print.
var longNumber = regexp.MustCompile(`\d\.\d{5,}`)

func run(t testing.TB, o score.Options) (*score.Manifest, string) {
	t.Helper()
	man, dir, err := score.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return man, dir
}

// TestMatchesTrainingAndSQL: every row's score equals the training
// code's score (scorecard.Model.Score on training/frame's columns) and the
// exported scorecard.sql run in DuckDB, rounded; PD is the card's PD of
// the exact score; reason codes are Model.Reasons'.
func TestMatchesTrainingAndSQL(t *testing.T) {
	modelDir, data := trainGerman(t)
	checkMatches(t, modelDir, data)
}

// A card with pairs (two-input characteristics, made-up cell points on
// the German credit card): the score stage, scorecard.sql and the
// training code agree on scores, PDs and reasons.
func TestMatchesTrainingAndSQLPairs(t *testing.T) {
	modelDir, data := trainGerman(t)
	m, err := scorecard.Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := openDB(t).Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fr, err := frame.Query(context.Background(), conn, "SELECT * FROM read_csv("+lake.Quote(data)+", header = true)", nil)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, fr.N)
	bad := fr.Cols["creditability"]
	for i := range y {
		if bad.Codes[i] >= 0 && bad.Dict[bad.Codes[i]] == "bad" {
			y[i] = 1
		}
	}
	fit := func(name string, o binning.Options) *binning.Binning {
		b, err := binning.Fit(fr.Cols[name], y, o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var pairs []scorecard.PairTable
	for _, ab := range [][2]*binning.Binning{
		{fit("age_in_years", binning.Options{MaxBins: 4, Specials: []float64{30}}), fit("duration_in_month", binning.Options{MaxBins: 3})},
		{fit("purpose", binning.Options{MaxBins: 3}), fit("credit_amount", binning.Options{MaxBins: 3})},
	} {
		n := len(ab[0].Bins) * len(ab[1].Bins)
		p := scorecard.PairTable{A: ab[0], B: ab[1], Table: make([]float64, n), Good: make([]int64, n), Bad: make([]int64, n)}
		for c := range n {
			p.Table[c] = math.Cos(float64(5*c+1)) / 2
		}
		pairs = append(pairs, p)
	}
	if err := m.AddPairs(pairs); err != nil {
		t.Fatal(err)
	}
	m.Version = ""
	checkMatches(t, writeModel(t, m), data)
}

// checkMatches scores data (1,000 German credit rows with an id) with
// the model in modelDir by the score stage and checks its scores, PDs
// and reasons against scorecard.sql's and the training code's.
func checkMatches(t *testing.T, modelDir, data string) {
	t.Helper()
	out := t.TempDir()
	man, dir := run(t, score.Options{Data: data, ID: "id", Models: []string{modelDir}, Out: out, AsOf: "2024-01-31", BatchRows: 128})
	got, _ := readScores(t, dir)
	if len(got) != 1000 || man.Rows != 1000 {
		t.Fatalf("%d rows scored, manifest %d, want 1000", len(got), man.Rows)
	}
	m, err := scorecard.Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	// SQL export.
	sqlText, err := os.ReadFile(filepath.Join(modelDir, "scorecard.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE VIEW input AS SELECT * FROM read_csv(" + lake.Quote(data) + ", header = true)"); err != nil {
		t.Fatal(err)
	}
	rs, err := db.Query("SELECT id, CAST(score AS DOUBLE) FROM (" + string(sqlText) + ")")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rs.Next() {
		var id string
		var s float64
		if err := rs.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		g := got[id]
		if g.score != int(math.Round(s)) {
			t.Fatalf("%s: score %d, scorecard.sql %v", id, g.score, s)
		}
		if pd := m.Scaling.PD(s); math.Abs(pd-g.pd) > 1e-12 {
			t.Fatalf("%s: pd %v, card PD of the SQL score %v", id, g.pd, pd)
		}
		n++
	}
	rs.Close()
	if n != 1000 {
		t.Fatalf("scorecard.sql gave %d rows", n)
	}
	// Training code.
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fr, err := frame.Query(context.Background(), conn, "SELECT * FROM input", nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := m.Score(fr.Cols)
	if err != nil {
		t.Fatal(err)
	}
	ids := fr.Cols["id"]
	reasonsSeen := 0
	for i := range fr.N {
		id := ids.Dict[ids.Codes[i]]
		g := got[id]
		if g.score != int(math.Round(sc.Score[i])) || g.pd != sc.PD[i] {
			t.Fatalf("%s: score %d pd %v, training code %v %v", id, g.score, g.pd, sc.Score[i], sc.PD[i])
		}
		want, wantText := make([]string, 3), make([]string, 3)
		for k, r := range m.Reasons(sc, i, 3) {
			want[k], wantText[k] = r.Code, r.Text
			reasonsSeen++
		}
		if have := []string{g.r1, g.r2, g.r3}; strings.Join(have, "|") != strings.Join(want, "|") {
			t.Fatalf("%s: reasons %q, Model.Reasons %q", id, have, want)
		}
		if have := []string{g.t1, g.t2, g.t3}; strings.Join(have, "|") != strings.Join(wantText, "|") {
			t.Fatalf("%s: reason texts %q, Model.Reasons %q", id, have, wantText)
		}
		for k, text := range []string{g.t1, g.t2, g.t3} {
			// Readable: short, no member list, no unrounded float.
			if utf8.RuneCountInString(text) > scorecard.MaxReasonText || strings.Contains(text, " | ") || longNumber.MatchString(text) {
				t.Fatalf("%s: reason_text_%d %q is not readable", id, k+1, text)
			}
			if (text == "") != (want[k] == "") {
				t.Fatalf("%s: reason_%d %q with text %q", id, k+1, want[k], text)
			}
		}
	}
	if reasonsSeen < 1000 {
		t.Fatalf("only %d reason codes in 1000 rows", reasonsSeen)
	}
}

// TestValidationMetrics: with --target the AUC equals the Mann–Whitney
// statistic computed independently in SQL from average ranks.
func TestValidationMetrics(t *testing.T) {
	modelDir, data := trainGerman(t)
	man, dir := run(t, score.Options{Data: data, ID: "id", Target: "creditability", BadValue: "bad", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31"})
	v := man.Models[0].Validation
	if v == nil || v.N != 1000 || v.Bads != 300 {
		t.Fatalf("validation %+v, want 1000 rows and 300 bads", v)
	}
	db := openDB(t)
	var auc float64
	q := fmt.Sprintf(`WITH s AS (SELECT s.pd, d.creditability = 'bad' AS bad FROM read_parquet(%s) s JOIN read_csv(%s, header = true) d ON s.entity_id = d.id),
r AS (SELECT bad, rank() OVER (ORDER BY pd) + (count(*) OVER (PARTITION BY pd) - 1) / 2.0 AS rk FROM s)
SELECT (sum(rk) FILTER (WHERE bad) - count(*) FILTER (WHERE bad) * (count(*) FILTER (WHERE bad) + 1) / 2.0)
       / (count(*) FILTER (WHERE bad) * count(*) FILTER (WHERE NOT bad)) FROM r`,
		lake.Quote(filepath.Join(dir, "scores.parquet")), lake.Quote(data))
	if err := db.QueryRow(q).Scan(&auc); err != nil {
		t.Fatal(err)
	}
	if math.Abs(auc-v.AUC) > 1e-12 || math.Abs(v.Gini-(2*auc-1)) > 1e-12 {
		t.Fatalf("AUC %v Gini %v, Mann–Whitney in SQL %v", v.AUC, v.Gini, auc)
	}
	if v.KS <= 0 || v.KS >= 1 || len(v.Gains) != 10 {
		t.Fatalf("KS %v, %d gains bands", v.KS, len(v.Gains))
	}
	if _, err := os.Stat(filepath.Join(dir, "gains.csv")); err != nil {
		t.Fatal(err)
	}
}

// TestInvariance: the same rows shuffled and scored in batches of 1, 7
// and 100,000 rows give the same result per entity, in input order.
func TestInvariance(t *testing.T) {
	modelDir, data := trainGerman(t)
	base, _ := readScores(t, func() string {
		_, d := run(t, score.Options{Data: data, ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31"})
		return d
	}())
	db := openDB(t)
	shuffled := filepath.Join(t.TempDir(), "shuffled.parquet")
	if _, err := db.Exec(fmt.Sprintf("COPY (SELECT * FROM read_csv(%s, header = true) ORDER BY hash(id || 'seed')) TO %s", lake.Quote(data), lake.Quote(shuffled))); err != nil {
		t.Fatal(err)
	}
	var order []string
	rs, err := db.Query("SELECT id FROM read_parquet(" + lake.Quote(shuffled) + ")")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var id string
		rs.Scan(&id)
		order = append(order, id)
	}
	rs.Close()
	// Twelve copies of every row, shuffled: many DuckDB vectors, units
	// that start and end inside them.
	big := filepath.Join(t.TempDir(), "big.parquet")
	if _, err := db.Exec(fmt.Sprintf("COPY (SELECT * REPLACE (id || '-' || k AS id) FROM read_csv(%s, header = true), range(12) r(k) ORDER BY hash(id, k)) TO %s", lake.Quote(data), lake.Quote(big))); err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{3000, 65536} {
		_, dir := run(t, score.Options{Data: big, ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31", BatchRows: batch, Workers: 2})
		got, ids := readScores(t, dir)
		if len(ids) != 12*len(base) {
			t.Fatalf("batch %d: %d rows, want %d", batch, len(ids), 12*len(base))
		}
		for id, r := range got {
			orig, _, _ := strings.Cut(id, "-")
			if base[orig] != r {
				t.Fatalf("batch %d: %s: %+v, original %+v", batch, id, r, base[orig])
			}
		}
	}
	for _, tc := range []struct {
		batch, workers int
	}{{1, 1}, {7, 2}, {100_000, 4}} {
		t.Run(fmt.Sprintf("batch%d", tc.batch), func(t *testing.T) {
			_, dir := run(t, score.Options{Data: shuffled, ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31",
				BatchRows: tc.batch, Workers: tc.workers})
			got, ids := readScores(t, dir)
			if strings.Join(ids, ",") != strings.Join(order, ",") {
				t.Fatalf("output order differs from input order")
			}
			for id, r := range base {
				if got[id] != r {
					t.Fatalf("%s: %+v, unshuffled %+v", id, got[id], r)
				}
			}
		})
	}
}

// TestRefusals: a tampered model, a missing characteristic and a column of
// the wrong type are refused with a clear message and nothing written.
func TestRefusals(t *testing.T) {
	modelDir, data := trainGerman(t)
	m, err := scorecard.Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	first, numeric := m.Chars[0].Name, ""
	for _, c := range m.Chars {
		if c.Kind == "numeric" {
			numeric = c.Name
			break
		}
	}
	db := openDB(t)
	dir := t.TempDir()
	mk := func(name, sel string) string {
		p := filepath.Join(dir, name)
		if _, err := db.Exec(fmt.Sprintf("COPY (SELECT %s FROM read_csv(%s, header = true)) TO %s", sel, lake.Quote(data), lake.Quote(p))); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tampered := filepath.Join(dir, "tampered")
	if err := os.CopyFS(tampered, os.DirFS(modelDir)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(tampered, "model.json"))
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	doc["base_points"] = doc["base_points"].(float64) + 10
	raw, _ = json.Marshal(doc)
	os.WriteFile(filepath.Join(tampered, "model.json"), raw, 0o644)
	for _, tc := range []struct {
		name, model, data, want string
	}{
		{"checksum", tampered, data, "checksum"},
		{"missing", modelDir, mk("missing.parquet", "* EXCLUDE ("+lake.Ident(first)+")"), "missing from"},
		{"type", modelDir, mk("type.parquet", "* REPLACE ('x' || CAST("+lake.Ident(numeric)+" AS VARCHAR) AS "+lake.Ident(numeric)+")"), "type mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			_, _, err := score.Run(context.Background(), score.Options{Data: tc.data, Models: []string{tc.model}, Out: out, AsOf: "2024-01-31"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(out); len(ents) > 0 {
				t.Fatalf("refused run left %d entries in the output", len(ents))
			}
		})
	}
}

// TestFallbackCounted: values never seen in training take the fallback
// bin, scored as scorecard.sql scores them, and are counted.
func TestFallbackCounted(t *testing.T) {
	modelDir, data := trainGerman(t)
	m, _ := scorecard.Load(modelDir)
	var cat string
	for _, c := range m.Chars {
		if c.Kind == "categorical" {
			cat = c.Name
			break
		}
	}
	db := openDB(t)
	p := filepath.Join(t.TempDir(), "unseen.parquet")
	// Every 10th row gets a category the card never saw.
	if _, err := db.Exec(fmt.Sprintf("COPY (SELECT * REPLACE (CASE WHEN CAST(substr(id, 2) AS INTEGER) %% 10 = 0 THEN 'never seen' ELSE %s END AS %s) FROM read_csv(%s, header = true)) TO %s",
		lake.Ident(cat), lake.Ident(cat), lake.Quote(data), lake.Quote(p))); err != nil {
		t.Fatal(err)
	}
	man, dir := run(t, score.Options{Data: p, ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31"})
	for _, f := range man.Models[0].Fallbacks {
		want := int64(0)
		if f.Variable == cat {
			want = 100
		}
		if f.Rows != want {
			t.Fatalf("%s: %d fallback rows, want %d", f.Variable, f.Rows, want)
		}
	}
	got, _ := readScores(t, dir)
	if _, err := db.Exec("CREATE VIEW input AS SELECT * FROM read_parquet(" + lake.Quote(p) + ")"); err != nil {
		t.Fatal(err)
	}
	rs, err := db.Query("SELECT id, CAST(score AS DOUBLE) FROM (" + m.SQL("input") + ")")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var id string
		var s float64
		rs.Scan(&id, &s)
		if got[id].score != int(math.Round(s)) {
			t.Fatalf("%s: score %d, scorecard.sql %v", id, got[id].score, s)
		}
	}
}

// TestRules: grades follow the cut-offs and decisions the rules.
func TestRules(t *testing.T) {
	modelDir, data := trainGerman(t)
	rules := score.DefaultRules()
	rules.GradeCutoffs = []float64{590, 570, 550, 530}
	_, dir := run(t, score.Options{Data: data, ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31", Rules: rules})
	got, _ := readScores(t, dir)
	for id, r := range got {
		want := "E"
		for k, c := range rules.GradeCutoffs {
			if float64(r.score) >= c {
				want = score.Grades[k]
				break
			}
		}
		dec := map[string]string{"E": "decline", "D": "review"}[want]
		if dec == "" {
			dec = "approve"
		}
		if r.grade != want || r.decision != dec {
			t.Fatalf("%s: score %d grade %s decision %s, want %s %s", id, r.score, r.grade, r.decision, want, dec)
		}
	}
}

// TestScoreFileTypes: scores.parquet has the contract's columns, in order,
// with the contract's types as any Parquet reader sees them (the text
// columns are UTF-8 strings, whatever DuckDB used to write them).
func TestScoreFileTypes(t *testing.T) {
	modelDir, data := trainGerman(t)
	_, dir := run(t, score.Options{Data: data, ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31"})
	db := openDB(t)
	pq := lake.Quote(filepath.Join(dir, "scores.parquet"))
	rs, err := db.Query("SELECT name, type, converted_type FROM parquet_schema(" + pq + ") WHERE type IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	want := []struct{ name, physical, converted string }{
		{"entity_id", "BYTE_ARRAY", "UTF8"}, {"as_of", "INT32", "DATE"}, {"model", "BYTE_ARRAY", "UTF8"},
		{"model_version", "BYTE_ARRAY", "UTF8"}, {"score", "INT32", "INT_32"}, {"pd", "DOUBLE", ""},
		{"grade", "BYTE_ARRAY", "UTF8"}, {"reason_1", "BYTE_ARRAY", "UTF8"}, {"reason_2", "BYTE_ARRAY", "UTF8"},
		{"reason_3", "BYTE_ARRAY", "UTF8"}, {"reason_text_1", "BYTE_ARRAY", "UTF8"}, {"reason_text_2", "BYTE_ARRAY", "UTF8"},
		{"reason_text_3", "BYTE_ARRAY", "UTF8"}, {"fraud_flags", "BYTE_ARRAY", "UTF8"}, {"decision", "BYTE_ARRAY", "UTF8"},
	}
	i := 0
	for ; rs.Next(); i++ {
		var name, physical string
		var converted sql.NullString
		if err := rs.Scan(&name, &physical, &converted); err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("extra column %s", name)
		}
		if w := want[i]; name != w.name || physical != w.physical || converted.String != w.converted {
			t.Errorf("column %d: %s %s %s, want %s %s %s", i, name, physical, converted.String, w.name, w.physical, w.converted)
		}
	}
	if i != len(want) {
		t.Fatalf("%d columns, want %d", i, len(want))
	}
	m, err := scorecard.Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	var models, grades string
	var reasons int
	if err := db.QueryRow("SELECT string_agg(DISTINCT model, ','), string_agg(DISTINCT grade, ',' ORDER BY grade), count(reason_1) FROM read_parquet("+pq+")").Scan(&models, &grades, &reasons); err != nil {
		t.Fatal(err)
	}
	for _, g := range strings.Split(grades, ",") {
		if !slices.Contains(score.Grades[:], g) {
			t.Errorf("grade %q", g)
		}
	}
	if models != m.Name || reasons == 0 {
		t.Errorf("models %q (want %q), grades %q, %d reason_1 values", models, m.Name, grades, reasons)
	}
}

// TestNoReasons: a card whose characteristics score the same in every bin
// has no reason codes; its score file has empty reasons, not an error.
func TestNoReasons(t *testing.T) {
	m := handModel()
	for j := range m.Chars {
		for k := range m.Chars[j].Bins {
			m.Chars[j].Bins[k].Points = 20
		}
	}
	modelDir := writeModel(t, m)
	data := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(data, []byte("id,a,b,c\nx1,1,9,1\nx2,9,1,9\n"), 0o644)
	_, dir := run(t, score.Options{Data: data, ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31"})
	got, _ := readScores(t, dir)
	if len(got) != 2 {
		t.Fatalf("%d rows", len(got))
	}
	for id, r := range got {
		if r.score != 560 || r.r1 != "" || r.r2 != "" || r.r3 != "" {
			t.Errorf("%s: %+v, want score 560 and no reasons", id, r)
		}
	}
}

// TestCSVLongFields: ids, a model name and reason texts longer than the
// CSV writer's fixed-size moves (16 and 48 bytes) are written whole, and
// scores.csv reads back as scores.parquet.
func TestCSVLongFields(t *testing.T) {
	m := handModel()
	long := strings.Repeat("characteristic_", 4)
	for j := range m.Chars {
		m.Chars[j].Name = long + m.Chars[j].Name
	}
	m.Name = "a_model_name_long_enough_to_need_more_than_one_fixed_size_move"
	modelDir := writeModel(t, m)
	ids := []string{"x", "exactly16bytes!!", "seventeen_bytes!!", strings.Repeat("i", 40), "with,comma", `q"uote`}
	var b strings.Builder
	fmt.Fprintf(&b, "id,%sa,%sb,%sc\n", long, long, long)
	for i, id := range ids {
		if strings.ContainsAny(id, `,"`) {
			id = `"` + strings.ReplaceAll(id, `"`, `""`) + `"`
		}
		fmt.Fprintf(&b, "%s,%d,%d,%d\n", id, i%2*9, (i+1)%2*9, i%3*4)
	}
	data := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, dir := run(t, score.Options{Data: data, ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31"})
	got, order := readScores(t, dir)
	if !slices.Equal(order, ids) {
		t.Fatalf("ids %q, want %q", order, ids)
	}
	if r := got["x"]; !strings.HasPrefix(r.r1, long) {
		t.Errorf("row x: reason %q, want a long characteristic name", r.r1)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "scores.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(csv), "\n"+ids[3]+",2024-01-31,"+m.Name+",") {
		t.Errorf("scores.csv lacks the 40-byte id and long model name:\n%s", csv)
	}
}

// writeModel seals m and writes it as a model artifact; it returns the
// directory.
func writeModel(t *testing.T, m *scorecard.Model) string {
	t.Helper()
	m.Schema = scorecard.SchemaVersion
	if err := m.Seal(); err != nil {
		t.Fatal(err)
	}
	dir, err := m.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
