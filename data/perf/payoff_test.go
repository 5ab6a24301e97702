package perf

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"qiandun/data/lake"
)

// refPayoff is the obvious per-installment walk: the payments booked
// against the installment in (paid_at, txn_id) order, the running sum of
// principal + interest, and the first payment at which it reaches the
// amount due (nothing due: the due date). writeLake books every payment
// at 10:00 of its day.
func refPayoff(b book) map[string][3]*time.Time {
	pays := map[string][]bPay{}
	for _, p := range b.pays {
		k := fmt.Sprint(p.loan, "/", p.no)
		pays[k] = append(pays[k], p)
	}
	out := map[string][3]*time.Time{}
	for _, in := range b.insts {
		k := fmt.Sprint(in.loan, "/", in.no)
		ps := pays[k]
		sort.Slice(ps, func(i, j int) bool {
			if !ps[i].paid.Equal(ps[j].paid) {
				return ps[i].paid.Before(ps[j].paid)
			}
			return ps[i].txn < ps[j].txn
		})
		var first, firstPrincipal, off *time.Time
		var cum int64
		for _, p := range ps {
			at := p.paid.Add(10 * time.Hour)
			if first == nil {
				first = &at
			}
			if firstPrincipal == nil && p.principal > 0 {
				firstPrincipal = &at
			}
			cum += p.principal + p.interest
			if off == nil && cum >= in.principal+in.interest {
				off = &at
			}
		}
		if in.principal+in.interest <= 0 {
			d := in.due
			off = &d
		}
		out[k] = [3]*time.Time{first, firstPrincipal, off}
	}
	return out
}

// TestInstallmentPayoffMatchesReference checks perf/installment_payoff
// and the paid-off time of perf/loan_closure, built in several chunks,
// against refPayoff on random books.
func TestInstallmentPayoffMatchesReference(t *testing.T) {
	b := randomBook(rand.New(rand.NewPCG(5, 99)), 400)
	want := refPayoff(b)
	lk := writeLake(t, b)
	db := openBookDB(t, lk)
	ctx := context.Background()
	if err := setParams(ctx, db, DefaultConfig(), day("2024-06-30"), dataEndOf(b)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(lk.Root, "panel")
	if _, err := writePanel(ctx, db, dir, 700); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir+".installment_payoff", "*.parquet")); len(files) < 3 {
		t.Fatalf("%d chunks, want several", len(files))
	}
	rows, err := db.Query("SELECT loan_id, installment_no, first_paid_at, first_principal_paid_at, paid_off_at, settled FROM read_parquet(" + lake.Quote(filepath.Join(dir+".installment_payoff", "*.parquet")) + ")")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	eq := func(a sql.NullTime, b *time.Time) bool {
		return a.Valid == (b != nil) && (!a.Valid || a.Time.Equal(*b))
	}
	got := map[string]bool{}
	loanOff := map[string]*time.Time{}
	loanOpen := map[string]bool{}
	var offs int
	for rows.Next() {
		var loan string
		var no int
		var first, firstP, off sql.NullTime
		var settled bool
		if err := rows.Scan(&loan, &no, &first, &firstP, &off, &settled); err != nil {
			t.Fatal(err)
		}
		k := fmt.Sprint(loan, "/", no)
		got[k] = true
		w, ok := want[k]
		if !ok {
			t.Errorf("%s: not a schedule row", k)
			continue
		}
		if !eq(first, w[0]) || !eq(firstP, w[1]) || !eq(off, w[2]) || settled != off.Valid {
			t.Errorf("%s: first %v, first principal %v, paid off %v (settled %v); want %v %v %v", k, first, firstP, off, settled, w[0], w[1], w[2])
		}
		if off.Valid {
			offs++
			if o := loanOff[loan]; o == nil || off.Time.After(*o) {
				tm := off.Time
				loanOff[loan] = &tm
			}
		} else {
			loanOpen[loan] = true
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || offs < len(want)/2 || offs == len(want) {
		t.Fatalf("%d rows (%d paid off) for %d schedule rows", len(got), offs, len(want))
	}
	// loan_closure.paid_off_at: the last payoff when every installment is paid off.
	cl, err := db.Query("SELECT loan_id, paid_off_at FROM read_parquet(" + lake.Quote(filepath.Join(dir+".loan_closure", "*.parquet")) + ")")
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var n int
	for cl.Next() {
		var loan string
		var off sql.NullTime
		if err := cl.Scan(&loan, &off); err != nil {
			t.Fatal(err)
		}
		n++
		w := loanOff[loan]
		if loanOpen[loan] {
			w = nil
		}
		if !eq(off, w) {
			t.Errorf("loan %s: closure paid_off_at %v, want %v", loan, off, w)
		}
	}
	if n != len(b.loans) {
		t.Errorf("loan_closure has %d loans, want %d", n, len(b.loans))
	}
}
