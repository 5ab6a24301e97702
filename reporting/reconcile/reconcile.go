// Package reconcile reconciles the platform's records of money with the
// custodian bank's statement (qiandun reconcile): every disbursement
// (loans), repayment (repayments) and investment (investments) against
// the statement lines of custody_transactions, and every sub-account's
// balances.
//
// Matching (sql/bucket.sql, then sql/match.sql), over the records and
// lines dated on or before the run's last day: by reference first, in
// buckets of a hash of (kind, reference) that records.sql writes once
// under the lake's temp dir, so each bucket's joins fit in memory (the
// platform's id the line quotes; a second line quoting it is a
// duplicate, a line whose amount differs an amount_mismatch, one posted
// on another day a timing break that closed when it posted), then the
// rest by (sub-account owner, loan, kind, amount) posted within the
// posting window, then by amounts within the tolerance
// (amount_mismatch). A record left over is pending (an open timing
// break) while the window is open, then bank_missing; a line left over
// is platform_missing. Balance continuity (sql/chain.sql): each
// sub-account's balance_after chains line by line; the custody
// migration (sql/migration.sql): each owner's closing balance at the
// old bank equals its opening at the new one, the old sub-account is
// left empty, and the totals held, moved out and moved in agree.
//
// A run writes <out>/<to>/ — breaks.parquet and breaks.csv (the breaks
// open at its end and those closed in its period), summary.csv (per day:
// matched count and amount, open breaks by kind and age), migration.csv
// and manifest.json — as one commit (scoring/publish over
// internal/durable). The latest earlier run's open breaks carry over: a
// break matched since is closed with the day it matched, one found no
// more is closed as corrected, the others keep their first_seen and
// grow older. Run returns an *OverLimitError (after publishing) when the
// open breaks' amount exceeds Options.MaxOpenAmount.
package reconcile

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"text/template"
	"time"

	"qiandun/data/lake"
	"qiandun/internal/version"
	"qiandun/scoring/publish"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var sqlTemplates = template.Must(template.ParseFS(sqlFS, "sql/*.sql"))

// Kinds are the break kinds, in the order the manifest lists them.
var Kinds = []string{"bank_missing", "platform_missing", "duplicate", "amount_mismatch", "timing",
	"balance_chain", "migration_mismatch"}

// Options configure a Run.
type Options struct {
	Lake, Out string
	From, To  time.Time // the period: days From..To (Beijing local dates)
	// Window is the posting window in days: a line posted up to Window
	// days after its record still matches it (a timing break), and a
	// record without a line is pending, not missing, for Window days.
	Window int
	// Tolerance is the largest difference in fen matched as an amount
	// mismatch between lines without a reference.
	Tolerance int64
	// MaxOpenAmount in fen: Run returns an *OverLimitError when the open
	// breaks' amounts sum to more (negative: no limit).
	MaxOpenAmount int64
	MemoryLimit   string
	Log           *slog.Logger

	// linesPerBucket sizes the buckets matching by reference runs in:
	// one per so many statement lines (0: defaultLinesPerBucket).
	linesPerBucket int64
}

// DefaultWindow and DefaultTolerance are the defaults of the command.
const (
	DefaultWindow    = 3
	DefaultTolerance = 100 // 1.00 yuan
)

// defaultLinesPerBucket: a bucket per 16M statement lines, about 4M
// lines and 4M records to match by reference (a quarter of the
// statement answers a record), whose joins fit in memory.
const defaultLinesPerBucket = 16_000_000

// Manifest is manifest.json of a run.
type Manifest struct {
	Version       string           `json:"version"`
	From          string           `json:"from"`
	To            string           `json:"to"`
	Window        int              `json:"posting_window_days"`
	Tolerance     string           `json:"tolerance"`
	Previous      string           `json:"previous,omitempty"` // the run whose open breaks carried over
	Breaks        map[string]int64 `json:"breaks"`             // all breaks in breaks.csv, by kind
	Open          map[string]int64 `json:"open"`               // of which open, by kind
	OpenAmount    string           `json:"open_amount"`
	MaxOpenAmount string           `json:"max_open_amount,omitempty"`
	Matched       int64            `json:"matched"` // platform records matched (late postings included)
	Records       int64            `json:"records"` // platform records read (disbursements, repayments, investments)
	Lines         int64            `json:"lines"`   // statement lines read (every type: the balance chains)
	Rows          int64            `json:"rows"`    // rows of breaks.csv
	Files         []publish.File   `json:"files"`
	Elapsed       float64          `json:"-"` // logged, not written: the published files are the same bytes on a re-run
}

