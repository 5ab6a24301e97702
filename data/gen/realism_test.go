package gen

import (
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"qiandun/data/schema"
	"qiandun/internal/civil"
)

func TestVintagesAndTruth(t *testing.T) {
	dir := testBook(t)
	_, loans := replay(t, dir)
	type vint struct{ n, bad int }
	byMonth := map[string]*vint{}
	var score []float64
	var bad []bool
	sumPD := 0.0
	for _, l := range loans {
		h := l.issue.AddDate(0, 12, 0)
		if h.After(windowEnd) {
			continue // immature
		}
		b := l.reached90(h)
		if b != l.bad12 {
			t.Fatalf("loan %s: truth ever_90dpd_12m=%v but the exported payments say %v", l.id, l.bad12, b)
		}
		k := l.issue.Format("2006-01")
		if byMonth[k] == nil {
			byMonth[k] = &vint{}
		}
		byMonth[k].n++
		if b {
			byMonth[k].bad++
		}
		score = append(score, l.truePD)
		bad = append(bad, b)
		sumPD += l.truePD
	}
	if len(byMonth) < 20 {
		t.Fatalf("only %d mature vintages", len(byMonth))
	}
	var shock, normal vint
	for k, v := range byMonth {
		rate := float64(v.bad) / float64(v.n)
		if rate < 0.02 || rate > 0.16 {
			t.Errorf("vintage %s: 90+ within 12 MOB %.3f, want 2%%-16%%", k, rate)
		}
		if k >= "2022-01" && k <= "2022-04" {
			shock.n += v.n
			shock.bad += v.bad
		} else {
			normal.n += v.n
			normal.bad += v.bad
		}
	}
	rs, rn := float64(shock.bad)/float64(shock.n), float64(normal.bad)/float64(normal.n)
	t.Logf("90+ in 12 MOB: shock vintages %.3f, others %.3f", rs, rn)
	if rs < 1.3*rn {
		t.Errorf("shock vintages %.3f not clearly worse than others %.3f", rs, rn)
	}
	a := auc(score, bad)
	rate := 0.0
	for _, b := range bad {
		if b {
			rate++
		}
	}
	rate /= float64(len(bad))
	meanPD := sumPD / float64(len(bad))
	t.Logf("mature loans %d, bad rate %.4f, mean true PD %.4f, AUC(true PD) %.4f", len(bad), rate, meanPD, a)
	if a < 0.76 || a > 0.87 {
		t.Errorf("AUC of the true PD %.3f, want 0.76-0.87", a)
	}
	// Calibration: the realised rate is a binomial draw around the mean PD.
	if se := math.Sqrt(meanPD * (1 - meanPD) / float64(len(bad))); math.Abs(rate-meanPD) > 4*se {
		t.Errorf("realised bad rate %.4f vs mean true PD %.4f (4 se = %.4f)", rate, meanPD, 4*se)
	}
}

func TestAuc(t *testing.T) {
	tests := []struct {
		score []float64
		bad   []bool
		want  float64
	}{
		{[]float64{1, 2, 3, 4}, []bool{false, false, true, true}, 1},
		{[]float64{4, 3, 2, 1}, []bool{false, false, true, true}, 0},
		{[]float64{1, 1, 1, 1}, []bool{false, true, false, true}, 0.5},
		{[]float64{1, 2, 3, 4}, []bool{false, true, false, true}, 0.75},
	}
	for _, tc := range tests {
		if got := auc(tc.score, tc.bad); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("auc(%v, %v) = %v, want %v", tc.score, tc.bad, got, tc.want)
		}
	}
}

