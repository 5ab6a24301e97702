package repair

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"qiandun/data/gen"
	"qiandun/data/ingest"
	"qiandun/data/lake"
	"qiandun/scoring/publish"
)

var testKey = []byte("repair-test-key-0123456789abcdef")

// handLake writes a lake of hand-made rows (only the columns the repair
// reads; tokens are plain strings) and returns its root.
func handLake(t *testing.T, tables map[string]string) string {
	t.Helper()
	root := t.TempDir()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "500MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, sel := range tables {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("COPY (" + sel + ") TO " + lake.Quote(filepath.Join(dir, "part-0.parquet")) + " (FORMAT parquet)"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return root
}

// The hand-made book: one loan per channel kind and the point-in-time
// edges. As-of 2023-07-01.
var handTables = map[string]string{
	"applications": `SELECT * FROM (VALUES
  -- L1: the borrower applies again after the loss with a new phone; an
  -- application after as-of and one with the lost phone are not candidates
  ('A1', 'B1', 'ID1', 'P1', 'D1', 'I1', TIMESTAMP '2023-01-10 10:00:00'),
  ('A2', 'B1', 'ID1', 'P2', 'D9', 'I9', TIMESTAMP '2023-05-01 10:00:00'),
  ('A3', 'B1', 'ID1', 'P1', 'D1', 'I1', TIMESTAMP '2023-05-02 10:00:00'),
  ('A4', 'B1', 'ID1', 'P4', 'D1', 'I1', TIMESTAMP '2023-07-01 00:00:00'),
  -- L2: an older phone on an earlier own application, under another
  -- borrower id with the same ID number
  ('A5', 'B2', 'ID2', 'P5', 'D2', 'I2', TIMESTAMP '2022-11-01 10:00:00'),
  ('A6', 'B2x', 'ID2', 'P6', 'D6', 'I6', TIMESTAMP '2021-11-01 10:00:00'),
  -- L3: a housemate on the borrower's device within the window, a
  -- stranger on it outside the window (400 days)
  ('A7', 'B3', 'ID3', 'P7', 'D3', 'I3', TIMESTAMP '2022-09-01 10:00:00'),
  ('A8', 'C3', 'IDC3', 'P8', 'D3', 'IC3', TIMESTAMP '2023-03-01 10:00:00'),
  ('A9', 'C4', 'IDC4', 'P9', 'D3', 'IC4', TIMESTAMP '2021-07-28 10:00:00'),
  -- L4: strangers on the borrower's IP: 20 days apart (linked), 40 days
  -- apart (not)
  ('A10', 'B4', 'ID4', 'P10', 'D4', 'I4', TIMESTAMP '2023-02-01 10:00:00'),
  ('A11', 'C5', 'IDC5', 'P11', 'DC5', 'I4', TIMESTAMP '2023-02-21 10:00:00'),
  ('A12', 'C6', 'IDC6', 'P12', 'DC6', 'I4', TIMESTAMP '2023-03-13 10:00:00'),
  -- L5: nothing but bureau activity
  ('A13', 'B5', 'ID5', 'P13', 'D5', 'I5', TIMESTAMP '2022-10-01 10:00:00'),
  -- L6: contact repaired before as-of: not lost
  ('A14', 'B6', 'ID6', 'P14', 'D6x', 'I6x', TIMESTAMP '2022-10-01 10:00:00'),
  ('A15', 'B6', 'ID6', 'P15', 'D6x', 'I6x', TIMESTAMP '2023-04-01 10:00:00')
) t(application_id, borrower_id, id_number_token, phone_token, device_id_token, ip_token, apply_time)`,
	"loans": `SELECT * FROM (VALUES ('L1', 'B1', 'A1'), ('L2', 'B2', 'A5'), ('L3', 'B3', 'A7'), ('L4', 'B4', 'A10'),
  ('L5', 'B5', 'A13'), ('L6', 'B6', 'A14')) t(loan_id, borrower_id, application_id)`,
	"collection_events": `SELECT * FROM (VALUES
  ('L1', TIMESTAMP '2023-04-01 10:00:00', 'lost_contact'), ('L1', TIMESTAMP '2023-04-05 10:00:00', 'no_answer'),
  ('L1', TIMESTAMP '2023-07-02 10:00:00', 'contact_repaired'),
  ('L2', TIMESTAMP '2023-03-01 10:00:00', 'lost_contact'),
  ('L3', TIMESTAMP '2023-02-01 10:00:00', 'lost_contact'),
  ('L4', TIMESTAMP '2023-04-01 10:00:00', 'lost_contact'),
  ('L5', TIMESTAMP '2023-03-01 10:00:00', 'contact_repaired'), ('L5', TIMESTAMP '2023-04-01 10:00:00', 'lost_contact'),
  ('L6', TIMESTAMP '2023-03-01 10:00:00', 'lost_contact'), ('L6', TIMESTAMP '2023-05-01 10:00:00', 'contact_repaired')
) t(loan_id, event_time, outcome)`,
	"bureau_reports": `SELECT * FROM (VALUES ('B5', DATE '2023-05-20'), ('B5', DATE '2023-07-05')) t(borrower_id, report_date)`,
	"bureau_inquiries": `SELECT * FROM (VALUES ('B5', DATE '2023-06-10', 'microloan', 'loan_approval'),
  ('B5', DATE '2023-06-20', 'consumer_finance', 'post_loan')) t(borrower_id, query_date, institution_type, reason)`,
}