// OverLimitError says the open breaks exceed the configured amount. The
// run's files were published.
type OverLimitError struct {
	Open, Max int64 // fen
	Dir       string
}

func (e *OverLimitError) Error() string {
	return fmt.Sprintf("reconcile: open breaks amount to %s, above the limit %s (see %s)",
		yuan(e.Open), yuan(e.Max), filepath.Join(e.Dir, "breaks.csv"))
}

func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

func (o *Options) check() error {
	switch {
	case o.Lake == "" || o.Out == "":
		return errors.New("reconcile: --lake and --out are required")
	case o.From.IsZero() || o.To.IsZero():
		return errors.New("reconcile: --from and --to are required (YYYY-MM-DD)")
	case o.To.Before(o.From):
		return fmt.Errorf("reconcile: --to %s is before --from %s", day(o.To), day(o.From))
	case o.Window < 0 || o.Window > 60:
		return fmt.Errorf("reconcile: --window %d: want 0..60 days", o.Window)
	case o.Tolerance < 0:
		return fmt.Errorf("reconcile: --tolerance must not be negative")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

func day(t time.Time) string { return t.Format("2006-01-02") }

// params are what the SQL files are rendered with.
type params struct {
	From, To string
	Window   int
	Tol      string
	Prev     string // quoted path of the previous run's breaks.parquet

	Buckets          int    // records.sql: how many buckets matching by reference runs in
	PlatDir, BankDir string // quoted: where records.sql writes them
	tmp              string // the run's temp dir, which holds them

	// Chain, ChainSorted (quoted): the file chain_stream.sql, and
	// chain.sql when the statement is out of order, write the balance
	// chain's kept lines to (in tmp).
	Chain, ChainSorted string

	Bucket     int    // bucket.sql: the bucket
	Plat, Bank string // its records and lines (a scan or an empty table)
	First      bool   // the first bucket creates the tables the others append to
}

func render(name string, p params) (string, error) {
	var b bytes.Buffer
	if err := sqlTemplates.ExecuteTemplate(&b, name, p); err != nil {
		return "", fmt.Errorf("reconcile: render %s: %w", name, err)
	}
	return b.String(), nil
}

// Run reconciles the period and publishes <Out>/<To>/.
func Run(ctx context.Context, o Options) (*Manifest, string, error) {
	start := time.Now()
	if err := o.check(); err != nil {
		return nil, "", err
	}
	prevDir, err := previousRun(o.Out, day(o.To))
	if err != nil {
		return nil, "", err
	}
	p := params{From: day(o.From), To: day(o.To), Window: o.Window, Tol: yuan(o.Tolerance)}
	if prevDir != "" {
		p.Prev = lake.Quote(filepath.Join(prevDir, "breaks.parquet"))
	}
	lk := lake.New(o.Lake)
	db, err := lk.OpenDB(ctx, lake.DBOptions{MemoryLimit: o.MemoryLimit})
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // temp tables live on one connection
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	if err := views(ctx, conn, lk); err != nil {
		return nil, "", err
	}
	tmp, err := lk.TempDir("reconcile-")
	if err != nil {
		return nil, "", fmt.Errorf("reconcile: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := buckets(ctx, conn, o, tmp, &p); err != nil {
		return nil, "", err
	}
	p.Chain, p.ChainSorted = lake.Quote(filepath.Join(tmp, "chain.parquet")), lake.Quote(filepath.Join(tmp, "chain_sorted.parquet"))
	records, err := runSQL(ctx, conn, o.Log, p)
	if err != nil {
		return nil, "", err
	}
	m := &Manifest{Version: version.String(), From: p.From, To: p.To, Window: o.Window, Tolerance: p.Tol, Records: records}
	if prevDir != "" {
		m.Previous = filepath.Base(prevDir)
	}
	open, err := counts(ctx, conn, m)
	if err != nil {
		return nil, "", err
	}
	m.OpenAmount = yuan(open)
	if o.MaxOpenAmount >= 0 {
		m.MaxOpenAmount = yuan(o.MaxOpenAmount)
	}
	dir, err := publishRun(ctx, conn, o, m, start)
	if err != nil {
		return nil, "", err
	}
	o.Log.Info("reconcile done", "from", p.From, "to", p.To, "breaks", m.Rows, "open_amount", m.OpenAmount,
		"matched", m.Matched, "dir", dir, "elapsed_s", m.Elapsed)
	if o.MaxOpenAmount >= 0 && open > o.MaxOpenAmount {
		return m, dir, &OverLimitError{Open: open, Max: o.MaxOpenAmount, Dir: dir}
	}
	return m, dir, nil
}

// buckets sets how many buckets records.sql writes and bucket.sql
// matches by reference (one per o.linesPerBucket statement lines), and
// where, under tmp.
func buckets(ctx context.Context, conn *sql.Conn, o Options, tmp string, p *params) error {
	per := o.linesPerBucket
	if per <= 0 {
		per = defaultLinesPerBucket
	}
	var lines int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM ct").Scan(&lines); err != nil {
		return fmt.Errorf("reconcile: count the statement: %w", err)
	}
	p.Buckets = int(max(1, (lines+per-1)/per))
	p.tmp = tmp
	p.PlatDir, p.BankDir = lake.Quote(filepath.Join(tmp, "plat")), lake.Quote(filepath.Join(tmp, "bank"))
	return nil
}

// bucketScan returns a scan of side's files of bucket k under dir (plat
// or bank), or empty when there are none.
func bucketScan(dir string, k int, empty string) (string, error) {
	glob := filepath.Join(dir, fmt.Sprintf("bucket=%d", k), "*.parquet")
	files, err := filepath.Glob(glob)
	if err != nil {
		return "", fmt.Errorf("reconcile: %w", err)
	}
	if len(files) == 0 {
		return empty, nil
	}
	return fmt.Sprintf("read_parquet(%s, hive_partitioning = false)", lake.Quote(glob)), nil
}

// runSQL runs the SQL files in order and returns how many platform
// records it read. Matching by reference runs bucket by bucket
// (bucket.sql over what records.sql wrote). The balance chain is checked
// in one pass over the statement in file order (chain_stream.sql) and,
// when the file is not in posting order, by sorting (chain.sql).
func runSQL(ctx context.Context, conn *sql.Conn, log *slog.Logger, p params) (int64, error) {
	exec := func(f string) error {
		q, err := render(f, p)
		if err != nil {
			return err
		}
		t0 := time.Now()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("reconcile: %s: %w", f, err)
		}
		log.Debug("reconcile step", "sql", f, "seconds", time.Since(t0).Seconds())
		return nil
	}
	// Matching needs no order (its windows order by unique keys), so its
	// tables are written in parallel without keeping insertion order;
	// the balance chain reads the statement in file order, and the
	// files are written from tables created in order, so the order is
	// kept from chain_stream.sql on.
	order := func(keep bool) error {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET preserve_insertion_order = %t", keep)); err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
		return nil
	}
	if err := order(false); err != nil {
		return 0, err
	}
	if err := exec("records.sql"); err != nil {
		return 0, err
	}
	records, err := matchBuckets(ctx, conn, log, p)
	if err != nil {
		return 0, err
	}
	if err := exec("match.sql"); err != nil {
		return 0, err
	}
	if err := order(true); err != nil {
		return 0, err
	}
	if err := exec("chain_stream.sql"); err != nil {
		return 0, err
	}
	var disorder int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM chain_pass WHERE disorder").Scan(&disorder); err != nil {
		return 0, fmt.Errorf("reconcile: %w", err)
	}
	if disorder > 0 {
		log.Info("reconcile: the statement is not stored in posting order; sorting it for the balance chains", "lines_out_of_order", disorder)
		if err := exec("chain.sql"); err != nil {
			return 0, err
		}
	}
	for _, f := range []string{"migration.sql", "state.sql", "breaks.sql", "summary.sql"} {
		if err := exec(f); err != nil {
			return 0, err
		}
	}
	return records, nil
}

