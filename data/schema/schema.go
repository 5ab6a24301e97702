// Package schema is the input contract of qiandun: the nine raw exports
// of the loan system and its custodian bank, their columns and types, the enum vocabularies with
// the Chinese words that mean the same, and the reasons a row can be
// rejected for. The generator writes exactly these columns; ingestion
// validates against them and writes the typed lake tables they describe.
package schema

// Kind is the logical type of a raw column.
type Kind int

const (
	String    Kind = iota // free text, trimmed
	ID                    // identifier, non-empty
	Enum                  // one of Column.Enum (after Chinese aliases are mapped)
	Date                  // calendar date, Beijing local; forms 2018-05-01, 2018/5/1, 20180501
	Timestamp             // local Beijing date and time
	Money                 // CNY, two decimals, DECIMAL(18,2) in the lake; "1,000.00" tolerated
	Int                   // integer
	Rate                  // a rate or ratio, DECIMAL(9,6) in the lake
	PII                   // personal data: tokenised by ingestion, never in clear in the lake
)

// Column is one column of a raw export.
type Column struct {
	Name     string
	Kind     Kind
	Enum     []string // allowed values for Enum
	Nullable bool     // an empty value is allowed (NULL in the lake)
	NonNeg   bool     // money or numbers that must not be negative
}

// Table is one raw export.
type Table struct {
	Name    string
	Columns []Column
	// Key is the set of columns that identify a row; empty means the whole
	// row is the identity (exact duplicates are rejected as duplicates).
	Key []string
	// Parents are referential-integrity checks: the columns of this table
	// that must match the key of another table.
	Parents []Ref
	// SortBy is the lake sort order.
	SortBy []string
	// RangeBy are the leading columns of SortBy (ID or string columns,
	// never empty) on whose ranges ingest splits a write too large to
	// sort in one piece; empty means SortBy's first column.
	RangeBy []string
}

// RangeColumns returns t.RangeBy, or SortBy's first column.
func (t Table) RangeColumns() []string {
	if len(t.RangeBy) > 0 {
		return t.RangeBy
	}
	return t.SortBy[:1]
}

// Ref says that Columns of a table must exist as the key of Table.
type Ref struct {
	Columns []string
	Table   string
}

// Column returns the named column and whether it exists.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Names returns the column names in contract order.
func (t Table) Names() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// Enumerations of the input contract.
var (
	Decisions        = []string{"approved", "rejected"}
	LoanStatuses     = []string{"active", "settled", "written_off"}
	RepayMethods     = []string{"equal_installment", "equal_principal", "interest_first"}
	CollateralTypes  = []string{"none", "car", "house"}
	InstitutionTypes = []string{"bank", "consumer_finance", "p2p", "microloan"}
	InquiryReasons   = []string{"loan_approval", "post_loan", "guarantee"}
	Channels         = []string{"sms", "call", "field", "legal"}
	Outcomes         = []string{"promise_to_pay", "no_answer", "wrong_number", "lost_contact", "contact_repaired", "paid"}
	Genders          = []string{"male", "female"}
	// Custody (the custodian bank's statement export).
	OwnerTypes = []string{"borrower", "lender", "platform", "guarantor"}
	Directions = []string{"in", "out"}
	TxnTypes   = []string{"recharge", "withdrawal", "disbursement", "repayment", "investment", "fee",
		"compensation", "migration_in", "migration_out"}
	// BureauStatusCodes is the repayment-status code set of the credit
	// bureaus (PBOC second generation and Baihang): N normal; 1..7
	// overdue 1-30, 31-60, 61-90, 91-120, 121-150, 151-180, over 180
	// days; * no payment due this month; # unknown; / not yet open; A
	// paid by others; B bad debt; C settled; D paid by guarantor; G
	// ended otherwise (transferred); M amount due unclear; Z settled by
	// asset. Bureau exports carry these codes as sent.
	BureauStatusCodes = []string{"N", "1", "2", "3", "4", "5", "6", "7", "*", "#", "/", "A", "B", "C", "D", "G", "M", "Z"}
)

// OverdueBand returns the overdue band a bureau repayment-status code
// stands for: 0 for N (normal), 1..7 for the overdue codes 1..7, and
// false for every other code (no payment due, unknown, not open, settled,
// bad debt, ...: not a band of days overdue).
func OverdueBand(code string) (int, bool) {
	switch {
	case code == "N":
		return 0, true
	case len(code) == 1 && code[0] >= '1' && code[0] <= '7':
		return int(code[0] - '0'), true
	}
	return 0, false
}

