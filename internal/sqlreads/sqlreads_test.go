package sqlreads

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"qiandun/data/perf"
	"qiandun/data/schema"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, src   string
		reads, uses []string
		err         string
	}{
		{"both", "-- a model\n-- reads: loans, perf/installment_payoff\n-- uses: spine_bcard\nSELECT 1", []string{"loans", "perf/installment_payoff"}, []string{"spine_bcard"}, ""},
		{"none", "-- reads: (none)\n-- uses: a,b\nSELECT 1", nil, []string{"a", "b"}, ""},
		{"after the header", "-- a model\nSELECT 1\n-- reads: loans\n", nil, nil, "no `-- reads:` line"},
		{"missing", "-- a model\nSELECT 1", nil, nil, "no `-- reads:` line"},
		{"twice", "-- reads: a\n-- reads: b\nSELECT 1", nil, nil, `two "reads" lines`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Parse(tc.src)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h.Reads, tc.reads) || !reflect.DeepEqual(h.Uses, tc.uses) {
				t.Errorf("got reads %v uses %v, want %v %v", h.Reads, h.Uses, tc.reads, tc.uses)
			}
		})
	}
}

func TestTables(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"ctes and joins", "WITH a AS (SELECT * FROM loans), b AS (SELECT * FROM a JOIN repayments r USING (loan_id))\nSELECT * FROM b SEMI JOIN spine s ON true", []string{"loans", "repayments", "spine"}},
		{"cte with columns", "WITH m(a, b) AS (SELECT 1, 2 FROM perf_params)\nSELECT * FROM m", []string{"perf_params"}},
		{"cte not materialized", "WITH a AS NOT MATERIALIZED (SELECT * FROM loans), b AS MATERIALIZED (SELECT * FROM a)\nSELECT * FROM a JOIN b USING (loan_id)", []string{"loans"}},
		{"comments and strings", "-- FROM hidden\nSELECT 'FROM quoted' FROM /* JOIN nope */ panel", []string{"panel"}},
		{"functions and subqueries", "SELECT * FROM read_parquet('x') JOIN (SELECT 1 FROM t) ON true, LATERAL (SELECT 2) JOIN unnest([1]) ON true", []string{"t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Tables(tc.src); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// layout returns the lake tables a SQL model may read: ingest's raw
// tables, what perf writes, the feature snapshots and the A-card scores.
func layout() map[string]bool {
	out := map[string]bool{}
	for _, t := range schema.Tables() {
		out[t.Name] = true
	}
	for _, t := range perf.Tables() {
		out[t] = true
	}
	for _, t := range []string{"features/acard", "features/bcard", "features/fraud_flags", "scores_acard"} {
		out[t] = true
	}
	return out
}

// views maps the names the SQL models give lake tables in their DuckDB
// sessions to the tables (a raw table's view has the table's name).
var views = map[string]string{
	"chunk_loans": "loans", "chunk_schedule": "repayment_schedule", "chunk_repayments": "repayments",
	"installment_payoff": "perf/installment_payoff", "chunk_payoff": "perf/installment_payoff",
	"loan_closure": "perf/loan_closure", "chunk_closure": "perf/loan_closure",
	"panel": "perf/panel", "out_labels_acard": "labels/acard",
	"snap": "features/bcard", "features_acard": "features/acard", "labels_acard": "labels/acard",
	"features_bcard": "features/bcard", "labels_bcard": "labels/bcard",
}

// check returns what is wrong with the header of one SQL model.
func check(src string, lay map[string]bool) []string {
	h, err := Parse(src)
	if err != nil {
		return []string{err.Error()}
	}
	var bad []string
	for _, r := range h.Reads {
		if !lay[r] {
			bad = append(bad, fmt.Sprintf("reads %s, which no stage writes (not in the lake layout)", r))
		}
	}
	readRef, useRef := map[string]bool{}, map[string]bool{}
	for _, name := range Tables(src) {
		table, isLake := views[name], false
		if table == "" && lay[name] {
			table = name
		}
		if table != "" {
			isLake = true
		}
		switch {
		case isLake && slices.Contains(h.Reads, table):
			readRef[table] = true
		case isLake:
			bad = append(bad, fmt.Sprintf("reads %s (as %s) but does not declare it in `-- reads:`", table, name))
		case slices.Contains(h.Uses, name):
			useRef[name] = true
		default:
			bad = append(bad, fmt.Sprintf("reads %s, which is neither a lake table nor declared in `-- uses:`", name))
		}
	}
	for _, r := range h.Reads {
		if !readRef[r] {
			bad = append(bad, fmt.Sprintf("declares it reads %s but does not", r))
		}
	}
	for _, u := range h.Uses {
		if !useRef[u] {
			bad = append(bad, fmt.Sprintf("declares it uses %s but does not", u))
		}
	}
	return bad
}

// TestModelHeaders checks the header of every SQL model of perf,
// features, warn and train: the lake tables it declares exist in the lake
// layout (written by ingest, perf, features or the A-card scores), and
// they are exactly the lake tables its query reads, the rest of what it
// reads being declared session tables.
func TestModelHeaders(t *testing.T) {
	lay := layout()
	for _, want := range []string{"perf/installment_payoff", "perf/loan_closure", "loans", "repayments"} {
		if !lay[want] {
			t.Fatalf("the layout has no %s", want)
		}
	}
	var n int
	for _, dir := range []string{"../../data/perf/sql", "../../features", "../../scoring/warn", "../../training/train/sql"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no SQL files in %s: %v", dir, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n++
			for _, msg := range check(string(b), lay) {
				t.Errorf("%s: %s", f, msg)
			}
		}
	}
	if n < 30 {
		t.Errorf("checked %d SQL files, want all of them", n)
	}
}

// TestCheckCatches feeds the checker headers that lie: a reader that
// re-derives payoff from repayments without saying so, a table no stage
// writes, a stale declaration.
func TestCheckCatches(t *testing.T) {
	lay := layout()
	for _, tc := range []struct{ name, src, want string }{
		{"undeclared raw read", "-- reads: perf/installment_payoff\nSELECT * FROM installment_payoff JOIN repayments USING (loan_id)", "reads repayments (as repayments) but does not declare it"},
		{"not in the layout", "-- reads: perf/payoff_v2\nSELECT 1", "perf/payoff_v2, which no stage writes"},
		{"stale read", "-- reads: loans, repayments\nSELECT * FROM loans", "declares it reads repayments but does not"},
		{"undeclared session table", "-- reads: loans\nSELECT * FROM loans JOIN spine_bcard USING (loan_id)", "spine_bcard, which is neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(check(tc.src, lay), "; ")
			if !strings.Contains(got, tc.want) {
				t.Errorf("check: %q, want %q", got, tc.want)
			}
		})
	}
}
