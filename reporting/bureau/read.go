package bureau

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"

	"qiandun/data/lake"
)

// Account is one account's record for the month: what month.sql computes
// (money in fen), its panel DPD for the validation and, once revealed,
// its identity.
type Account struct {
	LoanID, ApplicationID                  string
	IssueDate, ApplyDate                   string // YYYY-MM-DD
	Principal                              int64
	TermMonths                             int
	RepayMethod, Collateral, Purpose       string
	NameToken, IDToken, PhoneToken         string
	OpenedInMonth, WrittenOff              bool
	Month                                  string // YYYY-MM
	MonthEnd                               string
	AcctStatus                             int    // 1 normal, 2 overdue, 3 settled, 4 bad debt
	RpyStatus                              string // N, 1..7, *, C, Z, B
	OverdueDays                            int
	PanelDPD                               int // the panel's DPD at the month end; -1 without a panel row
	OverduePrincipal, TotalOverdue         int64
	Overdue31to60, Overdue61to90           int64
	Overdue91to180, OverdueOver180         int64
	Balance, PrincipalRepaid               int64
	RemainingTerms, OverdueTerms           int
	FiveClass                              int
	PaidInMonth, DueInMonth                int64
	LastPaid, CloseDate, LastDue, FirstDue string // "" when none
	Identity                               Identity
}

// Term is one installment due or paid in the month.
type Term struct {
	LoanID      string
	No          int
	DueDate     string
	AmountDue   int64
	PaidInMonth int64
	FullyPaid   bool
	LastPaid    string
	DaysOverdue int
}

// fen renders a DECIMAL(18,2) column as integer fen.
func fen(col string) string { return fmt.Sprintf("CAST(round(%s * 100) AS BIGINT)", col) }

func day(col string) string { return fmt.Sprintf("coalesce(strftime(%s, '%%Y-%%m-%%d'), '')", col) }

// readMonth runs month.sql and open.sql over the lake and returns the
// accounts, terms and the loan ids open at the month end.
func readMonth(ctx context.Context, o Options) ([]Account, []Term, []string, error) {
	lk := lake.New(o.Lake)
	db, err := lk.OpenDB(ctx, lake.DBOptions{MemoryLimit: o.MemoryLimit})
	if err != nil {
		return nil, nil, nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // temp tables live on one connection
	if err != nil {
		return nil, nil, nil, err
	}
	defer conn.Close()
	for _, t := range []string{"loans", "applications", "repayment_schedule", "repayments"} {
		scan, err := lk.Scan(t)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("bureau: %w", err)
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM %s", t, scan)); err != nil {
			return nil, nil, nil, fmt.Errorf("bureau: view %s: %w", t, err)
		}
	}
	panel := filepath.Join(o.Lake, "perf", "panel", "*.parquet")
	if m, _ := filepath.Glob(panel); len(m) == 0 {
		return nil, nil, nil, fmt.Errorf("bureau: lake %s has no performance panel (%s): run perf first", o.Lake, panel)
	}
	if _, err := conn.ExecContext(ctx, "CREATE VIEW panel AS SELECT * FROM read_parquet("+lake.Quote(panel)+")"); err != nil {
		return nil, nil, nil, fmt.Errorf("bureau: panel: %w", err)
	}
	start, end, _ := monthBounds(o.Month)
	var maxEnd sql.NullTime
	if err := conn.QueryRowContext(ctx, "SELECT max(month_end) FROM panel").Scan(&maxEnd); err != nil {
		return nil, nil, nil, fmt.Errorf("bureau: panel: %w", err)
	}
	if !maxEnd.Valid || maxEnd.Time.Before(end) {
		return nil, nil, nil, fmt.Errorf("bureau: the performance panel ends at %s, before the end of %s: run perf with --as-of %s or later",
			maxEnd.Time.Format("2006-01-02"), o.Month, end.Format("2006-01-02"))
	}
	f := o.Config.FiveClass
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(
		"CREATE TEMP TABLE bureau_params AS SELECT DATE '%s' AS month_start, DATE '%s' AS month_end, %d AS sm_from, %d AS sub_from, %d AS doubt_from, %d AS loss_from",
		start.Format("2006-01-02"), end.Format("2006-01-02"), f.SpecialMention, f.Substandard, f.Doubtful, f.Loss)); err != nil {
		return nil, nil, nil, fmt.Errorf("bureau: params: %w", err)
	}
	if _, err := conn.ExecContext(ctx, monthSQL); err != nil {
		return nil, nil, nil, fmt.Errorf("bureau: month.sql: %w", err)
	}
	accts, err := readAccounts(ctx, conn)
	if err != nil {
		return nil, nil, nil, err
	}
	terms, err := readTerms(ctx, conn)
	if err != nil {
		return nil, nil, nil, err
	}
	open, err := readOpen(ctx, conn)
	if err != nil {
		return nil, nil, nil, err
	}
	return accts, terms, open, nil
}

