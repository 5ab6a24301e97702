// Package perf builds the loan performance tables of a qiandun lake: the
// loan x month-end panel (days past due, bucket, balances), vintage curves,
// roll-rate matrices, the delinquency distribution, expected loss, the
// disclosure metrics, and the A-card and B-card labels every scorecard is
// trained on.
//
// The set work is DuckDB SQL, one embedded, commented file per output in
// sql/. Every query reads the views loans, repayment_schedule and
// repayments (plus panel once it is written) and the one-row table
// perf_params that carries the as-of date and the label definitions.
// perf/, labels/ and the manifest _manifests/perf.json are one commit of
// the lake (lake.Commit), so readers see the old or the new tables, never
// a mix.
package perf

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"qiandun/data/lake"
	"qiandun/internal/durable"
	"qiandun/internal/version"
)

//go:embed sql/*.sql
var sqlFS embed.FS

// Query returns the text of the embedded SQL file name (without .sql).
func Query(name string) string {
	b, err := sqlFS.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic("perf: missing embedded query " + name) // programming error
	}
	return strings.TrimRight(strings.TrimSpace(string(b)), ";")
}

// ACard is the application-scorecard label definition.
type ACard struct {
	// WindowMonths is the performance window: month ends with
	// mob 0..WindowMonths count. Default 12.
	WindowMonths int `yaml:"window_months"`
	// BadDPD: a loan is bad when its DPD reaches BadDPD (>=) or it is
	// written off within the window. Default 90.
	BadDPD int `yaml:"bad_dpd"`
	// GoodMaxDPD: a loan is good when its DPD never exceeds GoodMaxDPD in
	// the window; between GoodMaxDPD and BadDPD it is indeterminate.
	// Default 30.
	GoodMaxDPD int `yaml:"good_max_dpd"`
}

// BCard is the behaviour-scorecard label definition.
type BCard struct {
	// MinMOB is the first month on book observed. Default 3.
	MinMOB int `yaml:"min_mob"`
	// WindowMonths is the outcome window after the observation month end.
	// Default 6.
	WindowMonths int `yaml:"window_months"`
	// BadDPD: bad when DPD reaches it (>=) or the loan is written off
	// within the window. Default 60.
	BadDPD int `yaml:"bad_dpd"`
}

// Config is what a perf run needs besides the lake.
type Config struct {
	// AsOf is the month end the tables describe; zero means the default
	// (see DefaultAsOf).
	AsOf  time.Time `yaml:"-"`
	ACard ACard     `yaml:"acard"`
	BCard BCard     `yaml:"bcard"`
	// PDHorizonMonths is the horizon of the bucket roll-to-write-off PD.
	// Default 12.
	PDHorizonMonths int `yaml:"pd_horizon_months"`
	// LGD is the loss given default by collateral type used when history
	// does not provide one. Defaults: none 0.90, car 0.45, house 0.25.
	LGD map[string]float64 `yaml:"lgd"`
	// MinRecoveryLoans is how many written-off unsecured loans the
	// historical recovery rate needs before it replaces the default LGD
	// of unsecured loans. Default 30.
	MinRecoveryLoans int `yaml:"min_recovery_loans"`
	// PDFrom is an optional Parquet file (or glob) with columns loan_id
	// and pd (a scorecard's PD) that overrides the bucket PD.
	PDFrom string `yaml:"pd_from"`
	// MemoryLimit and Threads bound the embedded DuckDB; an empty
	// MemoryLimit (or "auto") is lake.DefaultMemoryLimit().
	MemoryLimit string `yaml:"memory_limit"`
	Threads     int    `yaml:"threads"`
	// PanelChunkInstallments: a book with more schedule rows is built in
	// hash partitions of its loans of about this many rows each.
	// Default 5,000,000 (keeps peak RSS under 4 GiB with the default 3GB
	// DuckDB memory limit).
	PanelChunkInstallments int64 `yaml:"panel_chunk_installments"`
}