// matchBuckets runs bucket.sql, pass 1 of the matching, for each bucket
// records.sql wrote, after starting b_left with the lines quoting no
// reference; it returns how many records the buckets held.
func matchBuckets(ctx context.Context, conn *sql.Conn, log *slog.Logger, p params) (int64, error) {
	platDir, bankDir := filepath.Join(p.tmp, "plat"), filepath.Join(p.tmp, "bank")
	noRef, err := bucketScan(bankDir, p.Buckets, "bank0")
	if err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE b_left AS FROM "+noRef); err != nil {
		return 0, fmt.Errorf("reconcile: b_left: %w", err)
	}
	var records int64
	for k := 0; k < p.Buckets; k++ {
		t0 := time.Now()
		b := p
		b.Bucket, b.First = k, k == 0
		if b.Plat, err = bucketScan(platDir, k, "plat0"); err != nil {
			return 0, err
		}
		if b.Bank, err = bucketScan(bankDir, k, "bank0"); err != nil {
			return 0, err
		}
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+b.Plat).Scan(&n); err != nil {
			return 0, fmt.Errorf("reconcile: bucket %d: %w", k, err)
		}
		records += n
		q, err := render("bucket.sql", b)
		if err != nil {
			return 0, err
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("reconcile: bucket.sql, bucket %d of %d: %w", k, p.Buckets, err)
		}
		log.Debug("reconcile step", "sql", "bucket.sql", "bucket", k, "buckets", p.Buckets, "records", n,
			"seconds", time.Since(t0).Seconds())
	}
	return records, nil
}

