package disclose

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"qiandun/data/lake"
	"qiandun/internal/durable"
)

// perfMetrics are perf/disclosure's sixteen metrics, in its order.
var perfMetrics = []string{"cumulative_lent_amount", "cumulative_lent_count", "outstanding_principal", "outstanding_count",
	"interest_outstanding", "current_borrowers", "cumulative_borrowers", "largest_borrower_share", "top10_borrowers_share",
	"overdue_amount", "overdue_count", "overdue_due_amount", "overdue_90_amount", "overdue_90_count",
	"project_overdue_rate", "amount_overdue_rate"}

// newMetrics are the metrics perf does not publish.
var newMetrics = []string{"cumulative_lenders", "current_lenders", "cumulative_compensation_amount",
	"cumulative_compensation_count", "related_party_amount", "related_party_count"}

func run(t *testing.T, o Options) *Result {
	t.Helper()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// readOperating reads operating.csv: metric -> value, and the rows.
func readOperating(t *testing.T, p string) (map[string]string, [][]string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], OperatingColumns) {
		t.Fatalf("operating.csv header %v", recs[0])
	}
	m := map[string]string{}
	for _, r := range recs[1:] {
		m[r[0]] = r[1]
	}
	return m, recs[1:]
}

func sameNumber(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	return ok1 && ok2 && x.Cmp(y) == 0
}

// TestOperatingData discloses May and June: the sixteen metrics perf
// publishes equal perf/disclosure computed by perf with its as-of date at
// that month end (May's from a perf run as of 05-31, June's from the
// lake's run as of 06-30, whose panel also serves May); the new lender,
// compensation and related-party metrics and the lent counts equal
// values worked out by hand from the fixture; every metric has a unit and
// a definition, in a fixed order.
func TestOperatingData(t *testing.T) {
	f := handLake(t)
	out := t.TempDir()
	byHand := map[string]map[string]string{
		// lenders by 05-31: P1 P2 P3 P5 P6 (P4 invests in June); current:
		// P1 P2 (L01, L04), P3 (L05), P5 (L08); P6 holds only settled L07.
		"2024-05": {"cumulative_lent_count": "6", "cumulative_lenders": "5", "current_lenders": "4",
			"cumulative_compensation_amount": "1250.00", "cumulative_compensation_count": "1",
			"related_party_amount": "1200.00", "related_party_count": "1"},
		// P4 joins in June; P7's July investment does not count; L06's
		// compensation is two guarantor lines (the lender's line and July's
		// do not count); L08 (BL08, in the register) is active, 1200 owed.
		"2024-06": {"cumulative_lent_count": "8", "cumulative_lenders": "6", "current_lenders": "5",
			"cumulative_compensation_amount": "1250.00", "cumulative_compensation_count": "1",
			"related_party_amount": "1200.00", "related_party_count": "1",
			"overdue_90_count": "1", "outstanding_count": "6"},
	}
	perfAt := map[string]map[string]string{"2024-05": f.perfMay, "2024-06": perfDisclosure(t, f.lake)}
	for _, month := range []string{"2024-05", "2024-06"} {
		t.Run(month, func(t *testing.T) {
			res := run(t, opts(t, f.lake, out, month, nil))
			got, rows := readOperating(t, filepath.Join(res.Dir, "operating.csv"))
			var order []string
			for _, r := range rows {
				order = append(order, r[0])
				if r[2] == "" || len(r[3]) < 20 {
					t.Errorf("%s: unit %q, definition %q", r[0], r[2], r[3])
				}
			}
			if want := append(slices.Clone(perfMetrics), newMetrics...); !slices.Equal(order, want) {
				t.Errorf("metrics %v, want %v", order, want)
			}
			if len(perfAt[month]) != len(perfMetrics) {
				t.Fatalf("perf/disclosure has %d metrics", len(perfAt[month]))
			}
			for _, m := range perfMetrics {
				if !sameNumber(got[m], perfAt[month][m]) {
					t.Errorf("%s = %q, perf/disclosure as of the month end says %q", m, got[m], perfAt[month][m])
				}
			}
			for m, v := range byHand[month] {
				if got[m] != v {
					t.Errorf("%s = %q, want %q (by hand)", m, got[m], v)
				}
			}
		})
	}
}