type cand struct {
	Kind, Phone, App string
	Recency          int
}

func readCandidates(t *testing.T, path string) map[string][]cand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, n := range recs[0] {
		col[n] = i
	}
	out := map[string][]cand{}
	for _, r := range recs[1:] {
		var rec int
		fmt.Sscan(r[col["recency_days"]], &rec)
		out[r[col["loan_id"]]] = append(out[r[col["loan_id"]]], cand{r[col["kind"]], r[col["phone_token"]], r[col["evidence_application_id"]], rec})
	}
	return out
}

type fakeVault map[string]string

func (v fakeVault) Reveal(_ context.Context, tokens []string) (map[string]string, error) {
	out := map[string]string{}
	for _, t := range tokens {
		out[t] = v[t]
	}
	return out, nil
}

// TestHandMadeChannels checks each channel kind on a hand-made case, the
// ranking between them, the link windows and point-in-time: nothing at or
// after as-of counts.
func TestHandMadeChannels(t *testing.T) {
	root := handLake(t, handTables)
	out := t.TempDir()
	phones := fakeVault{}
	for i := range 20 {
		phones[fmt.Sprintf("P%d", i)] = fmt.Sprintf("1380000%04d", i)
	}
	o := Options{Lake: root, AsOf: "2023-07-01", Out: out, Config: DefaultConfig(), Queue: phones, Memory: "500MB"}
	m, dir, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	got := readCandidates(t, filepath.Join(dir, "candidates.csv"))
	want := map[string][]cand{
		"L1": {{"own_application_after_loss", "P2", "A2", 61}},
		"L2": {{"own_application", "P6", "A6", 607}},
		"L3": {{"linked_device", "P8", "A8", 122}},
		"L4": {{"linked_ip", "P11", "A11", 130}},
		"L5": {{"bureau_activity", "", "", 21}},
	}
	for _, loan := range []string{"L1", "L2", "L3", "L4", "L5", "L6"} {
		if !reflect.DeepEqual(got[loan], want[loan]) {
			t.Errorf("%s: candidates %+v, want %+v", loan, got[loan], want[loan])
		}
	}
	if m.LostLoans != 5 || m.Candidates != 5 || m.Rows != 5 || m.WithPhone != 4 || m.QueueRows != 4 {
		t.Errorf("manifest: lost %d, candidates %d, with phone %d, queue %d; want 5, 5, 4, 4", m.LostLoans, m.Candidates, m.WithPhone, m.QueueRows)
	}
	q, err := os.ReadFile(filepath.Join(dir, "queue.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "queue.csv")); st.Mode().Perm() != 0o600 {
		t.Errorf("queue.csv mode %v, want 0600", st.Mode().Perm())
	}
	if !strings.Contains(string(q), "L1,B1,1,own_application_after_loss,13800000002,61,") {
		t.Errorf("queue.csv lacks L1's revealed phone:\n%s", q)
	}
	c, _ := os.ReadFile(filepath.Join(dir, "candidates.csv"))
	if strings.Contains(string(c), "13800000") {
		t.Error("candidates.csv carries a clear phone")
	}
	if _, err := publish.Verify(dir); err != nil {
		t.Errorf("published directory: %v", err)
	}
}

// TestRankingOrder puts every kind on one loan: the order is the kinds'
// weights at equal recency, and a much older strong channel falls below
// a fresh weaker one.
func TestRankingOrder(t *testing.T) {
	tables := map[string]string{
		"applications": `SELECT * FROM (VALUES
  ('A1', 'B1', 'ID1', 'P1', 'D1', 'I1', TIMESTAMP '2023-01-01 10:00:00'),
  ('A0', 'B1', 'ID1', 'P0', 'D0', 'I0', TIMESTAMP '2022-12-20 10:00:00'),
  ('A2', 'B1', 'ID1', 'P2', 'D2', 'I2', TIMESTAMP '2023-01-20 10:00:00'),
  ('A3', 'C1', 'IDC1', 'P3', 'D1', 'IC1', TIMESTAMP '2023-01-20 10:00:00'),
  ('A4', 'C2', 'IDC2', 'P4', 'DC2', 'I1', TIMESTAMP '2023-01-20 10:00:00')
) t(application_id, borrower_id, id_number_token, phone_token, device_id_token, ip_token, apply_time)`,
		"loans":             `SELECT 'L1' AS loan_id, 'B1' AS borrower_id, 'A1' AS application_id`,
		"collection_events": `SELECT 'L1' AS loan_id, TIMESTAMP '2023-01-15 10:00:00' AS event_time, 'lost_contact' AS outcome`,
		"bureau_reports":    `SELECT 'B1' AS borrower_id, DATE '2023-01-20' AS report_date`,
		"bureau_inquiries":  `SELECT 'B0' AS borrower_id, DATE '2023-01-20' AS query_date, 'bank' AS institution_type, 'loan_approval' AS reason`,
	}
	root := handLake(t, tables)
	o := Options{Lake: root, AsOf: "2023-02-01", Out: t.TempDir(), Config: DefaultConfig(), Memory: "500MB"}
	_, dir, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range readCandidates(t, filepath.Join(dir, "candidates.csv"))["L1"] {
		kinds = append(kinds, c.Kind)
	}
	// A0 (own, before the loss, P0) is 43 days old; the others 12.
	wantKinds := []string{"own_application_after_loss", "linked_device", "own_application", "linked_ip", "bureau_activity"}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("ranking %v, want %v", kinds, wantKinds)
	}
	// With a one-day half-life the 43-day-old own phone falls below the
	// 12-day-old IP link (0.4 x 2^-43 < 0.2 x 2^-12).
	o.Config.HalfLifeDays = 1
	o.Out = t.TempDir()
	if _, dir, err = Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	kinds = nil
	for _, c := range readCandidates(t, filepath.Join(dir, "candidates.csv"))["L1"] {
		kinds = append(kinds, c.Kind)
	}
	wantKinds = []string{"own_application_after_loss", "linked_device", "linked_ip", "bureau_activity", "own_application"}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("ranking with a 1-day half-life %v, want %v", kinds, wantKinds)
	}
}

