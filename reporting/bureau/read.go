package bureau

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

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

// month is a month's accounts, terms and open loan ids, computed once by
// month.sql and open.sql into temporary tables of one DuckDB connection
// and read a range of loan ids at a time, so that the Go side holds one
// range, never the month.
type month struct {
	db   *sql.DB
	conn *sql.Conn
}

// partLoans is how many loans month.sql works on at a time
// (Options.part overrides it in tests). Its joins and aggregations hold
// a part's repayments and schedule, which at 10 million loans spilled
// and cost 18 times the time of 1 million; the lake's tables are written
// in loan id order, so a part's range of loan ids reads only its own
// row groups.
const partLoans = 1_000_000

// openMonth runs month.sql and open.sql over the lake, a range of loan
// ids at a time (partLoans loans), appending each range's accounts, terms
// and open loan ids, sorted, to the temporary tables month_acct,
// month_terms and month_open.
func openMonth(ctx context.Context, o Options) (_ *month, err error) {
	log := cmp.Or(o.Log, slog.New(slog.DiscardHandler))
	lk := lake.New(o.Lake)
	db, err := lk.OpenDB(ctx, lake.DBOptions{MemoryLimit: o.MemoryLimit})
	if err != nil {
		return nil, err
	}
	m := &month{db: db}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if m.conn, err = db.Conn(ctx); err != nil { // temp tables live on one connection
		return nil, err
	}
	conn := m.conn
	exec := func(what, q string) error {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("bureau: %s: %w", what, err)
		}
		return nil
	}
	// the lake's tables by loan id (month.sql reads them through views
	// of one range at a time) and applications (joined by its id)
	scans := map[string]string{}
	for _, t := range []string{"loans", "applications", "repayment_schedule", "repayments"} {
		if scans[t], err = lk.Scan(t); err != nil {
			return nil, fmt.Errorf("bureau: %w", err)
		}
	}
	panel := filepath.Join(o.Lake, "perf", "panel", "*.parquet")
	if files, _ := filepath.Glob(panel); len(files) == 0 {
		return nil, fmt.Errorf("bureau: lake %s has no performance panel (%s): run perf first", o.Lake, panel)
	}
	scans["panel"] = "read_parquet(" + lake.Quote(panel) + ")"
	if err := exec("view applications", "CREATE TEMP VIEW applications AS SELECT * FROM "+scans["applications"]); err != nil {
		return nil, err
	}
	start, end, _ := monthBounds(o.Month)
	var maxEnd sql.NullTime
	if err := conn.QueryRowContext(ctx, "SELECT max(month_end) FROM "+scans["panel"]).Scan(&maxEnd); err != nil {
		return nil, fmt.Errorf("bureau: panel: %w", err)
	}
	if !maxEnd.Valid || maxEnd.Time.Before(end) {
		return nil, fmt.Errorf("bureau: the performance panel ends at %s, before the end of %s: run perf with --as-of %s or later",
			maxEnd.Time.Format("2006-01-02"), o.Month, end.Format("2006-01-02"))
	}
	f := o.Config.FiveClass
	if err := exec("params", fmt.Sprintf(
		"CREATE TEMP TABLE bureau_params AS SELECT DATE '%s' AS month_start, DATE '%s' AS month_end, %d AS sm_from, %d AS sub_from, %d AS doubt_from, %d AS loss_from",
		start.Format("2006-01-02"), end.Format("2006-01-02"), f.SpecialMention, f.Substandard, f.Doubtful, f.Loss)); err != nil {
		return nil, err
	}
	parts, err := cuts(ctx, conn, scans["loans"], cmp.Or(o.part, partLoans))
	if err != nil {
		return nil, err
	}
	for i, p := range parts {
		for _, t := range []string{"loans", "repayment_schedule", "repayments", "panel"} {
			if err := exec("view "+t, fmt.Sprintf("CREATE OR REPLACE TEMP VIEW %s AS SELECT * FROM %s WHERE %s", t, scans[t], p.where())); err != nil {
				return nil, err
			}
		}
		if err := exec("month.sql", monthSQL); err != nil {
			return nil, err
		}
		if err := exec("open.sql", "CREATE OR REPLACE TEMP TABLE bureau_open AS "+openSQL); err != nil {
			return nil, err
		}
		for _, t := range [][2]string{{"acct", "loan_id"}, {"terms", "loan_id, installment_no"}, {"open", "loan_id"}} {
			q := fmt.Sprintf("INSERT INTO month_%s SELECT * FROM bureau_%s ORDER BY %s", t[0], t[0], t[1])
			if i == 0 {
				q = fmt.Sprintf("CREATE TEMP TABLE month_%s AS SELECT * FROM bureau_%s ORDER BY %s", t[0], t[0], t[1])
			}
			if err := exec("month_"+t[0], q); err != nil {
				return nil, err
			}
		}
		if err := exec("drop month.sql's working tables", "DROP TABLE bureau_ev; DROP TABLE bureau_cand; DROP TABLE bureau_paid; "+
			"DROP TABLE bureau_loan; DROP TABLE bureau_acct; DROP TABLE bureau_terms; DROP TABLE bureau_open"); err != nil {
			return nil, err
		}
		log.Debug("bureau step", "step", "month.sql", "part", i+1, "parts", len(parts))
	}
	return m, nil
}