func readAccounts(ctx context.Context, conn *sql.Conn) ([]Account, error) {
	q := `SELECT loan_id, application_id, ` + day("issue_date") + `, ` + day("CAST(apply_time AS DATE)") + `, ` + fen("principal") + `,
	term_months, repay_method, collateral_type, coalesce(purpose, ''), coalesce(name_token, ''), coalesce(id_number_token, ''), coalesce(phone_token, ''),
	opened_in_month, written_off, month, ` + day("month_end") + `, acct_status, rpy_status, overdue_days, coalesce(panel_dpd, -1), ` +
		fen("overdue_principal") + `, ` + fen("total_overdue") + `, ` + fen("overdue_31_60") + `, ` + fen("overdue_61_90") + `, ` +
		fen("overdue_91_180") + `, ` + fen("overdue_180") + `, ` + fen("balance") + `, ` + fen("principal_repaid") + `,
	remaining_terms, overdue_terms, five_class, ` + fen("paid_in_month") + `, ` + fen("due_in_month") + `, ` +
		day("last_paid") + `, ` + day("close_date") + `, ` + day("last_due") + `, ` + day("first_due") + `
	FROM bureau_acct ORDER BY loan_id`
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("bureau: accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		if err := rows.Scan(&a.LoanID, &a.ApplicationID, &a.IssueDate, &a.ApplyDate, &a.Principal, &a.TermMonths, &a.RepayMethod,
			&a.Collateral, &a.Purpose, &a.NameToken, &a.IDToken, &a.PhoneToken, &a.OpenedInMonth, &a.WrittenOff, &a.Month,
			&a.MonthEnd, &a.AcctStatus, &a.RpyStatus, &a.OverdueDays, &a.PanelDPD, &a.OverduePrincipal, &a.TotalOverdue,
			&a.Overdue31to60, &a.Overdue61to90, &a.Overdue91to180, &a.OverdueOver180, &a.Balance, &a.PrincipalRepaid,
			&a.RemainingTerms, &a.OverdueTerms, &a.FiveClass, &a.PaidInMonth, &a.DueInMonth, &a.LastPaid, &a.CloseDate,
			&a.LastDue, &a.FirstDue); err != nil {
			return nil, fmt.Errorf("bureau: accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func readTerms(ctx context.Context, conn *sql.Conn) ([]Term, error) {
	rows, err := conn.QueryContext(ctx, `SELECT loan_id, installment_no, `+day("due_date")+`, `+fen("amount_due")+`, `+fen("paid_month")+
		`, fully_paid, `+day("last_d")+`, days_overdue FROM bureau_terms ORDER BY loan_id, installment_no`)
	if err != nil {
		return nil, fmt.Errorf("bureau: terms: %w", err)
	}
	defer rows.Close()
	var out []Term
	for rows.Next() {
		var t Term
		if err := rows.Scan(&t.LoanID, &t.No, &t.DueDate, &t.AmountDue, &t.PaidInMonth, &t.FullyPaid, &t.LastPaid, &t.DaysOverdue); err != nil {
			return nil, fmt.Errorf("bureau: terms: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func readOpen(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, openSQL)
	if err != nil {
		return nil, fmt.Errorf("bureau: open.sql: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
