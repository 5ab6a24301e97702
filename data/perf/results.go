package perf

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Maturation is one row of the vintage maturation table: among loans of
// vintages observed for at least Horizon months, how many A-card bads
// (DPD >= the A-card bad threshold, or written off) have appeared by MOB.
type Maturation struct {
	MOB     int
	Horizon int
	Loans   int64
	Bads    int64   // loans bad by this mob
	BadRate float64 // Bads / Loans
	// ShareOfWindow is Bads / bads by the A-card window; it reaches 1 at
	// the window. ShareOfHorizon is Bads / bads by Horizon.
	ShareOfWindow, ShareOfHorizon float64
}

// maturation computes the table over the cohort of loans whose vintage is
// observed for Horizon = min(2 x window, longest observed) months.
func maturation(ctx context.Context, db *sql.DB, cfg Config) ([]Maturation, error) {
	var longest sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(datediff('month', date_trunc('month', l.issue_date), p.as_of))
		FROM loans l, perf_params p WHERE l.issue_date <= p.as_of`).Scan(&longest); err != nil {
		return nil, fmt.Errorf("perf: maturation: %w", err)
	}
	h := min(2*cfg.ACard.WindowMonths, int(longest.Int64))
	if h < 1 {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, strings.ReplaceAll(Query("maturation"), "{{H}}", strconv.Itoa(h)))
	if err != nil {
		return nil, fmt.Errorf("perf: maturation: %w", err)
	}
	defer rows.Close()
	var out []Maturation
	for rows.Next() {
		m := Maturation{Horizon: h}
		var sw, sh sql.NullFloat64
		if err := rows.Scan(&m.MOB, &m.Loans, &m.Bads, &m.BadRate, &sw, &sh); err != nil {
			return nil, fmt.Errorf("perf: maturation: %w", err)
		}
		m.ShareOfWindow, m.ShareOfHorizon = sw.Float64, sh.Float64
		out = append(out, m)
	}
	return out, rows.Err()
}

// PrintMaturation writes the maturation table.
func PrintMaturation(w io.Writer, ms []Maturation, window int) {
	if len(ms) == 0 {
		fmt.Fprintln(w, "vintage maturation: no vintage observed for a full month yet")
		return
	}
	fmt.Fprintf(w, "vintage maturation (A-card bads by mob; cohort: %d loans of vintages observed >= %d months; window %d)\n",
		ms[0].Loans, ms[0].Horizon, window)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mob\tbads\tcum bad rate\tshare of window bads\tshare of horizon bads\t")
	for _, m := range ms {
		fmt.Fprintf(tw, "%d\t%d\t%.4f\t%.3f\t%.3f\t\n", m.MOB, m.Bads, m.BadRate, m.ShareOfWindow, m.ShareOfHorizon)
	}
	tw.Flush()
}

// Metric is one disclosure metric with its written definition.
type Metric struct {
	Name       string
	Value      string // exact decimal
	Unit       string
	Definition string
}

func disclosure(ctx context.Context, db *sql.DB) ([]Metric, error) {
	rows, err := db.QueryContext(ctx, `SELECT metric, CAST(value AS VARCHAR), unit, definition FROM out_disclosure ORDER BY ord`)
	if err != nil {
		return nil, fmt.Errorf("perf: disclosure: %w", err)
	}
	defer rows.Close()
	var out []Metric
	for rows.Next() {
		var m Metric
		if err := rows.Scan(&m.Name, &m.Value, &m.Unit, &m.Definition); err != nil {
			return nil, fmt.Errorf("perf: disclosure: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PrintDisclosure writes the disclosure metrics as a table.
func PrintDisclosure(w io.Writer, ms []Metric) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tvalue\tunit\tdefinition")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, m.Value, m.Unit, m.Definition)
	}
	tw.Flush()
}

// LGDRow states the LGD applied to one collateral type and its source.
type LGDRow struct {
	CollateralType string  `json:"collateral_type"`
	LGD            float64 `json:"lgd"`
	Source         string  `json:"source"`
	Loans          int64   `json:"loans"`
}

func lgdSources(ctx context.Context, db *sql.DB) ([]LGDRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT collateral_type, lgd, lgd_source, count(*) FROM out_expected_loss GROUP BY ALL ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("perf: lgd: %w", err)
	}
	defer rows.Close()
	var out []LGDRow
	for rows.Next() {
		var r LGDRow
		if err := rows.Scan(&r.CollateralType, &r.LGD, &r.Source, &r.Loans); err != nil {
			return nil, fmt.Errorf("perf: lgd: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
