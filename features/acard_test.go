package features

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qiandun/data/lake"

	"qiandun/data/schema"
)

// app returns an applications row; income "" is NULL.
func app(id, borrower, at, product, requested string, term int, income, gender, idGender string, age int, idOK bool, device, phone, ip, decision string) row {
	r := row{
		"application_id": q(id), "borrower_id": q(borrower), "apply_time": "TIMESTAMP " + q(at),
		"product": q(product), "channel": q("app"), "requested_amount": requested,
		"term_months": itoa(term), "id_number_token": q("tok-id-" + borrower), "name_token": q("tok-name-" + borrower),
		"phone_token": q(phone), "gender": q(gender), "education": q("本科"), "marital_status": q("married"),
		"employment_years": "3.5", "city": q("北京"), "device_id_token": q(device), "ip_token": q(ip), "decision": q(decision),
		"age": itoa(age), "id_gender": q(idGender), "birth_province": q("北京"),
		"id_checksum_ok": map[bool]string{true: "true", false: "false"}[idOK],
	}
	if income != "" {
		r["monthly_income"] = income
	}
	return r
}

func loan(id, application, borrower, product, issue, principal, rate string, term int, collateral, value string) row {
	r := row{
		"loan_id": q(id), "application_id": q(application), "borrower_id": q(borrower), "product": q(product),
		"issue_date": "DATE " + q(issue), "principal": principal, "annual_rate": rate, "term_months": itoa(term),
		"repay_method": q("equal_installment"), "purpose": q("消费"), "collateral_type": q(collateral),
		"region": q("华北"), "status": q("active"),
	}
	if value != "" {
		r["collateral_value"] = value
	}
	return r
}

func inquiry(borrower, date, inst, reason string) row {
	return row{"borrower_id": q(borrower), "query_date": "DATE " + q(date), "institution_type": q(inst), "reason": q(reason)}
}

// report is a bureau report as ingestion lands it: the bureau's
// repayment-status code and its overdue band (NULL for a code that is
// not a band).
func report(borrower, date string, open int, outstanding string, overdue int, code string) row {
	band := "NULL"
	if b, ok := schema.OverdueBand(code); ok {
		band = itoa(b)
	}
	return row{"borrower_id": q(borrower), "report_date": "DATE " + q(date), "open_accounts": itoa(open),
		"total_outstanding": outstanding, "overdue_accounts": itoa(overdue), "worst_status_24m": q(code),
		"worst_overdue_band": band}
}

func itoa(i int) string { return fmtInt(i) }