func TestIDNumbers(t *testing.T) {
	// The standard's own example, and one with a wrong check digit.
	if !IDValid("11010519491231002X") {
		t.Error("GB 11643 example 11010519491231002X rejected")
	}
	if IDValid("110105194912310021") || IDValid("1101051949123100") {
		t.Error("invalid ID accepted")
	}
	dir := testBook(t)
	codes := map[string]bool{}
	for _, p := range provinces() {
		codes[strconv.Itoa(p.code)] = true
	}
	seen := map[string]bool{}
	var n, invalid, genderMismatch int
	for _, a := range table(t, dir, "applications.csv") {
		if seen[a["borrower_id"]] {
			continue
		}
		seen[a["borrower_id"]] = true
		id := a["id_number"]
		n++
		if len(id) != 18 {
			t.Fatalf("%s: ID %q is not 18 characters", a["application_id"], id)
		}
		if !IDValid(id) {
			invalid++
		}
		if !codes[id[:2]] {
			t.Fatalf("%s: ID %q has no real province prefix", a["application_id"], id)
		}
		birth, err := time.Parse("20060102", id[6:14])
		if err != nil {
			t.Fatalf("%s: ID %q birth date: %v", a["application_id"], id, err)
		}
		applied := mustTime(t, a["apply_time"])
		age := applied.Year() - birth.Year()
		if applied.YearDay() < birth.YearDay() && !(civil.IsLeap(birth.Year()) != civil.IsLeap(applied.Year())) {
			age--
		}
		if age < 18 || age > 65 {
			t.Fatalf("%s: age %d at application from ID %q", a["application_id"], age, id)
		}
		male := (id[16]-'0')%2 == 1
		if g := a["gender"]; g != "" && (g == "male") != male {
			genderMismatch++
		}
		if !phoneRE(a["phone"]) {
			t.Fatalf("%s: phone %q", a["application_id"], a["phone"])
		}
	}
	share := float64(invalid) / float64(n)
	t.Logf("%d borrowers, %.2f%% invalid check digits, %.2f%% declared gender disagrees", n, 100*share, 100*float64(genderMismatch)/float64(n))
	if share < 0.002 || share > 0.01 {
		t.Errorf("invalid check digit share %.4f, want about 0.5%%", share)
	}
	if gm := float64(genderMismatch) / float64(n); gm == 0 || gm > 0.01 {
		t.Errorf("declared gender disagrees with the ID for %.4f, want a small non-zero share", gm)
	}
}

