package reconcile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/scoring/publish"
)

// byID indexes breaks by break_id.
func byID(br []map[string]string) map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, b := range br {
		m[b["break_id"]] = b
	}
	return m
}

// TestCarryOver: day-by-day runs. The first run (to 2022-05-10) sees T2
// paid on the platform but not yet at the bank (posted T+2, 2022-05-12),
// the investment I1 never posted, and a duplicated line on 2022-05-05.
// Before the second run (2022-05-11..12) the custodian's corrected
// statement drops the duplicate: T2 closes with the day it posted, the
// duplicate closes as corrected, I1 stays open, older, with the first
// run's first_seen; both runs' directories remain.
func TestCarryOver(t *testing.T) {
	lk, out := t.TempDir(), t.TempDir()
	ls := baseLines()
	for _, id := range []string{"XW0017", "XW0018", "XW0019", "XW0020"} {
		ls[find(ls, id)].time = strings.Replace(ls[find(ls, id)].time, "05-10", "05-12", 1)
	}
	dup := stLine{id: "XW0050", bank: xw, acct: "6236P1", otype: "lender", owner: "P1", time: "2022-05-05 10:00:00",
		dir: "out", typ: "investment", loan: "L1", ref: "I2", amount: 100}
	ls = without(ls, "GZ0001", "GZ0002")
	writeLake(t, lk, append(append([]stLine(nil), ls...), dup))
	_, br, _ := runRec(t, lk, out, "2022-03-01", "2022-05-10", -1)
	first := byID(br)
	for id, want := range map[string]string{"P:repayment:T2": "timing|open|", "P:investment:I1": "bank_missing|open|",
		"B:XW0050": "duplicate|open|"} {
		b := first[id]
		if b == nil || b["kind"]+"|"+b["status"]+"|"+b["closed_on"] != want || b["first_seen"] != "2022-05-10" || b["carried_over"] != "false" {
			t.Errorf("first run %s: %v, want %s first seen 2022-05-10", id, b, want)
		}
	}
	if len(br) != 3 {
		t.Errorf("first run: %d breaks, want 3: %v", len(br), br)
	}

	for _, d := range []string{"custody_transactions"} {
		os.RemoveAll(filepath.Join(lk, d))
	}
	writeLake(t, lk, ls) // the corrected statement
	m, br, _ := runRec(t, lk, out, "2022-05-11", "2022-05-12", -1)
	if m.Previous != "2022-05-10" {
		t.Errorf("previous run %q, want 2022-05-10", m.Previous)
	}
	second := byID(br)
	for id, want := range map[string]string{
		"P:repayment:T2":  "timing|closed|2022-05-12|2022-05-10|true|2",
		"B:XW0050":        "duplicate|closed|2022-05-12|2022-05-10|true|7",
		"P:investment:I1": "bank_missing|open||2022-05-10|true|64",
	} {
		b := second[id]
		if b == nil {
			t.Errorf("second run has no %s", id)
			continue
		}
		if got := strings.Join([]string{b["kind"], b["status"], b["closed_on"], b["first_seen"], b["carried_over"], b["age_days"]}, "|"); got != want {
			t.Errorf("second run %s: %s, want %s", id, got, want)
		}
	}
	if len(br) != 3 {
		t.Errorf("second run: %d breaks, want 3: %v", len(br), br)
	}
	for _, d := range []string{"2022-05-10", "2022-05-12"} {
		if _, err := publish.Verify(filepath.Join(out, d)); err != nil {
			t.Errorf("run %s: %v", d, err)
		}
	}
}

// TestOverLimit: open breaks above --max-open-amount fail the run after
// its files are published; at or below it, the run succeeds.
func TestOverLimit(t *testing.T) {
	lk := t.TempDir()
	writeLake(t, lk, without(baseLines(), "GZ0001", "GZ0002")) // I1, 600.00, missing at the bank
	out := t.TempDir()
	_, _, err := runRec(t, lk, out, "2022-03-01", "2022-06-30", 59999)
	var oe *OverLimitError
	if !errors.As(err, &oe) || oe.Open != 60000 {
		t.Fatalf("limit 599.99: err %v, want an OverLimitError of 600.00", err)
	}
	if _, err := publish.Verify(filepath.Join(out, "2022-06-30")); err != nil {
		t.Errorf("the failing run's files: %v", err)
	}
	if _, _, err := runRec(t, lk, t.TempDir(), "2022-03-01", "2022-06-30", 60000); err != nil {
		t.Errorf("limit 600.00: %v", err)
	}
}