// cuts cuts the loan ids of table (or scan) into ranges of size rows
// (more when a loan id has several rows, all in one range): one unbounded
// range for at most size rows.
func cuts(ctx context.Context, conn *sql.Conn, table string, size int) ([]span, error) {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT DISTINCT loan_id FROM (
		SELECT loan_id, row_number() OVER (ORDER BY loan_id) - 1 AS i FROM %s
	) WHERE i > 0 AND i %% %d = 0 ORDER BY loan_id`, table, size))
	if err != nil {
		return nil, fmt.Errorf("bureau: loan id ranges: %w", err)
	}
	defer rows.Close()
	out := []span{{}}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("bureau: loan id ranges: %w", err)
		}
		out[len(out)-1].hi = id
		out = append(out, span{lo: id})
	}
	return out, rows.Err()
}

// Close closes the month's DuckDB.
func (m *month) Close() error {
	if m.conn != nil {
		m.conn.Close()
	}
	return m.db.Close()
}

// span is a range of loan ids: lo <= loan_id < hi, without an upper
// bound when hi is "".
type span struct{ lo, hi string }

func (s span) where() string {
	w := "loan_id >= " + lake.Quote(s.lo)
	if s.hi != "" {
		w += " AND loan_id < " + lake.Quote(s.hi)
	}
	return w
}

// spans cuts the loan ids into ranges of size accounts each (more when a
// loan id has several, all in one range), which together hold every
// account, term and open loan id: the first range has no lower bound, the
// last no upper one. It also returns the number of accounts.
func (m *month) spans(ctx context.Context, size int) ([]span, int, error) {
	var n int
	if err := m.conn.QueryRowContext(ctx, "SELECT count(*) FROM month_acct").Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("bureau: accounts: %w", err)
	}
	out, err := cuts(ctx, m.conn, "month_acct", size)
	return out, n, err
}

// chunk is one range's accounts, terms and loan ids open at the month
// end, each in loan id order.
type chunk struct {
	accts []Account
	terms []Term
	open  []string
}

// read reads range s into c, reusing its arrays.
func (m *month) read(ctx context.Context, s span, c *chunk) error {
	var err error
	if c.accts, err = readAccounts(ctx, m.conn, s, c.accts[:0]); err != nil {
		return err
	}
	if c.terms, err = readTerms(ctx, m.conn, s, c.terms[:0]); err != nil {
		return err
	}
	c.open, err = readOpen(ctx, m.conn, s, c.open[:0])
	return err
}

// accountsQuery reads month_acct (a WHERE clause and the order follow):
// money in fen, dates as YYYY-MM-DD ("" for none), the columns in the
// order readAccounts fills them.
var accountsQuery = `SELECT loan_id, application_id, ` + day("issue_date") + `, ` + day("CAST(apply_time AS DATE)") + `, ` + fen("principal") + `,
	term_months, repay_method, collateral_type, coalesce(purpose, ''), coalesce(name_token, ''), coalesce(id_number_token, ''), coalesce(phone_token, ''),
	opened_in_month, written_off, month, ` + day("month_end") + `, acct_status, rpy_status, overdue_days, coalesce(panel_dpd, -1), ` +
	fen("overdue_principal") + `, ` + fen("total_overdue") + `, ` + fen("overdue_31_60") + `, ` + fen("overdue_61_90") + `, ` +
	fen("overdue_91_180") + `, ` + fen("overdue_180") + `, ` + fen("balance") + `, ` + fen("principal_repaid") + `,
	remaining_terms, overdue_terms, five_class, ` + fen("paid_in_month") + `, ` + fen("due_in_month") + `, ` +
	day("last_paid") + `, ` + day("close_date") + `, ` + day("last_due") + `, ` + day("first_due") + `
	FROM month_acct`

// interner copies the few distinct values of a text column (codes,
// dates) out of Arrow's buffers once each; unique values (ids, tokens)
// are cloned.
type interner map[string]string

func (m interner) get(s string) string {
	if v, ok := m[s]; ok {
		return v
	}
	v := strings.Clone(s)
	m[v] = v
	return v
}

// readAccounts appends the accounts of range s to out, in loan_id order.
func readAccounts(ctx context.Context, conn *sql.Conn, s span, out []Account) ([]Account, error) {
	in := interner{}
	err := scanArrow(ctx, conn, "accounts", accountsQuery+" WHERE "+s.where()+" ORDER BY loan_id", func(b batch) error {
		var txt [37]texts
		var num [37][]int64
		var flag [37]*array.Boolean
		var err error
		for _, i := range []int{0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 14, 15, 17, 33, 34, 35, 36} {
			if txt[i], err = b.str(i); err != nil {
				return err
			}
		}
		for _, i := range []int{4, 5, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32} {
			if num[i], err = b.ints(i); err != nil {
				return err
			}
		}
		for _, i := range []int{12, 13} {
			if flag[i], err = b.bools(i); err != nil {
				return err
			}
		}
		for r := range b.rows() {
			t := func(i int) string { return in.get(txt[i].Value(r)) }
			u := func(i int) string { return strings.Clone(txt[i].Value(r)) }
			n := func(i int) int64 { return num[i][r] }
			out = append(out, Account{LoanID: u(0), ApplicationID: u(1), IssueDate: t(2), ApplyDate: t(3), Principal: n(4),
				TermMonths: int(n(5)), RepayMethod: t(6), Collateral: t(7), Purpose: t(8), NameToken: u(9), IDToken: u(10),
				PhoneToken: u(11), OpenedInMonth: flag[12].Value(r), WrittenOff: flag[13].Value(r), Month: t(14), MonthEnd: t(15),
				AcctStatus: int(n(16)), RpyStatus: t(17), OverdueDays: int(n(18)), PanelDPD: int(n(19)), OverduePrincipal: n(20),
				TotalOverdue: n(21), Overdue31to60: n(22), Overdue61to90: n(23), Overdue91to180: n(24), OverdueOver180: n(25),
				Balance: n(26), PrincipalRepaid: n(27), RemainingTerms: int(n(28)), OverdueTerms: int(n(29)), FiveClass: int(n(30)),
				PaidInMonth: n(31), DueInMonth: n(32), LastPaid: t(33), CloseDate: t(34), LastDue: t(35), FirstDue: t(36)})
		}
		return nil
	})
	return out, err
}

// readTerms appends the terms of range s to out, in loan_id and
// installment order.
func readTerms(ctx context.Context, conn *sql.Conn, s span, out []Term) ([]Term, error) {
	q := `SELECT loan_id, installment_no, ` + day("due_date") + `, ` + fen("amount_due") + `, ` + fen("paid_month") +
		`, fully_paid, ` + day("last_d") + `, days_overdue FROM month_terms WHERE ` + s.where() + ` ORDER BY loan_id, installment_no`
	in := interner{}
	err := scanArrow(ctx, conn, "terms", q, func(b batch) error {
		var txt [8]texts
		var num [8][]int64
		var err error
		for _, i := range []int{0, 2, 6} {
			if txt[i], err = b.str(i); err != nil {
				return err
			}
		}
		for _, i := range []int{1, 3, 4, 7} {
			if num[i], err = b.ints(i); err != nil {
				return err
			}
		}
		full, err := b.bools(5)
		if err != nil {
			return err
		}
		id := ""
		for r := range b.rows() {
			if v := txt[0].Value(r); v != id {
				id = strings.Clone(v) // a loan's terms share its id
			}
			out = append(out, Term{LoanID: id, No: int(num[1][r]), DueDate: in.get(txt[2].Value(r)), AmountDue: num[3][r],
				PaidInMonth: num[4][r], FullyPaid: full.Value(r), LastPaid: in.get(txt[6].Value(r)), DaysOverdue: int(num[7][r])})
		}
		return nil
	})
	return out, err
}

// readOpen appends the loan ids of range s open at the month end
// (open.sql) to out, sorted.
func readOpen(ctx context.Context, conn *sql.Conn, s span, out []string) ([]string, error) {
	err := scanArrow(ctx, conn, "open.sql", "SELECT loan_id FROM month_open WHERE "+s.where()+" ORDER BY loan_id", func(b batch) error {
		ids, err := b.str(0)
		if err != nil {
			return err
		}
		for r := range b.rows() {
			out = append(out, strings.Clone(ids.Value(r)))
		}
		return nil
	})
	return out, err
}
