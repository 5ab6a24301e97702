package features

import (
	"fmt"
	"testing"
)

func sched(loanID string, no int, due, principal, interest string) row {
	return row{"loan_id": q(loanID), "installment_no": itoa(no), "due_date": "DATE " + q(due),
		"principal_due": principal, "interest_due": interest}
}

func pay(txn, loanID string, no int, at, principal, interest string) row {
	return row{"txn_id": q(txn), "loan_id": q(loanID), "installment_no": itoa(no), "paid_at": "TIMESTAMP " + q(at),
		"principal_paid": principal, "interest_paid": interest, "penalty_paid": "0"}
}

func coll(loanID, at, channel, outcome string) row {
	return row{"loan_id": q(loanID), "event_time": "TIMESTAMP " + q(at), "channel": q(channel), "outcome": q(outcome)}
}

// bcardLake is the hand-made B-card lake of the golden tests, as of the
// month end 2024-06-30:
//
//	L1 B1 issued 2024-01-15, 6 x (500 + 30) due the 15th, Feb..Jul:
//	   #1 paid 02-14; #2 paid 03-20 (5 days late); #3 300 on 04-15 and 230
//	   on 05-10 (paid off 25 days late); #4 (05-15) and #5 (06-15) unpaid.
//	L2 B2 issued 2024-03-01, 12 x 100 at 0% due the 1st from 04-01: #1 paid
//	   03-25, #2..#4 paid 04-20 (#3 and #4 more than 30 days early).
//	L3 settled before as-of, L4 issued after it, L5 written off (more than
//	180 DPD), L6 exported as settled, its last payment before as-of.
func bcardLake() rows {
	var s []row
	for i, due := range []string{"2024-02-15", "2024-03-15", "2024-04-15", "2024-05-15", "2024-06-15", "2024-07-15"} {
		s = append(s, sched("L1", i+1, due, "500.00", "30.00"))
	}
	for i := 1; i <= 12; i++ {
		m := 3 + i // months from January 2024: April 2024 .. March 2025
		s = append(s, sched("L2", i, fmt.Sprintf("%d-%02d-01", 2024+(m-1)/12, (m-1)%12+1), "100.00", "0.00"))
	}
	s = append(s, sched("L3", 1, "2024-02-01", "1000.00", "10.00"),
		sched("L4", 1, "2024-08-05", "1000.00", "10.00"),
		sched("L5", 1, "2023-02-01", "1000.00", "10.00"),
		sched("L6", 1, "2024-02-01", "1000.00", "30.00"), sched("L6", 2, "2024-03-01", "1000.00", "20.00"),
		sched("L6", 3, "2024-04-01", "1000.00", "10.00"))
	return rows{
		"applications": {
			app("A1", "B1", "2024-01-10 10:00:00", "cash", "3000.00", 6, "10000.00", "male", "male", 30, true, "D1", "P1", "IP1", "approved"),
			app("A2", "B2", "2024-02-25 10:00:00", "cash", "1200.00", 12, "10000.00", "male", "male", 30, true, "D2", "P2", "IP2", "approved"),
		},
		"loans": {
			loan("L1", "A1", "B1", "cash", "2024-01-15", "3000.00", "0.12", 6, "none", ""),
			loan("L2", "A2", "B2", "cash", "2024-03-01", "1200.00", "0.00", 12, "none", ""),
			loan("L3", "A3", "B3", "cash", "2024-01-01", "1000.00", "0.12", 1, "none", ""),
			loan("L4", "A4", "B4", "cash", "2024-07-05", "1000.00", "0.12", 1, "none", ""),
			withStatus(loan("L5", "A5", "B5", "cash", "2023-01-01", "1000.00", "0.12", 1, "none", ""), "written_off"),
			withStatus(loan("L6", "A6", "B6", "cash", "2024-01-01", "3000.00", "0.12", 3, "none", ""), "settled"),
		},
		"repayment_schedule": s,
		"repayments": {
			pay("T1", "L1", 1, "2024-02-14 09:00:00", "500.00", "30.00"),
			pay("T2", "L1", 2, "2024-03-20 09:00:00", "500.00", "30.00"),
			pay("T3", "L1", 3, "2024-04-15 09:00:00", "270.00", "30.00"),
			pay("T4", "L1", 3, "2024-05-10 09:00:00", "230.00", "0.00"),
			pay("T5", "L2", 1, "2024-03-25 09:00:00", "100.00", "0.00"),
			pay("T6", "L2", 2, "2024-04-20 09:00:00", "100.00", "0.00"),
			pay("T7", "L2", 3, "2024-04-20 09:00:00", "100.00", "0.00"),
			pay("T8", "L2", 4, "2024-04-20 09:00:00", "100.00", "0.00"),
			pay("T9", "L3", 1, "2024-02-01 09:00:00", "1000.00", "10.00"),
			// L6 settles early: the export keeps installment #3 in the schedule.
			pay("T10", "L6", 1, "2024-02-01 09:00:00", "1000.00", "30.00"),
			pay("T11", "L6", 2, "2024-02-20 09:00:00", "2000.00", "20.00"),
		},
		"collection_events": {
			coll("L1", "2024-03-01 10:00:00", "call", "lost_contact"),
			coll("L1", "2024-03-05 10:00:00", "call", "contact_repaired"),
			coll("L1", "2024-05-05 10:00:00", "sms", "no_answer"),
			coll("L1", "2024-05-08 10:00:00", "call", "promise_to_pay"), // kept: paid 05-10
			coll("L1", "2024-05-20 10:00:00", "call", "promise_to_pay"), // broken
			coll("L1", "2024-06-10 10:00:00", "call", "lost_contact"),
			coll("L1", "2024-06-28 10:00:00", "call", "promise_to_pay"), // too young to judge
			coll("L1", "2024-06-30 10:00:00", "field", "no_answer"),     // on the as-of date: not before it
		},
		"bureau_inquiries": {
			inquiry("B1", "2024-01-10", "bank", "loan_approval"), // before issue
			inquiry("B1", "2024-02-01", "p2p", "loan_approval"),
			inquiry("B1", "2024-03-15", "bank", "post_loan"), // own monitoring: not counted
			inquiry("B1", "2024-04-15", "bank", "loan_approval"),
			inquiry("B1", "2024-06-15", "microloan", "loan_approval"),
			inquiry("B1", "2024-06-30", "microloan", "loan_approval"), // on the as-of date
		},
		"scores_acard": {{"application_id": q("A1"), "score": "612.5"}},
	}
}

