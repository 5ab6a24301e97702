package features

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"qiandun/data/lake"
	"qiandun/data/perf"
)

// writeIntermediates writes perf's intermediate models
// perf/installment_payoff and perf/loan_closure of the hand-made lake at
// root with perf's own SQL, as the perf stage does, so a snapshot reads
// them from the lake.
func writeIntermediates(t testing.TB, root string) {
	t.Helper()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := lake.New(root)
	for _, v := range [][2]string{{"chunk_loans", "loans"}, {"chunk_schedule", "repayment_schedule"}, {"chunk_repayments", "repayments"}} {
		mustExec(t, db, "CREATE VIEW "+v[0]+" AS SELECT * FROM read_parquet("+q(l.Glob(v[1]))+")")
	}
	for _, m := range [][2]string{{"installment_payoff", "chunk_payoff"}, {"loan_closure", "chunk_closure"}} {
		dir := l.TableDir("perf/" + m[0])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "part-000.parquet")
		mustExec(t, db, "COPY ("+perf.Query(m[0])+") TO "+q(out)+" (FORMAT parquet)")
		mustExec(t, db, "CREATE VIEW "+m[1]+" AS SELECT * FROM read_parquet("+q(out)+")")
	}
}

// TestPayoffPointInTime: perf/installment_payoff is computed from every
// payment in the lake, including those after the as-of date d. A B-card
// snapshot at d reading it must be exactly the snapshot of a lake without
// those payments. The later payments pay L1 and L2 off completely (one of
// them on day d itself, which is not before d), so a reader that used a
// payoff time on or after d, the settled flag or the closure date would
// see L1 and L2 settled and drop them, or see their DPD fall to 0.
func TestPayoffPointInTime(t *testing.T) {
	later := rows{"repayments": {
		pay("TL1", "L1", 4, "2024-06-30 09:00:00", "500.00", "30.00"), // on d: not before d
		pay("TL2", "L1", 5, "2024-07-01 09:00:00", "500.00", "30.00"),
		pay("TL3", "L1", 6, "2024-07-01 09:00:00", "500.00", "30.00"),
	}}
	for i := 5; i <= 12; i++ {
		later["repayments"] = append(later["repayments"], pay("TL2-"+itoa(i), "L2", i, "2024-07-02 09:00:00", "100.00", "0.00"))
	}
	const asOf = "2024-06-30"

	base := t.TempDir()
	writeLake(t, base, "part-0", bcardLake())
	writeIntermediates(t, base)
	want := buildSnapshot(t, base, SetBCard, asOf)

	root := t.TempDir()
	writeLake(t, root, "part-0", bcardLake())
	writeLake(t, root, "part-1", later)
	writeIntermediates(t, root)
	// The model does know the later payoffs: the test is not vacuous.
	var n int
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + q(lake.New(root).Glob("perf/installment_payoff")) + ") WHERE paid_off_at >= TIMESTAMP '" + asOf + "' AND loan_id IN ('L1', 'L2')").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 11 {
		t.Fatalf("%d installments of L1 and L2 paid off on or after %s in perf/installment_payoff, want 11", n, asOf)
	}
	var closed int
	if err := db.QueryRow("SELECT count(*) FROM read_parquet(" + q(lake.New(root).Glob("perf/loan_closure")) + ") WHERE closure_kind = 'settled' AND loan_id IN ('L1', 'L2')").Scan(&closed); err != nil {
		t.Fatal(err)
	}
	if closed != 2 {
		t.Fatalf("perf/loan_closure: %d of L1, L2 settled, want 2", closed)
	}

	got := buildSnapshot(t, root, SetBCard, asOf)
	if got["L1"] == nil || got["L2"] == nil {
		t.Fatalf("L1 or L2 left the snapshot at %s: %v", asOf, got)
	}
	if !reflect.DeepEqual(got, want) {
		for id, r := range want {
			for col, v := range r {
				if !reflect.DeepEqual(v, got[id][col]) {
					t.Errorf("%s.%s = %v, want %v (payments from %s leaked)", id, col, got[id][col], v, asOf)
				}
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d rows, want %d", len(got), len(want))
		}
	}
	// A month later the payoffs are known: both loans are settled.
	after := buildSnapshot(t, root, SetBCard, "2024-07-31")
	for _, id := range []string{"L1", "L2"} {
		if after[id] != nil {
			t.Errorf("%s still active on 2024-07-31 after it was paid off", id)
		}
	}
}
