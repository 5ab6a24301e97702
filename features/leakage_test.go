package features

import (
	"reflect"
	"testing"
	"time"
)

// eventsFrom returns events of every kind dated at or after cut
// (YYYY-MM-DD), each of which would change some feature of an earlier
// entity if it leaked: new borrowers on the devices, phones and IPs of
// the hand-made lakes, inquiries and bureau reports of their borrowers, a
// loan with an extreme rate, repayments and collection events.
func eventsFrom(cut string) rows {
	c, _ := time.Parse(time.DateOnly, cut)
	day := func(n int) string { return c.AddDate(0, 0, n).Format(time.DateOnly) }
	at := func(n int) string { return day(n) + " 00:00:00" }
	return rows{
		"applications": {
			app("X1", "BX1", at(0), "cash", "9000.00", 12, "1000.00", "male", "male", 30, true, "D1", "P1", "IP1", "approved"),
			app("X2", "BX2", at(1), "car", "9000.00", 12, "1000.00", "male", "male", 30, true, "D2", "P2", "IP2", "approved"),
			app("X3", "B1", at(2), "cash", "9000.00", 12, "1000.00", "male", "male", 30, true, "D3", "P3", "IP3", "rejected"),
		},
		"loans": {
			loan("LX1", "X1", "BX1", "cash", day(0), "9000.00", "0.9", 12, "house", "1.00"),
			loan("LX2", "X2", "BX2", "car", day(1), "9000.00", "0.9", 12, "car", "1.00"),
		},
		"repayment_schedule": {
			sched("LX1", 1, day(1), "9000.00", "10.00"),
			sched("LX2", 1, day(1), "9000.00", "10.00"),
		},
		"repayments": {
			pay("TX1", "L1", 4, at(0), "500.00", "30.00"),
			pay("TX2", "L1", 5, at(0), "500.00", "30.00"),
			pay("TX3", "L2", 5, at(3), "100.00", "0.00"),
			pay("TX4", "LX1", 1, at(5), "1.00", "0.00"),
		},
		"bureau_inquiries": {
			inquiry("B1", day(0), "bank", "loan_approval"),
			inquiry("B1", day(1), "p2p", "loan_approval"),
			inquiry("B2", day(0), "microloan", "loan_approval"),
			inquiry("B3", day(3), "bank", "loan_approval"),
		},
		"bureau_reports": {
			report("B1", day(0), 9, "1.00", 9, "7"),
			report("B2", day(0), 9, "1.00", 9, "7"),
			report("B3", day(1), 9, "1.00", 9, "7"),
		},
		"collection_events": {
			coll("L1", at(0), "field", "lost_contact"),
			coll("L1", at(1), "call", "promise_to_pay"),
			coll("L2", at(0), "call", "lost_contact"),
		},
	}
}

// TestNoLeakage appends events dated on or after a cut to a hand-made
// lake and checks that every feature of every entity known before the cut
// is unchanged.
func TestNoLeakage(t *testing.T) {
	for _, tc := range []struct {
		name, set, asOf, cut string
		base                 rows
		checked              []string // entities that must be unchanged
	}{
		// Cut at the as-of date: the whole snapshot is unchanged.
		{"acard at as-of", SetACard, "2024-06-01", "2024-06-01", acardLake(), []string{"A1", "A2", "A3", "A4", "A5", "A6"}},
		// Cut between applications: applications before it are unchanged
		// (each is as of its own apply time).
		{"acard after apply times", SetACard, "2024-06-01", "2024-03-16", acardLake(), []string{"A1", "A2", "A4"}},
		{"bcard at as-of", SetBCard, "2024-06-30", "2024-06-30", bcardLake(), []string{"L1", "L2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeLake(t, root, "part-0", tc.base)
			before := buildSnapshot(t, root, tc.set, tc.asOf)
			writeLake(t, root, "part-1", eventsFrom(tc.cut))
			after := buildSnapshot(t, root, tc.set, tc.asOf)
			changed := 0
			for _, id := range tc.checked {
				if before[id] == nil {
					t.Fatalf("%s missing before the append", id)
				}
				if !reflect.DeepEqual(before[id], after[id]) {
					changed++
					for col, v := range before[id] {
						if !reflect.DeepEqual(v, after[id][col]) {
							t.Errorf("%s.%s changed from %v to %v by events from %s", id, col, v, after[id][col], tc.cut)
						}
					}
				}
			}
			if tc.cut == tc.asOf && len(after) != len(before) {
				t.Errorf("%d rows after appending events from the as-of date, %d before", len(after), len(before))
			}
			// The appended events are not inert: something later does change.
			if tc.cut != tc.asOf && reflect.DeepEqual(before, after) {
				t.Errorf("appending events from %s changed nothing at all; the test proves nothing", tc.cut)
			}
		})
	}
}