// DefaultConfig returns the definitions of DESIGN.md.
func DefaultConfig() Config {
	return Config{
		ACard:            ACard{WindowMonths: 12, BadDPD: 90, GoodMaxDPD: 30},
		BCard:            BCard{MinMOB: 3, WindowMonths: 6, BadDPD: 60},
		PDHorizonMonths:  12,
		LGD:              map[string]float64{"none": 0.90, "car": 0.45, "house": 0.25},
		MinRecoveryLoans: 30,
		MemoryLimit:      "", // lake.DefaultMemoryLimit(): a share of the machine

		PanelChunkInstallments: 5_000_000,
	}
}

// Validate reports a configuration that cannot define labels.
func (c Config) Validate() error {
	switch {
	case c.ACard.WindowMonths < 1:
		return errors.New("perf config: acard.window_months must be >= 1")
	case c.ACard.GoodMaxDPD < 0 || c.ACard.BadDPD <= c.ACard.GoodMaxDPD:
		return fmt.Errorf("perf config: need 0 <= acard.good_max_dpd (%d) < acard.bad_dpd (%d)", c.ACard.GoodMaxDPD, c.ACard.BadDPD)
	case c.BCard.WindowMonths < 1 || c.BCard.MinMOB < 0 || c.BCard.BadDPD < 1:
		return errors.New("perf config: bcard needs window_months >= 1, min_mob >= 0, bad_dpd >= 1")
	case c.PanelChunkInstallments < 1:
		return errors.New("perf config: panel_chunk_installments must be >= 1")
	case c.PDHorizonMonths < 1:
		return errors.New("perf config: pd_horizon_months must be >= 1")
	}
	for k, v := range c.LGD {
		if v < 0 || v > 1 {
			return fmt.Errorf("perf config: lgd[%s] = %v is not in [0, 1]", k, v)
		}
	}
	if !c.AsOf.IsZero() && !IsMonthEnd(c.AsOf) {
		return fmt.Errorf("perf config: as-of %s is not a month end", c.AsOf.Format(time.DateOnly))
	}
	return nil
}

// IsMonthEnd reports whether t is the last day of its month.
func IsMonthEnd(t time.Time) bool { return t.AddDate(0, 0, 1).Day() == 1 }

// Outputs lists the tables a run writes, lake-relative.
var outputs = []struct{ table, query string }{
	{"perf/installment_payoff", "installment_payoff"},
	{"perf/loan_closure", "loan_closure"},
	{"perf/panel", "panel"},
	{"perf/vintage", "vintage"},
	{"perf/roll_rates", "roll_rates"},
	{"perf/delinquency", "delinquency"},
	{"perf/expected_loss", "expected_loss"},
	{"perf/disclosure", "disclosure"},
	{"labels/acard", "labels_acard"},
	{"labels/bcard", "labels_bcard"},
	{"labels/summary", "labels_summary"},
}

// Tables returns the lake tables a run writes, in the order it writes them.
func Tables() []string {
	out := make([]string, len(outputs))
	for i, o := range outputs {
		out[i] = o.table
	}
	return out
}

// chunked are the outputs written per hash partition of the loans, in
// this order (each chunk's later queries read its earlier ones' rows).
var chunked = []struct{ table, query, view string }{
	{"perf/installment_payoff", "installment_payoff", "chunk_payoff"},
	{"perf/loan_closure", "loan_closure", "chunk_closure"},
	{"perf/panel", "panel", ""},
}

// Macros returns the statements that create the SQL macros the models of
// perf, features and warn share (sql/macros.sql, e.g. dpd_bucket).
func Macros() string { return Query("macros") }

// Inputs are the raw lake tables perf reads; collection_events is optional.
var inputs = []string{"loans", "repayment_schedule", "repayments"}