// acardLake is the hand-made A-card lake of the golden tests (as of
// 2024-06-01). Apply times, devices (D), phones (P) and IPs:
//
//	A1 B1 2024-03-10 10:00  D1 P1 IP1  cash 12000/12m income 10000, loan L1 at 12% issued 03-12
//	A4 B1 2024-03-12 08:00  D2 P1 IP3  cash  3000/3m  income 10000, rejected
//	A2 B2 2024-03-15 09:00  D1 P2 IP1  cash  6000/6m  no income, ID invalid, female vs ID male, age 17
//	A3 B3 2024-03-20 12:00  D1 P3 IP2  car  50000/24m income 20000
//	A5 B4 2024-04-01 00:00  D9 P2 IP1  cash 20000/12m income 8000, loan L5 at 24% issued 04-02, house 100000
//	A6 B5 2024-05-01 00:00  D5 P5 IP5  edu   5000/6m  income 5000
//	A7 B6 2024-06-15 00:00  (after as-of: excluded)
func acardLake() rows {
	return rows{
		"applications": {
			app("A1", "B1", "2024-03-10 10:00:00", "cash", "12000.00", 12, "10000.00", "male", "male", 30, true, "D1", "P1", "IP1", "approved"),
			app("A4", "B1", "2024-03-12 08:00:00", "cash", "3000.00", 3, "10000.00", "male", "male", 30, true, "D2", "P1", "IP3", "rejected"),
			app("A2", "B2", "2024-03-15 09:00:00", "cash", "6000.00", 6, "", "female", "male", 17, false, "D1", "P2", "IP1", "rejected"),
			app("A3", "B3", "2024-03-20 12:00:00", "car", "50000.00", 24, "20000.00", "male", "male", 40, true, "D1", "P3", "IP2", "rejected"),
			app("A5", "B4", "2024-04-01 00:00:00", "cash", "20000.00", 12, "8000.00", "female", "female", 61, true, "D9", "P2", "IP1", "approved"),
			app("A6", "B5", "2024-05-01 00:00:00", "edu", "5000.00", 6, "5000.00", "male", "male", 25, true, "D5", "P5", "IP5", "rejected"),
			app("A7", "B6", "2024-06-15 00:00:00", "cash", "5000.00", 6, "5000.00", "male", "male", 25, true, "D1", "P1", "IP1", "rejected"),
		},
		"loans": {
			loan("L1", "A1", "B1", "cash", "2024-03-12", "12000.00", "0.12", 12, "none", "0.00"),
			loan("L5", "A5", "B4", "cash", "2024-04-02", "18000.00", "0.24", 12, "house", "100000.00"),
		},
		"bureau_inquiries": {
			inquiry("B1", "2024-03-09", "bank", "loan_approval"),
			inquiry("B1", "2024-03-03", "p2p", "loan_approval"),
			inquiry("B1", "2024-03-02", "p2p", "loan_approval"),
			inquiry("B1", "2024-03-10", "microloan", "loan_approval"),
			inquiry("B1", "2023-12-01", "consumer_finance", "loan_approval"),
			inquiry("B1", "2023-09-01", "bank", "loan_approval"),
			inquiry("B2", "2024-03-10", "microloan", "loan_approval"),
			inquiry("B2", "2024-03-11", "microloan", "loan_approval"),
			inquiry("B2", "2024-03-12", "microloan", "loan_approval"),
			inquiry("B2", "2024-03-13", "microloan", "loan_approval"),
			inquiry("B2", "2024-03-14", "microloan", "loan_approval"),
			inquiry("B2", "2024-03-15", "microloan", "loan_approval"),
		},
		"bureau_reports": {
			report("B1", "2024-01-15", 3, "45000.50", 0, "1"),
			report("B1", "2024-03-10", 4, "50000.00", 1, "2"),
		},
	}
}