func readProjectsFile(t *testing.T, p string) []Project {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []Project
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	for dec.More() {
		var pr Project
		if err := dec.Decode(&pr); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, pr)
	}
	return out
}

// TestProjects discloses June: one record per loan issued in June (L02,
// L03), each field worked out by hand from the fixture — masked identity,
// bands, the bureau window (the 2023-11 report and the post-loan,
// after-issue and bank inquiries left out), lenders, the custody
// disbursement to the masked sub-account, the repayment status at the
// panel's end — and one vault audit line per identity read.
func TestProjects(t *testing.T) {
	f := handLake(t)
	var audit bytes.Buffer
	res := run(t, opts(t, f.lake, t.TempDir(), "2024-06", &audit))
	want := []Project{{
		LoanID: "L02", IssueDate: "2024-06-03",
		Borrower: Borrower{Name: "李*", IDNumber: "110***********" + idNumber(2)[14:], Phone: "139****1002",
			AgeBand: "25-34", Gender: "female", Region: "华北", IncomeBand: "3000-4999"},
		Credit: Credit{ReportDate: "2024-03-01", OpenAccounts: 2, Debt: "3000.00", OverdueAccounts: 1, WorstStatus24m: "2",
			Reports6m: 2, OverdueReports6m: 1, InquiriesP2P: 1, InquiriesMicroloan: 1},
		Loan: LoanTerms{Purpose: "装修", Amount: "1200.00", TermMonths: 12, AnnualRate: "0.100000", RepayMethod: "equal_principal",
			Collateral: "none"},
		Lenders: 2, Funded: "1200.00",
		FundFlow:  []Flow{{Date: "2024-06-03", Type: "disbursement", Amount: "1200.00", Bank: "贵州银行", ToSubAccount: "622*********7002"}},
		Repayment: Repayment{AsOf: "2024-06-30", Status: "active", InstallmentsPaid: 1, PrincipalRepaid: "100.00", Outstanding: "1100.00", Overdue: "0.00"},
	}, {
		LoanID: "L03", IssueDate: "2024-06-20",
		Borrower: Borrower{Name: "欧***", IDNumber: "110***********" + idNumber(3)[14:], Phone: "139****1003",
			AgeBand: "25-34", Gender: "male", Region: "华北", IncomeBand: "5000-9999"},
		Credit: Credit{Debt: "0.00"},
		Loan: LoanTerms{Purpose: "装修", Amount: "1200.00", TermMonths: 12, AnnualRate: "0.100000", RepayMethod: "equal_principal",
			Collateral: "car", CollateralValue: "5000.00"},
		Lenders: 1, Funded: "1200.00",
		FundFlow:  []Flow{{Date: "2024-06-20", Type: "disbursement", Amount: "1200.00", Bank: "贵州银行", ToSubAccount: "622*********7003"}},
		Repayment: Repayment{AsOf: "2024-06-30", Status: "active", PrincipalRepaid: "0.00", Outstanding: "1200.00", Overdue: "0.00"},
	}}
	got := readProjectsFile(t, filepath.Join(res.Dir, "projects.jsonl"))
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("projects:\n%s\nwant:\n%s", g, w)
	}
	if res.Manifest.Projects != 2 {
		t.Errorf("manifest projects %d", res.Manifest.Projects)
	}
	// one audit line per identity read: 3 per project, purpose named
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(audit.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["audit"] == "vault.reveal" && m["purpose"] == "disclose 2024-06" {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d vault audit lines, want 6 (3 identities x 2 projects):\n%s", n, audit.String())
	}
}

