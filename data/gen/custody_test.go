package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"qiandun/data/schema"
)

// custodyBook generates a small book with the given break rate.
func custodyBook(t *testing.T, rate float64) (string, CustodyTruth) {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Loans, cfg.Seed, cfg.CustodyBreaks = 2000, 5, rate
	if _, err := Generate(context.Background(), cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(dir, "_truth", "custody.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ct CustodyTruth
	if err := json.Unmarshal(js, &ct); err != nil {
		t.Fatal(err)
	}
	return dir, ct
}

// stmtLine is a custody line read back from the CSV.
type stmtLine struct {
	id, bank, acct, ownerType, owner, time, dir, typ, loan, ref string
	amount, bal                                                 int64
}

func readStatement(t *testing.T, dir string) []stmtLine {
	var out []stmtLine
	for _, r := range table(t, dir, "custody_transactions.csv") {
		out = append(out, stmtLine{id: r["bank_txn_id"], bank: r["bank"], acct: r["sub_account"], ownerType: r["owner_type"],
			owner: r["owner_id"], time: r["txn_time"], dir: r["direction"], typ: r["txn_type"], loan: r["loan_id"],
			ref: r["reference"], amount: fenOf([]byte(r["amount"])), bal: signedFen(r["balance_after"])})
	}
	return out
}

func signedFen(s string) int64 {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return -fenOf([]byte(rest))
	}
	return fenOf([]byte(s))
}

// chains groups the lines by (bank, sub-account) in statement order
// (txn_time, bank_txn_id).
func chains(ls []stmtLine) map[string][]stmtLine {
	m := map[string][]stmtLine{}
	for _, l := range ls {
		k := l.bank + "|" + l.acct
		m[k] = append(m[k], l)
	}
	for _, c := range m {
		sort.Slice(c, func(i, j int) bool {
			if c[i].time != c[j].time {
				return c[i].time < c[j].time
			}
			return c[i].id < c[j].id
		})
	}
	return m
}

// chainBreaks counts the lines whose balance_after is not the previous
// line's (0 for the first) plus or minus the amount.
func chainBreaks(m map[string][]stmtLine) (breaks, negative int) {
	for _, c := range m {
		var prev int64
		for _, l := range c {
			want := prev + l.amount
			if l.dir == "out" {
				want = prev - l.amount
			}
			if want != l.bal {
				breaks++
			}
			if l.bal < 0 {
				negative++
			}
			prev = l.bal
		}
	}
	return breaks, negative
}

// TestCustodyStatementReconciles checks a clean book's custody side
// against its loan side: funding, disbursement, every repayment and
// investment with its bank line, balances that chain and never go
// negative, and a migration that moves every old-bank sub-account's
// balance to the new bank.
func TestCustodyStatementReconciles(t *testing.T) {
	dir, ct := custodyBook(t, 0)
	for k, n := range ct.Breaks {
		if n != 0 {
			t.Errorf("clean book records %d %s breaks", n, k)
		}
	}
	ls := readStatement(t, dir)
	byRef := map[string][]stmtLine{}
	var offline []stmtLine
	for _, l := range ls {
		if l.ref != "" {
			byRef[l.ref] = append(byRef[l.ref], l)
		} else if l.ownerType == "borrower" && l.typ == "repayment" && l.dir == "in" {
			offline = append(offline, l)
		}
	}
	// Funding and disbursement.
	funded := map[string]int64{}
	lastInvest := map[string]string{}
	for _, inv := range table(t, dir, "investments.csv") {
		funded[inv["loan_id"]] += fenOf([]byte(inv["amount"]))
		b := byRef[inv["investment_id"]]
		if len(b) != 1 || b[0].typ != "investment" || b[0].dir != "out" || b[0].ownerType != "lender" ||
			b[0].owner != inv["lender_id"] || b[0].amount != fenOf([]byte(inv["amount"])) || b[0].time != inv["invest_time"] {
			t.Fatalf("investment %v: bank lines %v", inv, b)
		}
		if f, ok := lastInvest[inv["loan_id"]]; !ok || inv["invest_time"] > f {
			lastInvest[inv["loan_id"]] = inv["invest_time"]
		}
	}
	for _, ln := range table(t, dir, "loans.csv") {
		id := ln["loan_id"]
		if funded[id] != fenOf([]byte(ln["principal"])) {
			t.Fatalf("loan %s: principal %s, funded %d fen", id, ln["principal"], funded[id])
		}
		d := byRef[id]
		if len(d) != 1 || d[0].typ != "disbursement" || d[0].owner != ln["borrower_id"] || d[0].amount != funded[id] ||
			d[0].time[:10] != ln["issue_date"] || d[0].time < lastInvest[id] {
			t.Fatalf("loan %s (issued %s, last investment %s): disbursement lines %v", id, ln["issue_date"], lastInvest[id], d)
		}
	}
	// Repayments: one bank line each, same day and amount; the offline
	// ones (no reference) are the rest.
	missing := 0
	for _, r := range table(t, dir, "repayments.csv") {
		amt := fenOf([]byte(r["principal_paid"])) + fenOf([]byte(r["interest_paid"])) + fenOf([]byte(r["penalty_paid"]))
		b := byRef[r["txn_id"]]
		if len(b) == 0 {
			missing++
			continue
		}
		if len(b) != 1 || b[0].amount != amt || b[0].time[:10] != r["paid_at"][:10] || b[0].loan != r["loan_id"] {
			t.Fatalf("repayment %v: bank lines %v", r, b)
		}
	}
	if missing != len(offline) || missing == 0 {
		t.Errorf("%d repayments without a referenced bank line, %d offline bank lines", missing, len(offline))
	}
	m := chains(ls)
	if br, neg := chainBreaks(m); br != 0 || neg != 0 {
		t.Errorf("clean statement: %d chain breaks, %d negative balances", br, neg)
	}
	checkMigration(t, ct, m)
}

func checkMigration(t *testing.T, ct CustodyTruth, m map[string][]stmtLine) {
	t.Helper()
	closing, opening := map[string]int64{}, map[string]int64{}
	var held, moved int64
	accounts := 0
	for _, c := range m {
		last := c[len(c)-1]
		if c[0].bank == ct.OldBank {
			accounts++
			held += c[len(c)-2].bal
			if last.typ != "migration_out" || last.bal != 0 || last.time != ct.MigrationDay+" 00:00:00" {
				t.Fatalf("old-bank sub-account %s does not close with its migration: %v", c[0].acct, last)
			}
			closing[last.owner] = last.amount
			continue
		}
		for _, l := range c {
			if l.typ == "migration_in" {
				opening[l.owner] = l.amount
				moved += l.amount
			}
			if l.time < ct.MigrationDay {
				t.Fatalf("a new-bank line before the migration: %v", l)
			}
		}
	}
	if accounts == 0 || len(closing) != len(opening) || held != moved {
		t.Errorf("%d old-bank sub-accounts, %d closed, %d opened; held %d fen, moved %d", accounts, len(closing), len(opening), held, moved)
	}
	for o, v := range closing {
		if opening[o] != v {
			t.Errorf("owner %s: closed %d fen at the old bank, opened %d at the new", o, v, opening[o])
		}
	}
}

// TestCustodyBreaksOnlyWhereInjected: a book with breaks has the same
// loan-side tables and investments as the clean one, byte for byte; its
// statement's broken chains and migrated balances that differ are as
// many as custody.json records.
func TestCustodyBreaksOnlyWhereInjected(t *testing.T) {
	clean, _ := custodyBook(t, 0)
	dir, ct := custodyBook(t, 0.05)
	for _, tb := range schema.Tables() {
		if tb.Name == "custody_transactions" {
			continue
		}
		a, _ := os.ReadFile(filepath.Join(clean, tb.Name+".csv"))
		b, _ := os.ReadFile(filepath.Join(dir, tb.Name+".csv"))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs with --custody-breaks", tb.Name)
		}
	}
	for _, k := range BreakKinds {
		if ct.Breaks[k] == 0 {
			t.Errorf("no %s break injected at rate 0.05", k)
		}
	}
	m := chains(readStatement(t, dir))
	if br, _ := chainBreaks(m); br != ct.Breaks["balance_chain"] {
		t.Errorf("%d chain breaks in the statement, custody.json says %d", br, ct.Breaks["balance_chain"])
	}
	closing, opening := map[string]int64{}, map[string]int64{}
	for _, c := range m {
		for _, l := range c {
			switch l.typ {
			case "migration_out":
				closing[l.owner] = l.amount
			case "migration_in":
				opening[l.owner] = l.amount
			}
		}
	}
	differ := 0
	for o, v := range closing {
		if opening[o] != v {
			differ++
		}
	}
	if differ != ct.Breaks["migration_mismatch"] {
		t.Errorf("%d migrated balances differ, custody.json says %d", differ, ct.Breaks["migration_mismatch"])
	}
}

// TestRechargeAtTheOutflowsBank: a lender whose first line is an
// investment just after the migration recharges at the new bank, not in
// the hours before at the old one (where nothing would migrate it).
func TestRechargeAtTheOutflowsBank(t *testing.T) {
	w := newWorld(DefaultConfig())
	cg := newCustodyGen(w, 0)
	o := cg.ownerOf(ownLender, 1)
	out := cg.walk(nil, []cline{{sec: w.migSec + 600, owner: o, typ: cInvestment, out: true, amount: 500_000, loan: 1}})
	if len(out) != 2 || out[0].typ != cRecharge || out[0].bank != 1 || out[0].sec < w.migSec || out[1].bal != out[0].amount-500_000 {
		t.Errorf("lines %+v: want a recharge at the new bank, then the investment", out)
	}
}