func phoneRE(s string) bool {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	for i := 2; i < 11; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func TestFraudRings(t *testing.T) {
	dir := testBook(t)
	_, loans := replay(t, dir)
	device := map[string]string{}
	ip := map[string]string{}
	for _, a := range table(t, dir, "applications.csv") {
		device[a["borrower_id"]] = a["device_id"]
		ip[a["borrower_id"]] = a["ip"]
	}
	type ringStat struct{ devices, ips map[string]bool }
	rings := map[string]*ringStat{}
	var ringN, ringBad, otherN, otherBad int
	for _, l := range loans {
		mature := !l.issue.AddDate(0, 12, 0).After(windowEnd)
		if l.ring != "" {
			rs := rings[l.ring]
			if rs == nil {
				rs = &ringStat{map[string]bool{}, map[string]bool{}}
				rings[l.ring] = rs
			}
			rs.devices[device[l.borrower]] = true
			rs.ips[ip[l.borrower]] = true
			if mature {
				ringN++
				if l.bad12 {
					ringBad++
				}
			}
		} else if mature {
			otherN++
			if l.bad12 {
				otherBad++
			}
		}
	}
	if len(rings) < 10 || ringN < 30 {
		t.Fatalf("only %d rings, %d mature ring loans", len(rings), ringN)
	}
	for id, rs := range rings {
		if len(rs.devices) > 2 || len(rs.ips) != 1 {
			t.Errorf("ring %s: %d devices, %d IPs; members should share", id, len(rs.devices), len(rs.ips))
		}
	}
	rr, ro := float64(ringBad)/float64(ringN), float64(otherBad)/float64(otherN)
	t.Logf("%d rings; 90+ in 12 MOB: ring members %.3f, others %.3f", len(rings), rr, ro)
	if rr < 5*ro {
		t.Errorf("ring members default %.3f, not far more than others %.3f", rr, ro)
	}
	// Ordinary borrowers share a device only rarely.
	byDevice := map[string]int{}
	for _, d := range device {
		byDevice[d]++
	}
	ringBorrower := map[string]bool{}
	for _, l := range loans {
		if l.ring != "" {
			ringBorrower[l.borrower] = true
		}
	}
	shared, normal := 0, 0
	for b, d := range device {
		if ringBorrower[b] {
			continue
		}
		normal++
		if byDevice[d] > 1 {
			shared++
		}
	}
	if s := float64(shared) / float64(normal); s == 0 || s > 0.05 {
		t.Errorf("ordinary borrowers sharing a device: %.4f, want rare but present", s)
	}
}

func TestBookRealism(t *testing.T) {
	dir := testBook(t)
	byID, loans := replay(t, dir)
	apps := table(t, dir, "applications.csv")
	rejected := 0
	appsPerBorrower := map[string]int{}
	decision := map[string]string{}
	for _, a := range apps {
		if a["decision"] == "rejected" {
			rejected++
		}
		appsPerBorrower[a["borrower_id"]]++
		decision[a["application_id"]] = a["decision"]
	}
	t.Logf("%d applications, %.3f rejected", len(apps), float64(rejected)/float64(len(apps)))
	if s := float64(rejected) / float64(len(apps)); s < 0.28 || s > 0.42 {
		t.Errorf("rejected share %.3f, want 30%%-40%%", s)
	}
	repeat := 0
	for _, n := range appsPerBorrower {
		if n > 1 {
			repeat++
		}
	}
	if repeat == 0 {
		t.Error("no repeat borrowers")
	}
	// Rejected applicants are riskier: more overdue accounts at the bureau.
	overdue := map[string][2]float64{}
	for _, r := range table(t, dir, "bureau_reports.csv") {
		v, _ := strconv.Atoi(r["overdue_accounts"])
		overdue[r["borrower_id"]+r["report_date"]] = [2]float64{float64(v), 1}
	}
	var sum [2][2]float64 // [approved, rejected] x [sum, n]
	for _, a := range apps {
		o, ok := overdue[a["borrower_id"]+a["apply_time"][:10]]
		if !ok {
			continue
		}
		k := 0
		if a["decision"] == "rejected" {
			k = 1
		}
		sum[k][0] += o[0]
		sum[k][1]++
	}
	if ma, mr := sum[0][0]/sum[0][1], sum[1][0]/sum[1][1]; mr < 1.5*ma {
		t.Errorf("rejected applicants' mean overdue accounts %.3f not clearly above approved %.3f", mr, ma)
	}
	status := map[string]int{}
	products := map[string]int{}
	var ltvIn, ltvOver, coll int
	for _, r := range table(t, dir, "loans.csv") {
		status[r["status"]]++
		products[r["product"]]++
		if decision[r["application_id"]] != "approved" {
			t.Fatalf("loan %s from application %s which is %q", r["loan_id"], r["application_id"], decision[r["application_id"]])
		}
		rate, _ := strconv.ParseFloat(r["annual_rate"], 64)
		if rate < 0.08 || rate > 0.36 {
			t.Errorf("loan %s: rate %v", r["loan_id"], rate)
		}
		if !slices.Contains([]string{"3", "6", "12", "24", "36"}, r["term_months"]) {
			t.Errorf("loan %s: term %s", r["loan_id"], r["term_months"])
		}
		if r["collateral_type"] != "none" {
			coll++
			ltv := float64(mustFen(t, r["principal"])) / float64(mustFen(t, r["collateral_value"]))
			switch {
			case ltv >= 0.28 && ltv <= 0.92:
				ltvIn++
			case ltv > 1:
				ltvOver++
			}
		} else if r["collateral_value"] != "" {
			t.Errorf("loan %s: collateral value without collateral", r["loan_id"])
		}
	}
	for _, s := range []string{"active", "settled", "written_off"} {
		if status[s] == 0 {
			t.Errorf("no %s loans", s)
		}
	}
	for _, p := range productNames {
		if products[p] == 0 {
			t.Errorf("no %s loans", p)
		}
	}
	if float64(ltvIn) < 0.85*float64(coll) || ltvOver == 0 {
		t.Errorf("LTV: %d of %d in 0.3-0.9, %d above 1", ltvIn, coll, ltvOver)
	}
	// Payments: within the window, after issue, unique ids; settled loans
	// fully paid, written-off ones 180 days past due.
	txn := map[string]bool{}
	before, afterDue := 0, 0
	for _, r := range table(t, dir, "repayments.csv") {
		if txn[r["txn_id"]] {
			t.Fatalf("duplicate txn_id %s", r["txn_id"])
		}
		txn[r["txn_id"]] = true
		at := mustTime(t, r["paid_at"])
		l := byID[r["loan_id"]]
		if at.After(windowEnd) || at.Before(l.issue) {
			t.Fatalf("txn %s at %s outside issue %s .. window end", r["txn_id"], at, l.issue)
		}
		n, _ := strconv.Atoi(r["installment_no"])
		due := l.due[n-1]
		if at.Before(due) {
			before++
		} else if at.Sub(due) > 24*time.Hour {
			afterDue++
		}
	}
	if before == 0 || afterDue == 0 {
		t.Errorf("payments before due %d, late %d: want both", before, afterDue)
	}
	// Some borrowers pay the newest installment on time while an older one
	// is still open.
	outOfOrder := 0
	for _, l := range loans {
		for i := 1; i < len(l.due); i++ {
			if !l.fullyPaid[i].IsZero() && (l.fullyPaid[i-1].IsZero() || l.fullyPaid[i].Before(l.fullyPaid[i-1])) {
				outOfOrder++
				break
			}
		}
	}
	if outOfOrder == 0 {
		t.Error("no loan pays a newer installment before an older one")
	}
	for _, l := range loans {
		switch l.status {
		case "settled":
			for i := range l.due {
				if l.fullyPaid[i].IsZero() {
					t.Fatalf("settled loan %s: installment %d unpaid", l.id, i+1)
				}
			}
		case "written_off":
			if !l.reached90(windowEnd) {
				t.Fatalf("written-off loan %s never 90+ DPD", l.id)
			}
		}
	}
}

func TestRowsUnique(t *testing.T) {
	dir := testBook(t)
	for _, name := range []string{"bureau_inquiries.csv", "collection_events.csv", "bureau_reports.csv"} {
		_, rows := readCSV(t, dir+"/"+name)
		seen := make(map[string]bool, len(rows))
		for _, r := range rows {
			k := r[0] + "," + r[1]
			if name != "bureau_reports.csv" {
				k = k + "," + r[2] + "," + r[3]
			}
			if seen[k] {
				t.Fatalf("%s: row %v repeated", name, r)
			}
			seen[k] = true
		}
	}
	// Collections use every channel and outcome.
	_, ev := readCSV(t, dir+"/collection_events.csv")
	chans, outs := map[string]bool{}, map[string]bool{}
	for _, r := range ev {
		chans[r[2]] = true
		outs[r[3]] = true
	}
	for _, c := range evChannelNames {
		if !chans[c] {
			t.Errorf("no %s collection events", c)
		}
	}
	for _, o := range outcomeNames {
		if !outs[o] {
			t.Errorf("no %s collection outcomes", o)
		}
	}
}

// TestObservableRisk checks that the true risk is mostly explained by what
// the lender can observe: ranking mature loans by the observable part of
// the logit loses little against ranking them by the true PD, so a
// scorecard on application and bureau features can come within a few
// points of AUC of the truth.
func TestObservableRisk(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Loans = 30000
	w := newWorld(cfg)
	var obs, truePD []float64
	var bad []bool
	w.onLoan = func(z, pd float64, b, mature bool) {
		if mature {
			obs, truePD, bad = append(obs, z), append(truePD, pd), append(bad, b)
		}
	}
	for c := range cfg.Loans / chunkLoans {
		w.genChunk(c)
	}
	at, ao := auc(truePD, bad), auc(obs, bad)
	t.Logf("%d mature loans: AUC true PD %.4f, observable logit %.4f", len(bad), at, ao)
	if ao < at-0.03 {
		t.Errorf("observable AUC %.4f more than 0.03 below the true PD's %.4f", ao, at)
	}
	if ao > at {
		t.Errorf("observable AUC %.4f above the true PD's %.4f: the truth should know more", ao, at)
	}
}

// TestDeteriorationBeforeDefault checks that borrowers who stop paying
// were paying late more often in the installments just before, so
// repayment behaviour carries signal for a B-card and early warning.
func TestDeteriorationBeforeDefault(t *testing.T) {
	dir := testBook(t)
	_, loans := replay(t, dir)
	var preLate, preN, baseLate, baseN, shockLate, shockN int
	shockFrom := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	shockTo := time.Date(2022, 7, 30, 0, 0, 0, 0, time.UTC)
	late := func(l *loanFacts, i int) bool {
		return !l.fullyPaid[i].IsZero() && l.fullyPaid[i].Sub(l.due[i]) > 5*24*time.Hour
	}
	for _, l := range loans {
		first := -1 // first installment never paid, due inside the window
		for i := range l.due {
			if l.fullyPaid[i].IsZero() && l.due[i].AddDate(0, 0, 100).Before(windowEnd) {
				first = i
				break
			}
		}
		switch {
		case first >= 3:
			for i := first - 3; i < first; i++ {
				preN++
				if late(l, i) {
					preLate++
				}
			}
		case first < 0:
			for i := range l.due {
				if !l.fullyPaid[i].IsZero() {
					baseN++
					inShock := !l.due[i].Before(shockFrom) && l.due[i].Before(shockTo)
					if inShock {
						shockN++
					}
					if late(l, i) {
						baseLate++
						if inShock {
							shockLate++
						}
					}
				}
			}
		}
	}
	// The macro shock also shows in calendar time: installments due during
	// it (and the quarter after) are paid late more often.
	shockShare := float64(shockLate) / float64(shockN)
	otherShare := float64(baseLate-shockLate) / float64(baseN-shockN)
	t.Logf("never-defaulting loans paid >5 days late: %.3f of installments due in the shock, %.3f otherwise", shockShare, otherShare)
	if shockShare < 1.3*otherShare {
		t.Errorf("installments due in the shock paid late %.3f, not clearly above %.3f", shockShare, otherShare)
	}
	pre, base := float64(preLate)/float64(preN), float64(baseLate)/float64(baseN)
	t.Logf("paid >5 days late: %.3f of the 3 installments before a default, %.3f for loans that never default", pre, base)
	if pre < 3*base {
		t.Errorf("late share before default %.3f not clearly above %.3f", pre, base)
	}
}

// TestBureauStatusCodesInBook checks the bureau reports carry the bureaus'
// repayment-status codes: every worst_status_24m is in the code set;
// a borrower with overdue accounts now has an overdue code (1..7); '*'
// (no payment due) only where no account is open and none overdue; most
// reports are normal ('N'), and every band appears.
func TestBureauStatusCodesInBook(t *testing.T) {
	dir := testBook(t)
	seen := map[string]int{}
	rows := table(t, dir, "bureau_reports.csv")
	for _, r := range rows {
		code := r["worst_status_24m"]
		if !slices.Contains(schema.BureauStatusCodes, code) {
			t.Fatalf("%s %s: worst_status_24m %q is not a bureau code", r["borrower_id"], r["report_date"], code)
		}
		seen[code]++
		band, isBand := schema.OverdueBand(code)
		if r["overdue_accounts"] != "0" && (!isBand || band == 0) {
			t.Errorf("%s %s: %s overdue accounts but worst status %q", r["borrower_id"], r["report_date"], r["overdue_accounts"], code)
		}
		if code == "*" && r["open_accounts"] != "0" {
			t.Errorf("%s %s: no payment due ('*') with %s open accounts", r["borrower_id"], r["report_date"], r["open_accounts"])
		}
	}
	if seen["N"]*2 < len(rows) {
		t.Errorf("only %d of %d reports normal (N): %v", seen["N"], len(rows), seen)
	}
	for _, c := range []string{"N", "1", "2", "3", "4", "5", "6", "7", "*"} {
		if seen[c] == 0 {
			t.Errorf("code %q never written: %v", c, seen)
		}
	}
}