// siteFiles returns every published file of the site (following the
// mounted links, skipping the commit internals) with its bytes.
func siteFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := durable.WalkFiles(root, func(p string, info fs.FileInfo) error {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[rel] = string(b)
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", rel, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func versions(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, durable.VersionsDir, chain))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestPublish: the same lake gives the same bytes in two output roots; a
// re-run of an unchanged month writes nothing (no new version); a second
// month keeps the first and both are in the index; a failing run (a
// vault without the borrowers' identities) leaves the site as it was.
func TestPublish(t *testing.T) {
	f := handLake(t)
	a, b := t.TempDir(), t.TempDir()
	if !run(t, opts(t, f.lake, a, "2024-06", nil)).Written {
		t.Fatal("first run wrote nothing")
	}
	run(t, opts(t, f.lake, b, "2024-06", nil))
	first := siteFiles(t, a)
	if !reflect.DeepEqual(first, siteFiles(t, b)) {
		t.Error("two runs over the same lake differ")
	}
	if len(first) != 6 { // index, month index, csv, jsonl, manifest, ... and 2 project pages
		if _, ok := first["2024-06/projects/L02.html"]; !ok || len(first) != 7 {
			t.Errorf("site files %v", keys(first))
		}
	}
	v := versions(t, a)
	if run(t, opts(t, f.lake, a, "2024-06", nil)).Written {
		t.Error("unchanged re-run wrote a new version")
	}
	if !slices.Equal(versions(t, a), v) {
		t.Errorf("versions %v after an unchanged re-run, were %v", versions(t, a), v)
	}
	// A published page altered (its manifest intact) or removed: the
	// re-run sees it and publishes the month again.
	for _, spoil := range []func(p string) error{
		func(p string) error { return os.WriteFile(p, []byte("altered"), 0o600) },
		os.Remove,
	} {
		var page string
		for rel := range first {
			if strings.HasPrefix(rel, "2024-06/projects/") {
				page = filepath.Join(a, filepath.FromSlash(rel))
			}
		}
		if err := spoil(page); err != nil {
			t.Fatal(err)
		}
		if !run(t, opts(t, f.lake, a, "2024-06", nil)).Written {
			t.Errorf("re-run after %s was spoilt wrote nothing", page)
		}
		if !reflect.DeepEqual(siteFiles(t, a), first) {
			t.Error("the re-run did not restore the site")
		}
	}
	run(t, opts(t, f.lake, a, "2024-05", nil))
	both := siteFiles(t, a)
	for rel, s := range first {
		if rel != "index.html" && both[rel] != s {
			t.Errorf("%s changed when May was published", rel)
		}
	}
	for _, m := range []string{`href="2024-05/index.html"`, `href="2024-06/index.html"`} {
		if !strings.Contains(both["index.html"], m) {
			t.Errorf("index lacks %s", m)
		}
	}
	if run(t, opts(t, f.lake, a, "2024-06", nil)).Written {
		t.Error("re-run of June after May wrote a new version")
	}
	bad := opts(t, f.lake, a, "2024-06", nil)
	bad.Identities = openVault(t, t.TempDir(), &bytes.Buffer{}) // an empty vault
	bad.Config.RelatedParties = nil                             // and a changed register: the run would write
	if _, err := Run(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "loan L02") {
		t.Fatalf("run with an empty vault: %v", err)
	}
	if !reflect.DeepEqual(siteFiles(t, a), both) {
		t.Error("a failed run changed the published site")
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestBadInput: a malformed month, a month the panel does not reach and a
// lake without the custody tables are refused with the reason.
func TestBadInput(t *testing.T) {
	f := handLake(t)
	noCustody := t.TempDir()
	ents, _ := os.ReadDir(f.lake)
	for _, e := range ents {
		if n := e.Name(); n != "investments" && n != "custody_transactions" {
			if err := os.Symlink(filepath.Join(f.lake, n), filepath.Join(noCustody, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		lake, month, want string
	}{
		{f.lake, "2024-13", `month "2024-13": want YYYY-MM`},
		{f.lake, "2024-07", "the performance panel ends at 2024-06-30, before the end of 2024-07"},
		{noCustody, "2024-06", `table "investments" has no Parquet files`},
	} {
		o := opts(t, f.lake, t.TempDir(), c.month, nil)
		o.Lake = c.lake
		_, err := Run(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want %q", c.lake, c.month, err, c.want)
		}
	}
	if _, err := Run(context.Background(), Options{Lake: f.lake, Out: t.TempDir(), Month: "2024-06"}); err == nil {
		t.Error("no identity source: no error")
	}
}

var _ = lake.Quote