// ChineseAliases maps the Chinese words real exports use to the contract's
// English enum values. They mean the same and are normalised on ingestion.
func ChineseAliases() map[string]string {
	return map[string]string{
		"通过": "approved", "拒绝": "rejected",
		"正常": "active", "结清": "settled", "核销": "written_off",
		"等额本息": "equal_installment", "等额本金": "equal_principal", "先息后本": "interest_first",
		"无": "none", "车": "car", "房": "house",
		"银行": "bank", "消费金融": "consumer_finance", "P2P": "p2p", "小贷": "microloan",
		"贷款审批": "loan_approval", "贷后管理": "post_loan", "担保资格审查": "guarantee",
		"短信": "sms", "电话": "call", "外访": "field", "法务": "legal",
		"承诺还款": "promise_to_pay", "无人接听": "no_answer", "号码错误": "wrong_number",
		"失联": "lost_contact", "失联修复": "contact_repaired", "已还款": "paid",
		"男": "male", "女": "female",
		"借款人": "borrower", "出借人": "lender", "平台": "platform", "担保方": "guarantor",
		"收入": "in", "支出": "out",
		"充值": "recharge", "提现": "withdrawal", "放款": "disbursement", "还款": "repayment",
		"出借": "investment", "手续费": "fee", "代偿": "compensation", "迁入": "migration_in", "迁出": "migration_out",
	}
}

// Tables returns the nine raw exports of the input contract, parents
// before children: the seven of the loan system, then the P2P
// investments and the custodian bank's statement (CustodyTables).
func Tables() []Table {
	return append(loanTables(), CustodyTables()...)
}

func loanTables() []Table {
	return []Table{
		{
			Name: "applications",
			Columns: []Column{
				{Name: "application_id", Kind: ID},
				{Name: "borrower_id", Kind: ID},
				{Name: "apply_time", Kind: Timestamp},
				{Name: "product", Kind: String},
				{Name: "channel", Kind: String},
				{Name: "requested_amount", Kind: Money, NonNeg: true},
				{Name: "term_months", Kind: Int, NonNeg: true},
				{Name: "id_number", Kind: PII},
				{Name: "name", Kind: PII},
				{Name: "phone", Kind: PII},
				{Name: "gender", Kind: Enum, Enum: Genders, Nullable: true},
				{Name: "education", Kind: String, Nullable: true},
				{Name: "marital_status", Kind: String, Nullable: true},
				{Name: "monthly_income", Kind: Money, NonNeg: true, Nullable: true},
				{Name: "employment_years", Kind: Rate, NonNeg: true, Nullable: true},
				{Name: "city", Kind: String, Nullable: true},
				{Name: "device_id", Kind: PII, Nullable: true},
				{Name: "ip", Kind: PII, Nullable: true},
				{Name: "decision", Kind: Enum, Enum: Decisions},
			},
			Key:    []string{"application_id"},
			SortBy: []string{"application_id"},
		},
		{
			Name: "loans",
			Columns: []Column{
				{Name: "loan_id", Kind: ID},
				{Name: "application_id", Kind: ID},
				{Name: "borrower_id", Kind: ID},
				{Name: "product", Kind: String},
				{Name: "issue_date", Kind: Date},
				{Name: "principal", Kind: Money, NonNeg: true},
				{Name: "annual_rate", Kind: Rate, NonNeg: true},
				{Name: "term_months", Kind: Int, NonNeg: true},
				{Name: "repay_method", Kind: Enum, Enum: RepayMethods},
				{Name: "purpose", Kind: String, Nullable: true},
				{Name: "collateral_type", Kind: Enum, Enum: CollateralTypes},
				{Name: "collateral_value", Kind: Money, NonNeg: true, Nullable: true},
				{Name: "region", Kind: String, Nullable: true},
				{Name: "status", Kind: Enum, Enum: LoanStatuses},
			},
			Key:     []string{"loan_id"},
			Parents: []Ref{{Columns: []string{"application_id"}, Table: "applications"}},
			SortBy:  []string{"loan_id"},
		},
		{
			Name: "repayment_schedule",
			Columns: []Column{
				{Name: "loan_id", Kind: ID},
				{Name: "installment_no", Kind: Int, NonNeg: true},
				{Name: "due_date", Kind: Date},
				{Name: "principal_due", Kind: Money, NonNeg: true},
				{Name: "interest_due", Kind: Money, NonNeg: true},
			},
			Key:     []string{"loan_id", "installment_no"},
			Parents: []Ref{{Columns: []string{"loan_id"}, Table: "loans"}},
			SortBy:  []string{"loan_id", "installment_no"},
		},
		{
			Name: "repayments",
			Columns: []Column{
				{Name: "txn_id", Kind: ID},
				{Name: "loan_id", Kind: ID},
				{Name: "installment_no", Kind: Int, NonNeg: true},
				{Name: "paid_at", Kind: Timestamp},
				{Name: "principal_paid", Kind: Money, NonNeg: true},
				{Name: "interest_paid", Kind: Money, NonNeg: true},
				{Name: "penalty_paid", Kind: Money, NonNeg: true},
			},
			Key:     []string{"txn_id"},
			Parents: []Ref{{Columns: []string{"loan_id"}, Table: "loans"}},
			SortBy:  []string{"loan_id", "paid_at", "txn_id"},
		},
		{
			Name: "bureau_inquiries",
			Columns: []Column{
				{Name: "borrower_id", Kind: ID},
				{Name: "query_date", Kind: Date},
				{Name: "institution_type", Kind: Enum, Enum: InstitutionTypes},
				{Name: "reason", Kind: Enum, Enum: InquiryReasons},
			},
			SortBy: []string{"borrower_id", "query_date"},
		},
		{
			Name: "bureau_reports",
			Columns: []Column{
				{Name: "borrower_id", Kind: ID},
				{Name: "report_date", Kind: Date},
				{Name: "open_accounts", Kind: Int, NonNeg: true},
				{Name: "total_outstanding", Kind: Money, NonNeg: true},
				{Name: "overdue_accounts", Kind: Int, NonNeg: true},
				// worst_status_24m: worst repayment status in the last 24
				// months, the bureau's code as sent (BureauStatusCodes);
				// an unknown code is quarantined as bad_enum. The lake
				// adds worst_overdue_band derived from it (OverdueBand).
				{Name: "worst_status_24m", Kind: Enum, Enum: BureauStatusCodes},
			},
			Key:    []string{"borrower_id", "report_date"},
			SortBy: []string{"borrower_id", "report_date"},
		},
		{
			Name: "collection_events",
			Columns: []Column{
				{Name: "loan_id", Kind: ID},
				{Name: "event_time", Kind: Timestamp},
				{Name: "channel", Kind: Enum, Enum: Channels},
				{Name: "outcome", Kind: Enum, Enum: Outcomes},
			},
			Parents: []Ref{{Columns: []string{"loan_id"}, Table: "loans"}},
			SortBy:  []string{"loan_id", "event_time"},
		},
	}
}