// TestTiesBrokenByContent checks that the output does not depend on the
// order of the input rows: a stranger's phone found through two own
// applications on the same device (the same score, time and application)
// keeps the evidence of the first own application, and a bureau report
// and an inquiry on the same day give the report; the files are the same
// bytes for the rows in either order.
func TestTiesBrokenByContent(t *testing.T) {
	apps := []string{
		"('A1', 'B1', 'ID1', 'P1', 'D1', 'I1', TIMESTAMP '2023-01-01 10:00:00')",
		"('A2', 'B1', 'ID1', 'P1', 'D1', 'I2', TIMESTAMP '2023-01-02 10:00:00')",
		"('A3', 'C1', 'IDC1', 'P3', 'D1', 'IC1', TIMESTAMP '2023-01-20 10:00:00')",
	}
	events := []string{"('B1', DATE '2023-01-25', 'report')", "('B1', DATE '2023-01-25', 'inquiry')"}
	run := func(reverse bool) (map[string][]cand, []byte) {
		a, e := append([]string{}, apps...), append([]string{}, events...)
		if reverse {
			slices.Reverse(a)
			slices.Reverse(e)
		}
		tables := map[string]string{
			"applications": "SELECT * FROM (VALUES " + strings.Join(a, ", ") +
				") t(application_id, borrower_id, id_number_token, phone_token, device_id_token, ip_token, apply_time)",
			"loans":             `SELECT 'L1' AS loan_id, 'B1' AS borrower_id, 'A1' AS application_id`,
			"collection_events": `SELECT 'L1' AS loan_id, TIMESTAMP '2023-01-15 10:00:00' AS event_time, 'lost_contact' AS outcome`,
			"bureau_reports":    `SELECT borrower_id, day AS report_date FROM (VALUES ` + strings.Join(e, ", ") + `) t(borrower_id, day, what) WHERE what = 'report'`,
			"bureau_inquiries":  `SELECT borrower_id, day AS query_date, 'bank' AS institution_type, 'loan_approval' AS reason FROM (VALUES ` + strings.Join(e, ", ") + `) t(borrower_id, day, what) WHERE what = 'inquiry'`,
		}
		o := Options{Lake: handLake(t, tables), AsOf: "2023-02-01", Out: t.TempDir(), Config: DefaultConfig(), Memory: "500MB"}
		_, dir, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "candidates.csv"))
		if err != nil {
			t.Fatal(err)
		}
		return readCandidates(t, filepath.Join(dir, "candidates.csv")), b
	}
	got, forward := run(false)
	if c := got["L1"]; len(c) != 2 || c[0].Kind != "linked_device" || c[0].App != "A3" || c[1].Kind != "bureau_activity" {
		t.Fatalf("candidates %+v, want the device link to A3 and the bureau activity", c)
	}
	if !strings.Contains(string(forward), "on the device of own application A1") {
		t.Errorf("the device link's evidence does not name the first own application A1:\n%s", forward)
	}
	if !strings.Contains(string(forward), "bureau report on 2023-01-25") {
		t.Errorf("the bureau activity is not the report:\n%s", forward)
	}
	if _, reversed := run(true); !bytes.Equal(forward, reversed) {
		t.Errorf("candidates.csv depends on the input rows' order:\n%s\nreversed:\n%s", forward, reversed)
	}
}