func TestACardGolden(t *testing.T) {
	root := t.TempDir()
	lk := acardLake()
	// Declared cities as free text, with and without the province and the
	// 市 suffix; one not in the tier table.
	for i, city := range map[int]string{3: "河北省石家庄市", 4: "内蒙古自治区包头市", 5: "火星市"} {
		lk["applications"][i]["city"] = q(city)
	}
	writeLake(t, root, "part-0", lk)
	got := buildSnapshot(t, root, SetACard, "2024-06-01")
	if len(got) != 6 {
		t.Fatalf("%d rows, want 6 (A7 applied after the as-of date)", len(got))
	}
	cases := map[string]map[string]any{
		// Application: no cash loan issued before 03-10 (L1 is issued on
		// 03-12, and an application's own loan rate is not used): 24%;
		// annuity 12000*0.02/(1-1.02^-12) = 1134.7152; / income 10000.
		"A1": {
			"borrower_id": "B1", "age": 30, "monthly_income": 10000.0, "employment_years": 3.5,
			"education": "本科", "product": "cash", "requested_amount": 12000.0, "term_months": 12,
			"assumed_annual_rate": 0.24, "installment_estimate": 1134.72, "installment_to_income": 0.1134715159475417,
			// 12000 / 10000; declared gender as given.
			"amount_to_income": 1.2, "gender": "male",
			// Asset: collateral none, value 0 -> NULL, no LTV.
			"collateral_type": "none", "collateral_value": nil, "loan_to_value": nil,
			// Bureau, apply date 03-10: 7d window [03-03,03-10): 03-09 bank, 03-03 p2p;
			// 30d adds 03-02 p2p; 180d adds 2023-12-01 (100 days); 2023-09-01 (191 days)
			// and 03-10 (same day) are out.
			"inq_7d_total": 2, "inq_7d_bank": 1, "inq_7d_p2p": 1, "inq_7d_microloan": 0,
			"inq_30d_total": 3, "inq_30d_p2p": 2, "inq_90d_total": 3, "inq_180d_total": 4,
			"inq_180d_consumer_finance": 1, "inq_90d_institution_types": 2,
			// 90d non-bank: the two p2p inquiries (03-03, 03-02).
			"inq_90d_nonbank": 2,
			// 北京: tier 1.
			"city": "北京", "city_tier": 1,
			// Report 2024-01-15 (the 03-10 one is the apply day): 16+29+10 = 55 days old.
			"bureau_open_accounts": 3, "bureau_total_outstanding": 45000.50, "bureau_overdue_accounts": 0,
			"bureau_worst_status_24m": 1, "bureau_report_age_days": 55,
			// 45000.50 outstanding / 10000 income.
			"bureau_outstanding_to_income": 4.50005,
			// Fraud: first application anywhere.
			"id_checksum_ok": 1, "gender_mismatch": 0, "age_out_of_range": 0,
			"device_shared_borrowers_30d": 0, "phone_shared_borrowers_30d": 0, "ip_shared_borrowers_30d": 0,
			"apps_same_borrower_7d": 0, "link_group_size": 1, "link_known_bad": 0, "link_known_good": 0, "link_bad_rate": nil,
		},
		// No cash loan issued before 03-12 (L1 is issued on the apply date): rate 0.24;
		// 3000*0.02/(1-1.02^-3) = 1040.2640.
		"A4": {
			"assumed_annual_rate": 0.24, "installment_estimate": 1040.26, "installment_to_income": 0.10402640177754542,
			"collateral_type": nil, "loan_to_value": nil,
			// apply date 03-12: 7d [03-05,03-12): 03-09 bank, 03-10 microloan; 30d adds 03-03,
			// 03-02; 90d (from 2023-12-13) the same; 180d adds 2023-12-01.
			"inq_7d_total": 2, "inq_7d_bank": 1, "inq_7d_microloan": 1, "inq_30d_total": 4,
			"inq_90d_total": 4, "inq_180d_total": 5, "inq_90d_institution_types": 3,
			"bureau_open_accounts": 4, "bureau_total_outstanding": 50000.0, "bureau_overdue_accounts": 1,
			"bureau_worst_status_24m": 2, "bureau_report_age_days": 2,
			// 50000 / 10000; A4 asks 3000 on 10000 income.
			"bureau_outstanding_to_income": 5.0, "amount_to_income": 0.3,
			// Same borrower applied 46 hours earlier; P1 is B1's own phone.
			"apps_same_borrower_7d": 1, "phone_shared_borrowers_30d": 0, "device_shared_borrowers_30d": 0,
			"link_group_size": 1,
		},
		// Mean rate of cash loans issued before 03-15: L1 only, 0.12;
		// 6000*0.01/(1-1.01^-6) = 1035.29; no income -> NULL ratio.
		"A2": {
			"assumed_annual_rate": 0.12, "installment_estimate": 1035.29, "installment_to_income": nil, "monthly_income": nil,
			"inq_7d_total": 5, "inq_7d_microloan": 5, "inq_90d_institution_types": 1,
			"bureau_open_accounts": nil, "bureau_report_age_days": nil,
			"id_checksum_ok": 0, "gender_mismatch": 1, "age_out_of_range": 1,
			// D1 and IP1 used by B1 five days earlier; group {B1 via D1} + B2.
			"device_shared_borrowers_30d": 1, "ip_shared_borrowers_30d": 1, "link_group_size": 2,
		},
		// No car loans: 0.24. 50000*0.02/(1-1.02^-24) = 2643.55.
		"A3": {
			"assumed_annual_rate": 0.24, "installment_estimate": 2643.55, "installment_to_income": 0.13217774313312464,
			"inq_180d_total": 0, "device_shared_borrowers_30d": 2, "ip_shared_borrowers_30d": 0,
			"inq_90d_nonbank": 0, "city": "河北省石家庄市", "city_tier": 3,
			"link_group_size": 3,
		},
		// Cash loans issued before 04-01: L1 (L5, its own, is issued 04-02): 12%;
		// 20000*0.01/(1-1.01^-12) = 1776.98; LTV 18000/100000.
		"A5": {
			"assumed_annual_rate": 0.12, "installment_estimate": 1776.98, "installment_to_income": 0.22212197169585404,
			"collateral_type": "house", "collateral_value": 100000.0, "loan_to_value": 0.18,
			"age_out_of_range": 1, "gender_mismatch": 0, "city_tier": 4,
			// P2 used by B2 17 days earlier; IP1 by B1 (21.6 days) and B2.
			"phone_shared_borrowers_30d": 1, "ip_shared_borrowers_30d": 2, "device_shared_borrowers_30d": 0,
			// P2 joins B2's group {B1, B2, B3} (linked through D1): 3 + B4.
			"link_group_size": 4,
		},
		"A6": {
			"assumed_annual_rate": 0.24, "installment_estimate": 892.63,
			"device_shared_borrowers_30d": 0, "ip_shared_borrowers_30d": 0, "link_group_size": 1,
			"city": "火星市", "city_tier": nil,
		},
	}
	for id, want := range cases {
		checkRow(t, id, got[id], want)
	}

	flags := readFlags(t, filepath.Join(root, "features", "fraud_flags", "as_of=2024-06-01", "part-0.parquet"))
	wantFlags := []string{"A2 identity_mismatch", "A2 inquiry_burst", "A2 invalid_id", "A3 ring_member",
		"A3 shared_device", "A5 identity_mismatch", "A5 ring_member"}
	if len(flags) != len(wantFlags) {
		t.Fatalf("flags %v, want %v", flags, wantFlags)
	}
	for i := range flags {
		if flags[i] != wantFlags[i] {
			t.Errorf("flag %d = %q, want %q", i, flags[i], wantFlags[i])
		}
	}
}