func TestBCardGolden(t *testing.T) {
	root := t.TempDir()
	writeLake(t, root, "part-0", bcardLake())
	got := buildSnapshot(t, root, SetBCard, "2024-06-30")
	if len(got) != 2 || got["L1"] == nil || got["L2"] == nil {
		t.Fatalf("rows %v, want L1 and L2 only (L3 and L6 settled, L4 not issued, L5 written off)", keys(got))
	}
	checkRow(t, "L1", got["L1"], map[string]any{
		"borrower_id": "B1",
		// Earliest unpaid installment due 05-15: 16 + 30 = 46 days.
		"dpd_current": 46, "dpd_bucket": "M2", "max_dpd_3m": 46, "max_dpd_6m": 46, "max_dpd_12m": 46,
		// #2, #3, #4, #5 were outstanding after their due dates.
		"n_late_installments": 4, "months_since_delinquency": 0,
		// 3m [03-30, 06-30): paid 300 + 230, due 3 x 530.
		"paid_to_due_3m": 530.0 / 1590.0,
		// 6m: paid 4 payments = 1590, due 5 x 530 = 2650.
		"paid_to_due_6m": 0.6,
		// principal 500 + 500 + 270 + 230 = 1500 of 3000; 2500 due so far.
		"principal_paid_share": 0.5, "outstanding_principal": 1500.0, "principal_ahead": 0.0,
		"n_prepayments": 0, "months_on_book": 5,
		// events in [03-30, 06-30): 05-05, 05-08, 05-20, 06-10, 06-28; 6m adds 03-01, 03-05.
		"coll_contacts_3m": 5, "coll_contacts_6m": 7, "coll_broken_promises_3m": 1, "coll_broken_promises_6m": 1,
		"coll_lost_contact_3m": 1, "coll_lost_contact_6m": 2, "coll_lost_contact_open": 1,
		// since issue 01-15: 02-01, 04-15, 06-15; 30d from 05-31: 06-15; 90d from 04-01: 04-15, 06-15.
		"b_inq_since_issue": 3, "b_inq_30d": 1, "b_inq_90d": 2,
		"acard_score_at_origination": 612.5,
	})
	checkRow(t, "L2", got["L2"], map[string]any{
		"dpd_current": 0, "dpd_bucket": "C", "max_dpd_3m": 0, "max_dpd_12m": 0,
		"n_late_installments": 0, "months_since_delinquency": nil,
		// 3m: paid 300 on 04-20, due 04-01, 05-01, 06-01 = 300. 6m adds 03-25's 100.
		"paid_to_due_3m": 1.0, "paid_to_due_6m": 400.0 / 300.0,
		"principal_paid_share": 400.0 / 1200.0, "outstanding_principal": 800.0, "principal_ahead": 100.0,
		// #3 (due 06-01) and #4 (07-01) paid 04-20, 42 and 72 days early.
		"n_prepayments": 2, "months_on_book": 3,
		"coll_contacts_6m": 0, "coll_lost_contact_open": 0, "b_inq_since_issue": 0,
		"acard_score_at_origination": nil,
	})
}

func withStatus(r row, status string) row {
	r["status"] = q(status)
	return r
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
