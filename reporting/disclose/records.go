package disclose

import (
	"context"
	"fmt"
	"strconv"
)

// Project is one record of projects.jsonl: a loan issued in the month, as
// the guideline's project disclosure lists it. Money is CNY with two
// decimals, as text.
type Project struct {
	LoanID    string    `json:"loan_id"`
	IssueDate string    `json:"issue_date"`
	Borrower  Borrower  `json:"borrower"`
	Credit    Credit    `json:"credit"`
	Loan      LoanTerms `json:"loan"`
	Lenders   int       `json:"lenders"`       // distinct lenders who funded it
	Funded    string    `json:"funded_amount"` // the sum they invested
	FundFlow  []Flow    `json:"fund_flow"`
	Repayment Repayment `json:"repayment"`
}

// Borrower is the borrower, masked (DESIGN.md), and banded.
type Borrower struct {
	Name       string `json:"name"`      // family name kept: 张**
	IDNumber   string `json:"id_number"` // first 3 and last 4: 110***********123X
	Phone      string `json:"phone"`     // first 3 and last 4: 138****5678
	AgeBand    string `json:"age_band"`
	Gender     string `json:"gender"`
	Region     string `json:"region"`
	IncomeBand string `json:"income_band"` // declared monthly income, CNY
}

// Credit is the borrower's credit standing in the 6 months before issue:
// the latest bureau report of that window and the other-platform
// loan-approval inquiries.
type Credit struct {
	ReportDate         string `json:"bureau_report_date"` // "" when no report in the window
	OpenAccounts       int    `json:"bureau_open_accounts"`
	Debt               string `json:"bureau_debt"` // total outstanding on the report
	OverdueAccounts    int    `json:"bureau_overdue_accounts"`
	WorstStatus24m     string `json:"bureau_worst_status_24m"`
	Reports6m          int    `json:"bureau_reports_6m"`
	OverdueReports6m   int    `json:"bureau_overdue_reports_6m"` // reports showing an overdue account
	InquiriesP2P       int    `json:"inquiries_p2p_6m"`
	InquiriesMicroloan int    `json:"inquiries_microloan_6m"`
}

// LoanTerms are the loan's terms and collateral.
type LoanTerms struct {
	Purpose         string `json:"purpose"`
	Amount          string `json:"amount"`
	TermMonths      int    `json:"term_months"`
	AnnualRate      string `json:"annual_rate"`
	RepayMethod     string `json:"repay_method"`
	Collateral      string `json:"collateral_type"`
	CollateralValue string `json:"collateral_value"` // "" when none recorded
}

// Flow is one custody line of the loan's funds.
type Flow struct {
	Date         string `json:"date"`
	Type         string `json:"type"` // disbursement
	Amount       string `json:"amount"`
	Bank         string `json:"bank"`
	ToSubAccount string `json:"to_sub_account"` // the borrower's, masked
}

// Repayment is the loan's repayment status to date (AsOf: the
// performance panel's last month end).
type Repayment struct {
	AsOf             string `json:"as_of"`
	Status           string `json:"status"` // active, settled, written_off
	DPD              int    `json:"dpd"`
	InstallmentsDue  int    `json:"installments_due"`
	InstallmentsPaid int    `json:"installments_paid"`
	PrincipalRepaid  string `json:"principal_repaid"`
	Outstanding      string `json:"outstanding_principal"`
	Overdue          string `json:"overdue_amount"`
}

// yuan writes fen as CNY with two decimals.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// mask reveals each borrower's identity (one audit line per token) and
// builds the published records, masked.
func mask(ctx context.Context, o Options, d *monthData) ([]Project, error) {
	purpose := "disclose " + o.Month
	clear := map[string]string{}
	reveal := func(tok string) (string, error) {
		if tok == "" {
			return "", nil
		}
		if v, ok := clear[tok]; ok {
			return v, nil
		}
		v, err := o.Identities.Reveal(ctx, tok, purpose)
		if err != nil {
			return "", err
		}
		clear[tok] = v
		return v, nil
	}
	out := make([]Project, 0, len(d.Projects))
	for _, r := range d.Projects {
		name, err := reveal(r.NameToken)
		if err != nil {
			return nil, fmt.Errorf("disclose: loan %s: name: %w", r.LoanID, err)
		}
		id, err := reveal(r.IDToken)
		if err != nil {
			return nil, fmt.Errorf("disclose: loan %s: ID number: %w", r.LoanID, err)
		}
		phone, err := reveal(r.PhoneToken)
		if err != nil {
			return nil, fmt.Errorf("disclose: loan %s: phone: %w", r.LoanID, err)
		}
		out = append(out, project(r, Borrower{Name: MaskName(name), IDNumber: MaskID(id), Phone: MaskPhone(phone)}, d.Flows[r.LoanID]))
	}
	return out, nil
}

// project builds the record of row r with the masked identity b.
func project(r projectRow, b Borrower, flows []flowRow) Project {
	b.AgeBand, b.Gender, b.Region, b.IncomeBand = r.AgeBand, r.Gender, r.Region, r.IncomeBand
	coll := ""
	if r.CollateralFen >= 0 {
		coll = yuan(r.CollateralFen)
	}
	p := Project{
		LoanID: r.LoanID, IssueDate: r.IssueDate, Borrower: b,
		Credit: Credit{ReportDate: r.ReportDate, OpenAccounts: r.OpenAccounts, Debt: yuan(r.DebtFen),
			OverdueAccounts: r.OverdueAccounts, WorstStatus24m: r.WorstStatus, Reports6m: r.Reports6m,
			OverdueReports6m: r.OverdueReports6m, InquiriesP2P: r.InqP2P, InquiriesMicroloan: r.InqMicro},
		Loan: LoanTerms{Purpose: r.Purpose, Amount: yuan(r.PrincipalFen), TermMonths: r.TermMonths, AnnualRate: r.AnnualRate,
			RepayMethod: r.RepayMethod, Collateral: r.Collateral, CollateralValue: coll},
		Lenders: r.Lenders, Funded: yuan(r.FundedFen), FundFlow: []Flow{},
		Repayment: Repayment{AsOf: r.StatusAsOf, Status: r.Status, DPD: r.DPD, InstallmentsDue: r.InstDue,
			InstallmentsPaid: r.InstPaid, PrincipalRepaid: yuan(r.RepaidFen), Outstanding: yuan(r.OutstandingFen),
			Overdue: yuan(r.OverdueFen)},
	}
	for _, f := range flows {
		p.FundFlow = append(p.FundFlow, Flow{Date: f.Date, Type: "disbursement", Amount: yuan(f.AmountFen), Bank: f.Bank,
			ToSubAccount: MaskAccount(f.SubAccount)})
	}
	return p
}

// pageName is a project's page file name: its loan id when that is a
// plain file name, else a stable hash of it.
func pageName(loanID string) string {
	ok := loanID != "" && len(loanID) <= 64
	for _, c := range loanID {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			ok = false
			break
		}
	}
	if ok {
		return loanID + ".html"
	}
	return "p" + strconv.FormatUint(fnv64(loanID), 16) + ".html"
}

// fnv64 is FNV-1a, 64 bits.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
