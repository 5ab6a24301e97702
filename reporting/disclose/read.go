package disclose

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"qiandun/data/lake"
)

// Metric is one operating-data metric as of the month end.
type Metric struct {
	Name       string
	Value      string // formatted by unit: CNY 2 decimals, counts whole, ratios 6 decimals ("" when undefined)
	Unit       string
	Definition string
}

// projectRow is one row of projects.sql (tokens still in it).
type projectRow struct {
	LoanID, IssueDate                     string
	NameToken, IDToken, PhoneToken        string
	AgeBand, Gender, Region, IncomeBand   string
	ReportDate                            string
	OpenAccounts                          int
	DebtFen                               int64
	OverdueAccounts                       int
	WorstStatus                           string
	Reports6m, OverdueReports6m           int
	InqP2P, InqMicro                      int
	Purpose                               string
	PrincipalFen                          int64
	TermMonths                            int
	AnnualRate, RepayMethod, Collateral   string
	CollateralFen                         int64
	Lenders                               int
	FundedFen                             int64
	StatusAsOf, Status                    string
	DPD, InstDue, InstPaid                int
	RepaidFen, OutstandingFen, OverdueFen int64
}

// flowRow is one custody disbursement line of flows.sql.
type flowRow struct {
	LoanID, Date, Bank, SubAccount string
	AmountFen                      int64
}

// monthData is what the lake says of one month.
type monthData struct {
	MonthEnd, DataEnd string
	Metrics           []Metric
	Projects          []projectRow
	Flows             map[string][]flowRow
}

// tables are the lake tables disclose reads.
var tables = []string{"loans", "applications", "repayment_schedule", "repayments", "bureau_reports",
	"bureau_inquiries", "investments", "custody_transactions"}

// read runs the SQL files over the lake for o.Month.
func read(ctx context.Context, o Options) (*monthData, error) {
	lk := lake.New(o.Lake)
	db, err := lk.OpenDB(ctx, lake.DBOptions{MemoryLimit: o.MemoryLimit, Threads: o.Threads})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // temp tables live on one connection
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := views(ctx, conn, lk, o); err != nil {
		return nil, err
	}
	d := &monthData{Flows: map[string][]flowRow{}}
	if err := conn.QueryRowContext(ctx, `SELECT strftime(month_end, '%Y-%m-%d'), strftime(data_end, '%Y-%m-%d') FROM disclose_params`).Scan(&d.MonthEnd, &d.DataEnd); err != nil {
		return nil, fmt.Errorf("disclose: params: %w", err)
	}
	t := time.Now()
	if d.Metrics, err = readMetrics(ctx, conn); err != nil {
		return nil, err
	}
	o.Log.Debug("disclose step", "step", "operating.sql", "seconds", time.Since(t).Seconds())
	t = time.Now()
	if d.Projects, err = readProjects(ctx, conn); err != nil {
		return nil, err
	}
	o.Log.Debug("disclose step", "step", "projects.sql", "projects", len(d.Projects), "seconds", time.Since(t).Seconds())
	t = time.Now()
	if err := readFlows(ctx, conn, d.Flows); err != nil {
		return nil, err
	}
	o.Log.Debug("disclose step", "step", "flows.sql", "seconds", time.Since(t).Seconds())
	return d, nil
}