// Result is what a run measured and what the command prints.
type Result struct {
	AsOf       time.Time
	Counts     map[string]int64
	Timings    map[string]float64
	Maturation []Maturation
	Disclosure []Metric
	LGD        []LGDRow
	Manifest   *lake.Manifest
}

// Run builds every perf output of lk as of cfg.AsOf and publishes them.
func Run(ctx context.Context, lk lake.Lake, cfg Config, log *slog.Logger) (*Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	started := time.Now()
	db, err := lk.OpenDB(ctx, lake.DBOptions{MemoryLimit: cfg.MemoryLimit, Threads: cfg.Threads})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	res := &Result{Counts: map[string]int64{}, Timings: map[string]float64{}}
	man := &lake.Manifest{Stage: "perf", Version: version.Version, Started: started.UTC()}

	if err := createInputViews(ctx, db, lk, man); err != nil {
		return nil, err
	}
	dataEnd, err := DefaultAsOf(ctx, db, lk)
	if err != nil {
		return nil, err
	}
	asOf := cfg.AsOf
	if asOf.IsZero() {
		asOf = dataEnd
	}
	res.AsOf = asOf
	log.Info("perf: start", "lake", lk.Root, "as_of", asOf.Format(time.DateOnly), "data_end", dataEnd.Format(time.DateOnly))
	if err := setParams(ctx, db, cfg, asOf, dataEnd); err != nil {
		return nil, err
	}

	c, err := lk.Begin("perf")
	if err != nil {
		return nil, err
	}
	defer c.Abort()
	if err := writeOutputs(ctx, db, c.Staged, cfg, res, log); err != nil {
		return nil, err
	}
	if res.Maturation, err = maturation(ctx, db, cfg); err != nil {
		return nil, err
	}
	if res.Disclosure, err = disclosure(ctx, db); err != nil {
		return nil, err
	}
	if res.LGD, err = lgdSources(ctx, db); err != nil {
		return nil, err
	}

	// perf/ and labels/ are owned by this stage as a whole.
	c.Mount("perf", "labels")
	for _, o := range outputs {
		dir := c.Staged.TableDir(o.table)
		files, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
		for _, f := range files {
			sum, err := durable.SHA256(f)
			if err != nil {
				return nil, err
			}
			st, err := os.Stat(f)
			if err != nil {
				return nil, err
			}
			var rows int64
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lake.Quote(f)+")").Scan(&rows); err != nil {
				return nil, fmt.Errorf("perf: count %s: %w", f, err)
			}
			rel, _ := filepath.Rel(c.Staged.Root, f)
			man.Outputs = append(man.Outputs, lake.File{Path: filepath.ToSlash(rel), SHA256: sum, Rows: rows, Bytes: st.Size()})
		}
	}
	man.Finished = time.Now().UTC()
	man.Counts = res.Counts
	man.Timings = res.Timings
	man.Timings["total"] = time.Since(started).Seconds()
	man.Config = configMap(cfg, asOf)
	man.Extra = map[string]any{"lgd": res.LGD}
	if err := c.WriteManifest(man); err != nil {
		return nil, err
	}
	if err := c.Commit(); err != nil {
		return nil, err
	}
	res.Manifest = man
	log.Info("perf: done", "as_of", asOf.Format(time.DateOnly), "panel_rows", res.Counts["perf/panel"], "seconds", fmt.Sprintf("%.1f", man.Timings["total"]))
	return res, nil
}

