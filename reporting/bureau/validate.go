package bureau

import (
	"fmt"
	"slices"
	"strings"

	"qiandun/data/ingest/pii"
)

// Validation rules, the names a Failure carries.
const (
	// RuleStatusDPD: the account's overdue days, RpyStatus and
	// AcctStatus agree with the performance panel's DPD at the month end.
	RuleStatusDPD = "status_matches_panel_dpd"
	// RuleBalance: balance = principal - principal repaid.
	RuleBalance = "balance_is_principal_less_repaid"
	// RuleOverdueLEBalance: overdue principal <= balance (and its age
	// bands over 30 days sum to no more than it).
	RuleOverdueLEBalance = "overdue_principal_within_balance"
	// RuleSettled: a settled (closed) account reports zero balance and a
	// close date.
	RuleSettled = "settled_zero_balance_and_close_date"
	// RuleOpenOnce: every account open at the month end appears once
	// (and no account appears twice).
	RuleOpenOnce = "open_account_reported_once"
	// RuleIdentity: name, ID number and phone present; with real
	// identities, the ID number's GB 11643 check digit and the phone's
	// form (11 digits, 1[3-9]...) hold.
	RuleIdentity = "identity_valid"
)

// Failure is one account failing one rule.
type Failure struct {
	LoanID, Rule, Detail string
}

func (f Failure) String() string { return fmt.Sprintf("%s: %s: %s", f.LoanID, f.Rule, f.Detail) }

// ValidationError lists every failure of a month and why they refuse
// it; nothing was written.
type ValidationError struct {
	Month    string
	Reason   string // why the failures refuse the month (strict, unmendable, too many)
	Failures []Failure
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bureau %s: %d validation failures, nothing written", e.Month, len(e.Failures))
	if e.Reason != "" {
		b.WriteString(" (" + e.Reason + ")")
	}
	b.WriteString(":")
	for i, f := range e.Failures {
		if i == 20 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Failures)-i)
			break
		}
		b.WriteString("\n  " + f.String())
	}
	return b.String()
}

// RpyStatusForDPD is the repayment-status code of an open account with
// dpd days overdue at the month end and dueInMonth due in the month.
func RpyStatusForDPD(dpd int, dueInMonth int64) string {
	switch {
	case dpd == 0 && dueInMonth == 0:
		return "*"
	case dpd == 0:
		return "N"
	case dpd > 180:
		return "7"
	}
	return string(rune('0' + (dpd+29)/30))
}

// Validate checks the accounts of a month against the rules; open is the
// loan ids open at the month end according to the panel. clear says the
// identities are real (their check digit and form are checked) rather
// than placeholders. The failures come in account order, each account's
// rules together, then RuleOpenOnce's (accounts reported twice, then open
// accounts not reported, each in loan id order).
func Validate(accts []Account, open []string, clear bool) []Failure {
	twice, missing := checkOpenOnce(accts, open)
	return slices.Concat(checkAccounts(accts, clear), twice, missing)
}

func failure(id, rule, format string, args ...any) Failure {
	return Failure{LoanID: id, Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// checkAccounts checks each account on its own: every rule but
// RuleOpenOnce.
func checkAccounts(accts []Account, clear bool) []Failure {
	var out []Failure
	fail := func(id, rule, format string, args ...any) { out = append(out, failure(id, rule, format, args...)) }
	for _, a := range accts {
		if a.PanelDPD >= 0 && (a.AcctStatus == 1 || a.AcctStatus == 2) {
			want := RpyStatusForDPD(a.PanelDPD, a.DueInMonth)
			if a.OverdueDays != a.PanelDPD || a.RpyStatus != want || (a.AcctStatus == 2) != (a.PanelDPD > 0) {
				fail(a.LoanID, RuleStatusDPD, "reports %d days, RpyStatus %s, AcctStatus %d; panel DPD %d wants %s", a.OverdueDays, a.RpyStatus, a.AcctStatus, a.PanelDPD, want)
			}
		}
		if want := max(a.Principal-a.PrincipalRepaid, 0); a.Balance != want {
			fail(a.LoanID, RuleBalance, "balance %s, principal %s less repaid %s is %s", money(a.Balance), money(a.Principal), money(a.PrincipalRepaid), money(want))
		}
		if a.OverduePrincipal > a.Balance {
			fail(a.LoanID, RuleOverdueLEBalance, "overdue principal %s above balance %s", money(a.OverduePrincipal), money(a.Balance))
		} else if bands := a.Overdue31to60 + a.Overdue61to90 + a.Overdue91to180 + a.OverdueOver180; bands > a.OverduePrincipal {
			fail(a.LoanID, RuleOverdueLEBalance, "overdue principal by age %s above the overdue principal %s", money(bands), money(a.OverduePrincipal))
		}
		if a.AcctStatus == 3 && (a.Balance != 0 || a.CloseDate == "") {
			fail(a.LoanID, RuleSettled, "settled with balance %s and close date %q", money(a.Balance), a.CloseDate)
		}
		if msg := checkIdentity(a.Identity, clear); msg != "" {
			fail(a.LoanID, RuleIdentity, "%s", msg)
		}
	}
	return out
}

// checkOpenOnce returns RuleOpenOnce's failures: the accounts reported
// more than once, and the loan ids open at the month end but not
// reported, each in loan id order.
func checkOpenOnce(accts []Account, open []string) (twice, missing []Failure) {
	// the reported ids and the open ones, sorted: duplicates are
	// neighbours, and one merge walk finds the open accounts not reported
	ids := make([]string, len(accts))
	for i, a := range accts {
		ids[i] = a.LoanID
	}
	if !slices.IsSorted(ids) {
		slices.Sort(ids)
	}
	if !slices.IsSorted(open) {
		open = slices.Sorted(slices.Values(open))
	}
	for i := 0; i < len(ids); {
		n := 1
		for i+n < len(ids) && ids[i+n] == ids[i] {
			n++
		}
		if n > 1 {
			twice = append(twice, failure(ids[i], RuleOpenOnce, "reported %d times", n))
		}
		i += n
	}
	j := 0
	for _, id := range open {
		for j < len(ids) && ids[j] < id {
			j++
		}
		if j == len(ids) || ids[j] != id {
			missing = append(missing, failure(id, RuleOpenOnce, "open at the month end but not reported"))
		}
	}
	return twice, missing
}

// checkIdentity returns what is wrong with an identity ("" if nothing).
// It never quotes the values.
func checkIdentity(id Identity, clear bool) string {
	var bad []string
	if id.Name == "" {
		bad = append(bad, "name empty")
	}
	switch {
	case id.IDNumber == "":
		bad = append(bad, "ID number empty")
	case clear && !validID(id.IDNumber):
		bad = append(bad, "ID number fails its GB 11643 check digit")
	}
	switch {
	case id.Phone == "":
		bad = append(bad, "phone empty")
	case clear && !validPhone(id.Phone):
		bad = append(bad, "phone is not a mainland mobile number (11 digits, 1[3-9]...)")
	}
	return strings.Join(bad, "; ")
}

func validID(s string) bool {
	if len(s) != 18 {
		return false
	}
	want, ok := pii.CheckDigit(s[:17])
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	return ok && want == last
}

func validPhone(s string) bool {
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

// money renders fen as yuan with two decimals.
func money(f int64) string {
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	return fmt.Sprintf("%s%d.%02d", sign, f/100, f%100)
}