// CustodyTables returns the two exports of the P2P side of the book:
// investments (lenders funding loans, lender PII tokenised like
// borrowers') and custody_transactions (the custodian bank's statement
// lines: every flow of a loan passes through custody sub-accounts, and a
// custody migration moves every sub-account's balance from the old bank
// to the new one on one day).
func CustodyTables() []Table {
	return []Table{
		{
			Name: "investments",
			Columns: []Column{
				{Name: "investment_id", Kind: ID},
				{Name: "lender_id", Kind: ID},
				{Name: "loan_id", Kind: ID},
				{Name: "invest_time", Kind: Timestamp},
				{Name: "amount", Kind: Money, NonNeg: true},
				{Name: "lender_id_number", Kind: PII},
				{Name: "lender_name", Kind: PII},
				{Name: "lender_phone", Kind: PII},
			},
			Key:     []string{"investment_id"},
			Parents: []Ref{{Columns: []string{"loan_id"}, Table: "loans"}},
			SortBy:  []string{"loan_id", "investment_id"},
		},
		{
			Name: "custody_transactions",
			Columns: []Column{
				{Name: "bank_txn_id", Kind: ID},
				{Name: "bank", Kind: String},
				{Name: "sub_account", Kind: ID},
				{Name: "owner_type", Kind: Enum, Enum: OwnerTypes},
				{Name: "owner_id", Kind: ID},
				{Name: "txn_time", Kind: Timestamp},
				{Name: "direction", Kind: Enum, Enum: Directions},
				{Name: "amount", Kind: Money, NonNeg: true},
				{Name: "txn_type", Kind: Enum, Enum: TxnTypes},
				// loan_id: empty for flows of no loan (recharges,
				// withdrawals, migration); not checked against loans
				// (a bank line of an unknown loan is a reconciliation
				// break, not a row to reject).
				{Name: "loan_id", Kind: String, Nullable: true},
				// reference: the platform's txn_id, investment_id or
				// loan_id (disbursement) where the platform initiated
				// the flow; empty otherwise.
				{Name: "reference", Kind: String, Nullable: true},
				// balance_after: may be negative only in a broken
				// statement; reconciliation checks the chain.
				{Name: "balance_after", Kind: Money},
			},
			Key:    []string{"bank_txn_id"},
			SortBy: []string{"bank", "sub_account", "txn_time", "bank_txn_id"},
			// Two banks: a large statement is split by sub-account too.
			RangeBy: []string{"bank", "sub_account"},
		},
	}
}

// Lookup returns the table of the input contract with the given name.
func Lookup(name string) (Table, bool) {
	for _, t := range Tables() {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}