// writeOutputs writes every output table into the staging lake: the
// chunked intermediate models and panel first, then the queries that read
// them, each made a view for the ones after it.
func writeOutputs(ctx context.Context, db *sql.DB, staged lake.Lake, cfg Config, res *Result, log *slog.Logger) error {
	if _, err := db.ExecContext(ctx, Macros()); err != nil {
		return fmt.Errorf("perf: macros.sql: %w", err)
	}
	t0 := time.Now()
	dirs := map[string]string{}
	for _, o := range chunked {
		dirs[o.table] = staged.TableDir(o.table)
	}
	counts, err := writeChunked(ctx, db, dirs, cfg.PanelChunkInstallments)
	if err != nil {
		return err
	}
	for _, o := range chunked {
		res.Counts[o.table] = counts[o.table]
		res.Timings[o.table] = time.Since(t0).Seconds() // the chunks interleave: the time of all three
		log.Info("perf: wrote", "table", o.table, "rows", counts[o.table], "seconds", fmt.Sprintf("%.1f", res.Timings[o.table]))
	}
	for _, o := range outputs {
		dir := staged.TableDir(o.table)
		// later queries read what earlier ones wrote: the intermediate
		// models and the panel by their names, the others as out_<query>
		view := "out_" + o.query
		if _, ok := dirs[o.table]; ok {
			view = o.query
		} else {
			t0 := time.Now()
			n, err := writeQuery(ctx, db, Query(o.query), dir)
			if err != nil {
				return fmt.Errorf("perf: %s (sql/%s.sql): %w", o.table, o.query, err)
			}
			res.Counts[o.table] = n
			res.Timings[o.table] = time.Since(t0).Seconds()
			log.Info("perf: wrote", "table", o.table, "rows", n, "seconds", fmt.Sprintf("%.1f", res.Timings[o.table]))
		}
		if _, err := db.ExecContext(ctx, "CREATE OR REPLACE VIEW "+view+" AS SELECT * FROM read_parquet("+lake.Quote(filepath.Join(dir, "*.parquet"))+")"); err != nil {
			return fmt.Errorf("perf: view %s: %w", view, err)
		}
	}
	return nil
}

func configMap(cfg Config, asOf time.Time) map[string]any {
	return map[string]any{
		"as_of":              asOf.Format(time.DateOnly),
		"acard":              map[string]int{"window_months": cfg.ACard.WindowMonths, "bad_dpd": cfg.ACard.BadDPD, "good_max_dpd": cfg.ACard.GoodMaxDPD},
		"bcard":              map[string]int{"min_mob": cfg.BCard.MinMOB, "window_months": cfg.BCard.WindowMonths, "bad_dpd": cfg.BCard.BadDPD},
		"pd_horizon_months":  cfg.PDHorizonMonths,
		"lgd_default":        cfg.LGD,
		"min_recovery_loans": cfg.MinRecoveryLoans,
		"pd_from":            cfg.PDFrom,
		"memory_limit":       cfg.MemoryLimit,

		"panel_chunk_installments": cfg.PanelChunkInstallments,
	}
}

// createInputViews points the views the queries read at the lake's
// Parquet files and records the inputs with their row counts.
func createInputViews(ctx context.Context, db *sql.DB, lk lake.Lake, man *lake.Manifest) error {
	for _, t := range inputs {
		scan, err := lk.Scan(t)
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT * FROM %s", t, scan)); err != nil {
			return fmt.Errorf("perf: view %s: %w", t, err)
		}
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return fmt.Errorf("perf: count %s: %w", t, err)
		}
		man.Inputs = append(man.Inputs, lake.File{Path: filepath.ToSlash(t), Rows: n})
	}
	return nil
}

// DefaultAsOf returns the default as-of date: the last month end on or
// before the latest event in the data (the latest repayment paid_at or
// collection event_time; the latest issue date when there is neither).
// A month that is still running is not reported as if it had ended.
func DefaultAsOf(ctx context.Context, db *sql.DB, lk lake.Lake) (time.Time, error) {
	parts := []string{"SELECT max(CAST(paid_at AS DATE)) AS d FROM repayments", "SELECT max(issue_date) FROM loans"}
	if scan, err := lk.Scan("collection_events"); err == nil {
		parts = append(parts, "SELECT max(CAST(event_time AS DATE)) FROM "+scan)
	}
	q := "SELECT CASE WHEN d = last_day(d) THEN d ELSE CAST(date_trunc('month', d) - INTERVAL 1 DAY AS DATE) END FROM (SELECT max(d) AS d FROM (" +
		strings.Join(parts, " UNION ALL ") + "))"
	var d sql.NullTime
	if err := db.QueryRowContext(ctx, q).Scan(&d); err != nil {
		return time.Time{}, fmt.Errorf("perf: default as-of: %w", err)
	}
	if !d.Valid {
		return time.Time{}, errors.New("perf: default as-of: the lake has no loans or repayments")
	}
	return d.Time, nil
}