// views names the lake tables the SQL files read.
func views(ctx context.Context, conn *sql.Conn, lk lake.Lake) error {
	for name, table := range map[string]string{"loans": "loans", "repayments": "repayments",
		"investments": "investments", "ct": "custody_transactions"} {
		scan, err := lk.Scan(table)
		if err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM %s", name, scan)); err != nil {
			return fmt.Errorf("reconcile: view %s: %w", name, err)
		}
	}
	return nil
}

// counts fills the manifest's counts and returns the open amount in fen.
func counts(ctx context.Context, conn *sql.Conn, m *Manifest) (int64, error) {
	m.Breaks, m.Open = map[string]int64{}, map[string]int64{}
	for _, k := range Kinds {
		m.Breaks[k], m.Open[k] = 0, 0
	}
	rows, err := conn.QueryContext(ctx, `SELECT kind, count(*), count(*) FILTER (WHERE status = 'open'),
		CAST(coalesce(sum(amount) FILTER (WHERE status = 'open'), 0) * 100 AS BIGINT) FROM breaks_out GROUP BY kind`)
	if err != nil {
		return 0, fmt.Errorf("reconcile: counts: %w", err)
	}
	defer rows.Close()
	var open int64
	for rows.Next() {
		var k string
		var n, nOpen, amt int64
		if err := rows.Scan(&k, &n, &nOpen, &amt); err != nil {
			return 0, fmt.Errorf("reconcile: counts: %w", err)
		}
		m.Breaks[k], m.Open[k] = n, nOpen
		m.Rows += n
		open += amt
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("reconcile: counts: %w", err)
	}
	err = conn.QueryRowContext(ctx, `SELECT (SELECT coalesce(sum(n), 0) FROM matched_daily),
		(SELECT count(*) FROM ct WHERE CAST(txn_time AS DATE) <= DATE '`+m.To+`')`).Scan(&m.Matched, &m.Lines)
	if err != nil {
		return 0, fmt.Errorf("reconcile: counts: %w", err)
	}
	return open, nil
}

// publishRun writes the run's files into <Out>/<To>/ as one commit.
func publishRun(ctx context.Context, conn *sql.Conn, o Options, m *Manifest, start time.Time) (string, error) {
	d, err := publish.Begin(filepath.Join(o.Out, m.To))
	if err != nil {
		return "", err
	}
	defer d.Abort()
	copies := []struct{ file, query, format string }{
		{"breaks.parquet", "SELECT * FROM breaks_out", "(FORMAT parquet, COMPRESSION zstd)"},
		{"breaks.csv", "SELECT * FROM breaks_out", "(FORMAT csv, HEADER)"},
		{"summary.csv", "SELECT * FROM summary", "(FORMAT csv, HEADER)"},
		{"migration.csv", "SELECT * FROM migration", "(FORMAT csv, HEADER)"},
	}
	for _, c := range copies {
		q := fmt.Sprintf("COPY (%s) TO %s %s", c.query, lake.Quote(d.Path(c.file)), c.format)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return "", fmt.Errorf("reconcile: write %s: %w", c.file, err)
		}
		var rows int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM ("+c.query+")").Scan(&rows); err != nil {
			return "", fmt.Errorf("reconcile: %w", err)
		}
		d.Written(c.file, rows)
	}
	if m.Files, err = d.Files(); err != nil {
		return "", err
	}
	m.Elapsed = time.Since(start).Seconds()
	if err := d.Commit(m); err != nil {
		return "", err
	}
	return d.Final, nil
}

// LatestRun returns the directory of the latest published run under out
// (the root Options.Out; "" if none), the one the portfolio report
// summarises.
func LatestRun(out string) (string, error) { return previousRun(out, "") }

// previousRun returns the directory of the latest run under out whose
// last day is before to (any day when to is ""; "" if none): its open
// breaks carry over.
func previousRun(out, to string) (string, error) {
	entries, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reconcile: %w", err)
	}
	var days []string
	for _, e := range entries {
		n := e.Name()
		if _, err := time.Parse("2006-01-02", n); err == nil && (to == "" || n < to) {
			if _, err := os.Stat(filepath.Join(out, n, publish.Marker)); err == nil {
				days = append(days, n)
			}
		}
	}
	if len(days) == 0 {
		return "", nil
	}
	sort.Strings(days)
	return filepath.Join(out, days[len(days)-1]), nil
}