// TestACardInquiryCountLimit: acard_bureau.sql sums each window's counts
// by institution type in 12-bit fields of one integer. 4095 inquiries of
// one type in a window are counted exactly, beside the other types'; one
// more fails the step with the limit named instead of carrying into the
// next type's count.
func TestACardInquiryCountLimit(t *testing.T) {
	for _, tc := range []struct {
		p2p     int
		wantErr bool
	}{{4093, false}, {4094, true}} {
		root := t.TempDir()
		lk := acardLake()
		// A1 applies 03-10; each of these is 4 days before it, beside
		// B1's p2p inquiries of 03-03 and 03-02: 4093 more make 4095 in
		// its 180 days, the most a field holds.
		for range tc.p2p {
			lk["bureau_inquiries"] = append(lk["bureau_inquiries"], inquiry("B1", "2024-03-06", "p2p", "post_loan"))
		}
		writeLake(t, root, "part-0", lk)
		d := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		l := lake.New(root)
		_, err := Run(context.Background(), l, SetACard, []time.Time{d}, lake.DBOptions{MemoryLimit: "1GB", Threads: 2}, nil)
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), "at most 4095") {
				t.Fatalf("%d p2p inquiries: err %v, want the 4095 limit named", tc.p2p, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d p2p inquiries: %v", tc.p2p, err)
		}
		got := readParquet(t, filepath.Join(Dir(l, SetACard, d), "part-0.parquet"))
		// As in TestACardGolden, plus the added p2p inquiries: the 7-day
		// window held 03-09 bank and 03-03 p2p.
		checkRow(t, "A1", got["A1"], map[string]any{
			"inq_7d_p2p": tc.p2p + 1, "inq_7d_bank": 1, "inq_7d_consumer_finance": 0, "inq_7d_microloan": 0,
			"inq_7d_total": tc.p2p + 2, "inq_180d_total": tc.p2p + 4, "inq_180d_consumer_finance": 1,
		})
	}
}
