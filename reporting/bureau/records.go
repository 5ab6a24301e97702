package bureau

import "strconv"

// AccountsColumns are the columns of accounts.csv, in order.
var AccountsColumns = []string{"loan_id", "month", "acct_status", "rpy_status", "overdue_days", "overdue_principal",
	"total_overdue", "balance", "remaining_terms", "five_class", "paid_in_month", "due_in_month", "close_date"}

func accountRow(a Account) []string {
	return []string{a.LoanID, a.Month, strconv.Itoa(a.AcctStatus), a.RpyStatus, strconv.Itoa(a.OverdueDays),
		money(a.OverduePrincipal), money(a.TotalOverdue), money(a.Balance), strconv.Itoa(a.RemainingTerms),
		strconv.Itoa(a.FiveClass), money(a.PaidInMonth), money(a.DueInMonth), a.CloseDate}
}

// PBOC second generation, 个人借贷账户信息 (record type 210) and its
// corrections (212 by segment, 213 deletion), one JSON object per line
// with the standard's segment and field names. Money is a decimal string.

type pbocBase struct {
	InfRecType   string `json:"InfRecType"`
	AcctType     string `json:"AcctType"` // D1: non-revolving loan account
	AcctCode     string `json:"AcctCode"` // MngmtOrgCode + loan id
	RptDate      string `json:"RptDate"`  // the month end reported
	RptDateCode  string `json:"RptDateCode"`
	Name         string `json:"Name"`
	IDType       string `json:"IDType"` // 10: resident identity card
	IDNum        string `json:"IDNum"`
	MngmtOrgCode string `json:"MngmtOrgCode"`
}

type pbocBasic struct {
	BusiLines   string `json:"BusiLines"` // 1: loan
	OpenDate    string `json:"OpenDate"`
	Cy          string `json:"Cy"`
	LoanAmt     string `json:"LoanAmt"`
	DueDate     string `json:"DueDate"`
	RepayMode   string `json:"RepayMode"`
	RepayFreqcy string `json:"RepayFreqcy"` // 03: monthly
	RepayPrd    int    `json:"RepayPrd"`
	GuarMode    string `json:"GuarMode"`
	LoanForm    string `json:"LoanForm"` // 1: new loan
}

type pbocMonthly struct {
	Month           string `json:"Month"`
	SettDate        string `json:"SettDate"`
	AcctStatus      string `json:"AcctStatus"`
	AcctBal         string `json:"AcctBal"`
	RemRepPrd       int    `json:"RemRepPrd"`
	FiveCate        string `json:"FiveCate"`
	RpyStatus       string `json:"RpyStatus"`
	OverdPrd        int    `json:"OverdPrd"`
	TotOverd        string `json:"TotOverd"`
	OverdPrinc      string `json:"OverdPrinc"`
	Oved31_60Princ  string `json:"Oved31_60Princ"`
	Oved61_90Princ  string `json:"Oved61_90Princ"`
	Oved91_180Princ string `json:"Oved91_180Princ"`
	OvedPrinc180    string `json:"OvedPrinc180"`
	CurRpyAmt       string `json:"CurRpyAmt"`
	ActRpyAmt       string `json:"ActRpyAmt"`
	LatRpyDate      string `json:"LatRpyDate"`
	CloseDate       string `json:"CloseDate"`
}

type pbocRecord struct {
	Base    pbocBase    `json:"BsSgmt"`
	Basic   *pbocBasic  `json:"AcctBsInfSgmt,omitempty"`
	Monthly pbocMonthly `json:"AcctMthlyBlgInfSgmt"`
}

type pbocDelete struct {
	InfRecType   string `json:"InfRecType"`
	AcctCode     string `json:"AcctCode"`
	Month        string `json:"Month"`
	MngmtOrgCode string `json:"MngmtOrgCode"`
}

var repayModes = map[string]string{"equal_installment": "11", "equal_principal": "12", "interest_first": "13"}

func guarMode(collateral string) string {
	if collateral == "none" {
		return "4" // credit (no guarantee)
	}
	return "2" // mortgage
}

// rptDateCode: 10 opened, 20 closed, 30 monthly settlement.
func rptDateCode(a Account) string {
	switch {
	case a.OpenedInMonth:
		return "10"
	case a.AcctStatus == 3:
		return "20"
	}
	return "30"
}