// generatedLake generates a clean book of n loans and ingests it.
func generatedLake(t *testing.T, n int) (raw, root string) {
	t.Helper()
	ctx := context.Background()
	cfg := gen.DefaultConfig()
	cfg.Loans = n
	raw, root = t.TempDir(), filepath.Join(t.TempDir(), "lake")
	if _, err := gen.Generate(ctx, cfg, raw, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, ingest.Options{Raw: raw, Lake: root, MaxRejectRate: 0, Key: testKey, Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	return raw, root
}

// TestBacktestAgainstTruth runs the back-test on a generated book against
// the generator's _truth/repair.csv: the lost loans are exactly the
// truth's, every reaching channel is found, and the ranking puts one in
// the top 3 for nearly every reachable loan — a floor a random order of
// the same candidates falls below. At an earlier as-of, nothing at or
// after it is used.
func TestBacktestAgainstTruth(t *testing.T) {
	raw, root := generatedLake(t, 4000)
	truth := filepath.Join(raw, "_truth", "repair.csv")
	ctx := context.Background()
	o := Options{Lake: root, AsOf: "2024-01-01", Config: DefaultConfig(), Memory: "1GB"}
	bt, err := RunBacktest(ctx, o, truth)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("back-test: %+v", bt)
	if bt.LostLoans != bt.TruthLost || bt.Missing != 0 || bt.LostLoans < 50 {
		t.Errorf("lost loans: %d listed, %d in the truth, %d of those not listed; want equal, none missing, at least 50", bt.LostLoans, bt.TruthLost, bt.Missing)
	}
	if bt.Reachable < 30 || bt.Found != bt.Reachable {
		t.Errorf("reachable %d, found %d: want at least 30, all found", bt.Reachable, bt.Found)
	}
	const floor = 0.95
	top1, top3 := bt.Top[0], bt.Top[1]
	if top3.K != 3 || top3.Share < floor {
		t.Errorf("top 3 reaches %.3f of reachable loans, want at least %.2f", top3.Share, floor)
	}
	if top3.Random >= floor-0.1 {
		t.Errorf("a random order reaches %.3f in the top 3: the floor %.2f would not catch a broken ranking", top3.Random, floor)
	}
	if top1.Share < 0.8 || top1.Share < top1.Random+0.3 {
		t.Errorf("top 1 reaches %.3f (random %.3f)", top1.Share, top1.Random)
	}

	// Point-in-time at mid-2023.
	o.AsOf, o.Out = "2023-06-15", t.TempDir()
	_, dir, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "500MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, late int
	if err := db.QueryRow("SELECT count(*), count(*) FILTER (WHERE evidence_time >= TIMESTAMP '2023-06-15' OR lost_at >= TIMESTAMP '2023-06-15') FROM read_parquet("+
		lake.Quote(filepath.Join(dir, "candidates.parquet"))+")").Scan(&n, &late); err != nil {
		t.Fatal(err)
	}
	if n == 0 || late != 0 {
		t.Errorf("as-of 2023-06-15: %d candidates, %d with evidence or loss at or after as-of", n, late)
	}
	bt2, err := RunBacktest(ctx, o, truth)
	if err != nil {
		t.Fatal(err)
	}
	if bt2.Reachable >= bt.Reachable || bt2.Top[1].Share < floor {
		t.Errorf("as-of 2023-06-15: reachable %d (year end %d), top 3 %.3f", bt2.Reachable, bt.Reachable, bt2.Top[1].Share)
	}
}

func TestRandomHit(t *testing.T) {
	for _, c := range []struct {
		n, hits, k int
		want       float64
	}{
		{0, 0, 3, 0}, {5, 0, 3, 0}, {3, 1, 3, 1}, {2, 1, 3, 1},
		{4, 1, 1, 0.25}, {4, 1, 3, 0.75}, {6, 1, 3, 0.5}, {6, 2, 3, 0.8}, {6, 4, 3, 1},
	} {
		if got := RandomHit(c.n, c.hits, c.k); got < c.want-1e-12 || got > c.want+1e-12 {
			t.Errorf("RandomHit(%d, %d, %d) = %g, want %g", c.n, c.hits, c.k, got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown.yaml":  "linked_devise: 0.5\n",
		"negative.yaml": "linked_ip: -1\n",
		"top.yaml":      "queue_top: 0\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	p := filepath.Join(dir, "ok.yaml")
	os.WriteFile(p, []byte("half_life_days: 90\n"), 0o644)
	c, err := LoadConfig(p)
	if err != nil || c.HalfLifeDays != 90 || c.Device != DefaultConfig().Device {
		t.Errorf("LoadConfig: %+v, %v", c, err)
	}
}