// TestRingBadRateUsesOnlyKnownOutcomes builds four borrowers on one
// device and a fifth who applies from it on 2023-08-01:
//
//	B10  loan issued 2023-01-01, installment due 2023-02-01 never paid:
//	     90 DPD on 2023-05-02 -> known bad before the application
//	B11  loan issued 2023-06-01, installment due 2023-07-01 unpaid: 31 DPD
//	     at the application, 90 DPD only on 2023-09-29 -> unknown then
//	B12  loan issued 2022-01-01, every installment paid on time: 12 months
//	     on book on 2023-01-01 -> known good
//	B14  loan issued 2023-03-01, paid on time but only 5 months on book ->
//	     unknown
//
// B13's application must see 1 bad and 1 good (rate 0.5), whether B11 later
// pays (appended repayment) or not, and even though B11 does go 90+ DPD
// before the as-of date.
func TestRingBadRateUsesOnlyKnownOutcomes(t *testing.T) {
	var sch, pays []row
	for i := 1; i <= 12; i++ {
		due := time.Date(2022, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		sch = append(sch, sched("L12", i, due, "100.00", "1.00"))
		pays = append(pays, pay("P12-"+itoa(i), "L12", i, due+" 08:00:00", "100.00", "1.00"))
	}
	for i := 1; i <= 6; i++ {
		due := time.Date(2023, time.Month(3+i), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		sch = append(sch, sched("L14", i, due, "100.00", "1.00"))
		if i <= 4 {
			pays = append(pays, pay("P14-"+itoa(i), "L14", i, due+" 08:00:00", "100.00", "1.00"))
		}
	}
	sch = append(sch, sched("L10", 1, "2023-02-01", "1000.00", "10.00"), sched("L11", 1, "2023-07-01", "1000.00", "10.00"))
	base := rows{
		"applications": {
			app("A12", "B12", "2021-12-20 10:00:00", "cash", "1200.00", 12, "9000.00", "male", "male", 30, true, "DX", "P12", "IP12", "approved"),
			app("A10", "B10", "2022-12-20 10:00:00", "cash", "1000.00", 1, "9000.00", "male", "male", 30, true, "DX", "P10", "IP10", "approved"),
			app("A14", "B14", "2023-02-20 10:00:00", "cash", "600.00", 6, "9000.00", "male", "male", 30, true, "DX", "P14", "IP14", "approved"),
			app("A11", "B11", "2023-05-20 10:00:00", "cash", "1000.00", 1, "9000.00", "male", "male", 30, true, "DX", "P11", "IP11", "approved"),
			app("A13", "B13", "2023-08-01 10:00:00", "cash", "1000.00", 1, "9000.00", "male", "male", 30, true, "DX", "P13", "IP13", "rejected"),
		},
		"loans": {
			loan("L12", "A12", "B12", "cash", "2022-01-01", "1200.00", "0.12", 12, "none", ""),
			loan("L10", "A10", "B10", "cash", "2023-01-01", "1000.00", "0.12", 1, "none", ""),
			loan("L14", "A14", "B14", "cash", "2023-03-01", "600.00", "0.12", 6, "none", ""),
			loan("L11", "A11", "B11", "cash", "2023-06-01", "1000.00", "0.12", 1, "none", ""),
		},
		"repayment_schedule": sch,
		"repayments":         pays,
	}
	want := map[string]any{"link_group_size": 5, "link_known_bad": 1, "link_known_good": 1, "link_bad_rate": 0.5}
	root := t.TempDir()
	writeLake(t, root, "part-0", base)
	got := buildSnapshot(t, root, SetACard, "2023-12-01")
	checkRow(t, "A13", got["A13"], want)
	// Earlier applicants see only what was known at their own apply time:
	// B11 on 2023-05-20 sees B10 bad (since 05-02) and B12 good.
	checkRow(t, "A11", got["A11"], map[string]any{"link_group_size": 4, "link_known_bad": 1, "link_known_good": 1})
	// B14 on 2023-02-20: B10 not yet bad (due 02-01), B12 good since 2023-01-01.
	checkRow(t, "A14", got["A14"], map[string]any{"link_group_size": 3, "link_known_bad": 0, "link_known_good": 1, "link_bad_rate": 0.0})
	// B10 on 2022-12-20: B12 is 11 months on book, not yet known.
	checkRow(t, "A10", got["A10"], map[string]any{"link_group_size": 2, "link_known_bad": 0, "link_known_good": 0, "link_bad_rate": nil})

	// B11 pays after B13 applied: B11 never becomes bad, B13 is unchanged.
	writeLake(t, root, "part-1", rows{"repayments": {pay("P11", "L11", 1, "2023-08-15 09:00:00", "1000.00", "10.00")}})
	got = buildSnapshot(t, root, SetACard, "2023-12-01")
	checkRow(t, "A13", got["A13"], want)
}