func pboc(a Account, org, recType string) pbocRecord {
	r := pbocRecord{
		Base: pbocBase{InfRecType: recType, AcctType: "D1", AcctCode: org + a.LoanID, RptDate: a.MonthEnd,
			RptDateCode: rptDateCode(a), Name: a.Identity.Name, IDType: "10", IDNum: a.Identity.IDNumber, MngmtOrgCode: org},
		Monthly: pbocMonthly{Month: a.Month, SettDate: a.MonthEnd, AcctStatus: strconv.Itoa(a.AcctStatus), AcctBal: money(a.Balance),
			RemRepPrd: a.RemainingTerms, FiveCate: strconv.Itoa(a.FiveClass), RpyStatus: a.RpyStatus, OverdPrd: a.OverdueTerms,
			TotOverd: money(a.TotalOverdue), OverdPrinc: money(a.OverduePrincipal), Oved31_60Princ: money(a.Overdue31to60),
			Oved61_90Princ: money(a.Overdue61to90), Oved91_180Princ: money(a.Overdue91to180), OvedPrinc180: money(a.OverdueOver180),
			CurRpyAmt: money(a.DueInMonth), ActRpyAmt: money(a.PaidInMonth), LatRpyDate: a.LastPaid, CloseDate: a.CloseDate},
	}
	if a.OpenedInMonth && recType == "210" {
		r.Basic = &pbocBasic{BusiLines: "1", OpenDate: a.IssueDate, Cy: "CNY", LoanAmt: money(a.Principal), DueDate: a.LastDue,
			RepayMode: repayModes[a.RepayMethod], RepayFreqcy: "03", RepayPrd: a.TermMonths, GuarMode: guarMode(a.Collateral), LoanForm: "1"}
	}
	return r
}

// Baihang: loan records (opCode A for a loan issued in the month) and
// repayment records (one per term due or paid in the month).

type baihangLoan struct {
	ReqID               string `json:"reqID"`
	OpCode              string `json:"opCode"`
	Name                string `json:"name"`
	Pid                 string `json:"pid"`
	Mobile              string `json:"mobile"`
	LoanID              string `json:"loanId"`
	GuaranteeType       int    `json:"guaranteeType"` // 1 credit, 2 mortgage
	LoanPurpose         string `json:"loanPurpose"`
	ApplyDate           string `json:"applyDate"`
	AccountOpenDate     string `json:"accountOpenDate"`
	IssueDate           string `json:"issueDate"`
	DueDate             string `json:"dueDate"`
	LoanAmount          string `json:"loanAmount"`
	TotalTerm           int    `json:"totalTerm"`
	TargetRepayDateType int    `json:"targetRepayDateType"` // 1: a fixed day each month
	TermPeriod          int    `json:"termPeriod"`          // days per term (monthly: 30)
	FirstRepaymentDate  string `json:"firstRepaymentDate"`
}

type baihangRepay struct {
	ReqID               string `json:"reqID"`
	OpCode              string `json:"opCode"`
	LoanID              string `json:"loanId"`
	TermNo              int    `json:"termNo"`
	TermStatus          string `json:"termStatus"` // normal | overdue
	TargetRepaymentDate string `json:"targetRepaymentDate"`
	RealRepaymentDate   string `json:"realRepaymentDate"`
	PlannedPayment      string `json:"plannedPayment"`
	TargetRepayment     string `json:"targetRepayment"`
	RealRepayment       string `json:"realRepayment"`
	OverdueStatus       string `json:"overdueStatus"` // the term's code: N, 1..7
	StatusConfirmAt     string `json:"statusConfirmAt"`
	OverdueAmount       string `json:"overdueAmount"`
	RemainingAmount     string `json:"remainingAmount"`
	LoanStatus          int    `json:"loanStatus"` // 1 normal, 2 overdue, 3 settled, 4 written off
}

type baihangDelete struct {
	ReqID  string `json:"reqID"`
	OpCode string `json:"opCode"`
	LoanID string `json:"loanId"`
	Month  string `json:"month"`
}

func baihangLoanRec(a Account, op string) baihangLoan {
	g := 1
	if a.Collateral != "none" {
		g = 2
	}
	return baihangLoan{ReqID: a.Month + "-" + a.LoanID + "-L-" + op, OpCode: op, Name: a.Identity.Name, Pid: a.Identity.IDNumber,
		Mobile: a.Identity.Phone, LoanID: a.LoanID, GuaranteeType: g, LoanPurpose: a.Purpose, ApplyDate: a.ApplyDate,
		AccountOpenDate: a.IssueDate, IssueDate: a.IssueDate, DueDate: a.LastDue, LoanAmount: money(a.Principal),
		TotalTerm: a.TermMonths, TargetRepayDateType: 1, TermPeriod: 30, FirstRepaymentDate: a.FirstDue}
}

func baihangRepayRec(a Account, t Term, op string) baihangRepay {
	status, code := "normal", "N"
	if t.DaysOverdue > 0 {
		status, code = "overdue", RpyStatusForDPD(t.DaysOverdue, 1)
	}
	real := ""
	if t.PaidInMonth > 0 {
		real = t.LastPaid
	}
	return baihangRepay{ReqID: a.Month + "-" + a.LoanID + "-" + strconv.Itoa(t.No) + "-" + op, OpCode: op, LoanID: a.LoanID,
		TermNo: t.No, TermStatus: status, TargetRepaymentDate: t.DueDate, RealRepaymentDate: real,
		PlannedPayment: money(t.AmountDue), TargetRepayment: money(t.AmountDue), RealRepayment: money(t.PaidInMonth),
		OverdueStatus: code, StatusConfirmAt: a.MonthEnd, OverdueAmount: money(a.TotalOverdue), RemainingAmount: money(a.Balance),
		LoanStatus: a.AcctStatus}
}