func setParams(ctx context.Context, db *sql.DB, cfg Config, asOf, dataEnd time.Time) error {
	stmts := []string{
		fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE perf_params AS SELECT
			DATE %s AS as_of, DATE %s AS data_end,
			%d AS acard_window, %d AS acard_bad_dpd, %d AS acard_good_max_dpd,
			%d AS bcard_min_mob, %d AS bcard_window, %d AS bcard_bad_dpd,
			%d AS pd_horizon, %d AS min_recovery_loans`,
			lake.Quote(asOf.Format(time.DateOnly)), lake.Quote(dataEnd.Format(time.DateOnly)),
			cfg.ACard.WindowMonths, cfg.ACard.BadDPD, cfg.ACard.GoodMaxDPD,
			cfg.BCard.MinMOB, cfg.BCard.WindowMonths, cfg.BCard.BadDPD,
			cfg.PDHorizonMonths, cfg.MinRecoveryLoans),
		"CREATE OR REPLACE TEMP TABLE lgd_default (collateral_type VARCHAR, lgd DOUBLE)",
	}
	keys := make([]string, 0, len(cfg.LGD))
	for k := range cfg.LGD {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO lgd_default VALUES (%s, %g)", lake.Quote(k), cfg.LGD[k]))
	}
	if cfg.PDFrom != "" {
		stmts = append(stmts, "CREATE OR REPLACE VIEW scorecard_pd AS SELECT CAST(loan_id AS VARCHAR) AS loan_id, CAST(pd AS DOUBLE) AS pd FROM read_parquet("+lake.Quote(cfg.PDFrom)+")")
	} else {
		stmts = append(stmts, "CREATE OR REPLACE VIEW scorecard_pd AS SELECT CAST(NULL AS VARCHAR) AS loan_id, CAST(NULL AS DOUBLE) AS pd WHERE false")
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("perf: parameters: %w", err)
		}
	}
	return nil
}

// writeQuery writes the rows of q to dir/part-0.parquet (zstd) and returns
// how many it wrote.
func writeQuery(ctx context.Context, db *sql.DB, q, dir string) (int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	out := filepath.Join(dir, "part-0.parquet")
	if _, err := db.ExecContext(ctx, "COPY ("+q+") TO "+lake.Quote(out)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
		return 0, err
	}
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lake.Quote(out)+")").Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
}

// WritePanel writes only the panel of the views already defined on db
// (loans, repayment_schedule, repayments, perf_params) into dir, with the
// intermediate models it reads beside it (<dir>.installment_payoff,
// <dir>.loan_closure). The benchmark and tests use it; Run writes every
// output. The end of the data (see DefaultAsOf) comes from repayments and
// loans only.
func WritePanel(ctx context.Context, db *sql.DB, asOf time.Time, dir string) (int64, error) {
	dataEnd, err := DefaultAsOf(ctx, db, lake.Lake{})
	if err != nil {
		return 0, err
	}
	if err := setParams(ctx, db, DefaultConfig(), asOf, dataEnd); err != nil {
		return 0, err
	}
	return writePanel(ctx, db, dir, DefaultConfig().PanelChunkInstallments)
}

// writePanel is WritePanel after the parameters are set.
func writePanel(ctx context.Context, db *sql.DB, dir string, chunkInstallments int64) (int64, error) {
	if _, err := db.ExecContext(ctx, Macros()); err != nil {
		return 0, fmt.Errorf("perf: macros.sql: %w", err)
	}
	dirs := map[string]string{}
	for _, o := range chunked {
		dirs[o.table] = dir + "." + o.query
	}
	dirs["perf/panel"] = dir
	n, err := writeChunked(ctx, db, dirs, chunkInstallments)
	return n["perf/panel"], err
}

// writeChunked writes the chunked outputs (installment payoff, loan
// closure, panel) into dirs[table] as part-<chunk>.parquet files and
// returns their row counts. A book with more than chunkInstallments
// schedule rows is built in chunks of loan_id ranges (split at quantiles
// of loan_id), so that DuckDB's working set stays within its memory limit
// instead of spilling gigabytes; lake tables are sorted by loan_id, so
// each chunk's range filter skips most Parquet row groups.
func writeChunked(ctx context.Context, db *sql.DB, dirs map[string]string, chunkInstallments int64) (map[string]int64, error) {
	bounds, err := chunkBounds(ctx, db, chunkInstallments)
	if err != nil {
		return nil, err
	}
	for _, o := range chunked {
		if err := os.MkdirAll(dirs[o.table], 0o755); err != nil {
			return nil, err
		}
	}
	for c := 0; c <= len(bounds); c++ {
		var conds []string
		if c > 0 {
			conds = append(conds, "loan_id >= "+lake.Quote(bounds[c-1]))
		}
		if c < len(bounds) {
			conds = append(conds, "loan_id < "+lake.Quote(bounds[c]))
		}
		filter := ""
		if len(conds) > 0 {
			filter = " WHERE " + strings.Join(conds, " AND ")
		}
		for _, v := range [][2]string{{"chunk_loans", "loans"}, {"chunk_schedule", "repayment_schedule"}, {"chunk_repayments", "repayments"}} {
			if _, err := db.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW "+v[0]+" AS SELECT * FROM "+v[1]+filter); err != nil {
				return nil, err
			}
		}
		for _, o := range chunked {
			out := filepath.Join(dirs[o.table], fmt.Sprintf("part-%03d.parquet", c))
			if _, err := db.ExecContext(ctx, "COPY ("+Query(o.query)+") TO "+lake.Quote(out)+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
				return nil, fmt.Errorf("perf: %s (sql/%s.sql), chunk %d of %d: %w", o.table, o.query, c+1, len(bounds)+1, err)
			}
			if o.view != "" {
				if _, err := db.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW "+o.view+" AS SELECT * FROM read_parquet("+lake.Quote(out)+")"); err != nil {
					return nil, err
				}
			}
		}
	}
	counts := map[string]int64{}
	for _, o := range chunked {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lake.Quote(filepath.Join(dirs[o.table], "*.parquet"))+")").Scan(&n); err != nil {
			return nil, err
		}
		counts[o.table] = n
	}
	return counts, nil
}

// chunkBounds returns the loan_id bounds of the chunks: chunk c covers
// [bounds[c-1], bounds[c]).
func chunkBounds(ctx context.Context, db *sql.DB, chunkInstallments int64) ([]string, error) {
	var installments int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM repayment_schedule").Scan(&installments); err != nil {
		return nil, err
	}
	chunks := int((installments + chunkInstallments - 1) / max(chunkInstallments, 1))
	if chunks <= 1 {
		return nil, nil
	}
	qs := make([]string, chunks-1)
	for i := range qs {
		qs[i] = fmt.Sprintf("%d/%d", i+1, chunks)
	}
	rows, err := db.QueryContext(ctx, "SELECT DISTINCT unnest(quantile_disc(loan_id, ["+strings.Join(qs, ", ")+"])) AS b FROM loans ORDER BY b")
	if err != nil {
		return nil, fmt.Errorf("chunk bounds: %w", err)
	}
	defer rows.Close()
	var bounds []string
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		bounds = append(bounds, b)
	}
	return bounds, rows.Err()
}