// views creates a view per lake table and the panel, the params table
// (refusing a month the panel does not reach) and the related-party
// register.
func views(ctx context.Context, conn *sql.Conn, lk lake.Lake, o Options) error {
	for _, t := range tables {
		scan, err := lk.Scan(t)
		if err != nil {
			return fmt.Errorf("disclose: %w", err)
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM %s", t, scan)); err != nil {
			return fmt.Errorf("disclose: view %s: %w", t, err)
		}
	}
	panel := filepath.Join(lk.Root, "perf", "panel", "*.parquet")
	if m, _ := filepath.Glob(panel); len(m) == 0 {
		return fmt.Errorf("disclose: lake %s has no performance panel (%s): run perf first", lk.Root, panel)
	}
	if _, err := conn.ExecContext(ctx, "CREATE VIEW panel AS SELECT * FROM read_parquet("+lake.Quote(panel)+")"); err != nil {
		return fmt.Errorf("disclose: panel: %w", err)
	}
	start, end, _ := monthBounds(o.Month)
	var maxEnd sql.NullTime
	if err := conn.QueryRowContext(ctx, "SELECT max(month_end) FROM panel").Scan(&maxEnd); err != nil {
		return fmt.Errorf("disclose: panel: %w", err)
	}
	if !maxEnd.Valid || maxEnd.Time.Before(end) {
		return fmt.Errorf("disclose: the performance panel ends at %s, before the end of %s: run perf with --as-of %s or later",
			maxEnd.Time.Format("2006-01-02"), o.Month, end.Format("2006-01-02"))
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(
		"CREATE TEMP TABLE disclose_params AS SELECT DATE '%s' AS month_start, DATE '%s' AS month_end, DATE '%s' AS data_end",
		start.Format("2006-01-02"), end.Format("2006-01-02"), maxEnd.Time.Format("2006-01-02"))); err != nil {
		return fmt.Errorf("disclose: params: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE related_parties (borrower_id VARCHAR)"); err != nil {
		return fmt.Errorf("disclose: related parties: %w", err)
	}
	for _, id := range o.Config.RelatedParties {
		if _, err := conn.ExecContext(ctx, "INSERT INTO related_parties VALUES (?)", id); err != nil {
			return fmt.Errorf("disclose: related parties: %w", err)
		}
	}
	return nil
}

func readMetrics(ctx context.Context, conn *sql.Conn) ([]Metric, error) {
	rows, err := conn.QueryContext(ctx, operatingSQL)
	if err != nil {
		return nil, fmt.Errorf("disclose: operating.sql: %w", err)
	}
	defer rows.Close()
	var out []Metric
	for rows.Next() {
		var m Metric
		var ord int
		var v sql.NullString
		if err := rows.Scan(&ord, &m.Name, &v, &m.Unit, &m.Definition); err != nil {
			return nil, fmt.Errorf("disclose: operating.sql: %w", err)
		}
		m.Value = formatValue(v.String, m.Unit)
		out = append(out, m)
	}
	return out, rows.Err()
}

// formatValue writes a DECIMAL(24,6) value by its unit: money with 2
// decimals, counts whole, ratios with 6 ("" for a NULL ratio, e.g. an
// empty book). The digits dropped are zeros (money sums of DECIMAL(18,2),
// integer counts), so no rounding happens.
func formatValue(v, unit string) string {
	if v == "" {
		return ""
	}
	dot := strings.IndexByte(v, '.')
	switch {
	case dot < 0 || unit == "ratio":
		return v
	case unit == "CNY":
		return v[:min(len(v), dot+3)]
	default:
		return v[:dot]
	}
}

func readProjects(ctx context.Context, conn *sql.Conn) ([]projectRow, error) {
	rows, err := conn.QueryContext(ctx, projectsSQL)
	if err != nil {
		return nil, fmt.Errorf("disclose: projects.sql: %w", err)
	}
	defer rows.Close()
	var out []projectRow
	for rows.Next() {
		var r projectRow
		if err := rows.Scan(&r.LoanID, &r.IssueDate, &r.NameToken, &r.IDToken, &r.PhoneToken, &r.AgeBand, &r.Gender,
			&r.Region, &r.IncomeBand, &r.ReportDate, &r.OpenAccounts, &r.DebtFen, &r.OverdueAccounts, &r.WorstStatus,
			&r.Reports6m, &r.OverdueReports6m, &r.InqP2P, &r.InqMicro, &r.Purpose, &r.PrincipalFen, &r.TermMonths,
			&r.AnnualRate, &r.RepayMethod, &r.Collateral, &r.CollateralFen, &r.Lenders, &r.FundedFen, &r.StatusAsOf,
			&r.Status, &r.DPD, &r.InstDue, &r.InstPaid, &r.RepaidFen, &r.OutstandingFen, &r.OverdueFen); err != nil {
			return nil, fmt.Errorf("disclose: projects.sql: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func readFlows(ctx context.Context, conn *sql.Conn, into map[string][]flowRow) error {
	rows, err := conn.QueryContext(ctx, flowsSQL)
	if err != nil {
		return fmt.Errorf("disclose: flows.sql: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f flowRow
		var id string
		if err := rows.Scan(&f.LoanID, &f.Date, &f.Bank, &f.SubAccount, &f.AmountFen, &id); err != nil {
			return fmt.Errorf("disclose: flows.sql: %w", err)
		}
		into[f.LoanID] = append(into[f.LoanID], f)
	}
	return rows.Err()
}
