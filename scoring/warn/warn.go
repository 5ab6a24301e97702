//go:build duckdb_arrow

// Package warn builds the post-loan early-warning list: for the loans on
// book at the close of an as-of month end (the B-card spine's "active at
// d" - issued before d, neither settled nor written off - with the
// payments of day d counted too, see signals.sql), the B-card score plus
// rules (first payment
// missed, entering M1, paid-to-due ratio falling, new multi-lending
// inquiries since issue, lost contact, loan-to-value breach, high B-score
// PD, M2–M3 and M4+ delinquency), each listed loan with its triggered
// reasons, priority, recommended action and queue, ranked reproducibly
// (priority, then PD descending, then loan_id). The list is published
// like the score files (ews.parquet, ews.csv, manifest.json, _SUCCESS;
// package publish).
//
// The rule signals are computed in DuckDB by signals.sql from the B-card
// feature snapshot at the as-of date (features use only events strictly
// before it) and the raw lake tables; the B-score comes from package
// score. Backtest replays the ranking on historical month ends and
// measures the share of the next six months' bads (labels/bcard) that
// lists of each size would have caught, against a random list, and each
// rule's coverage of the book and lift on the bad rate.
package warn

import (
	"cmp"
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"qiandun/data/lake"
	"qiandun/internal/csvsafe"
	"qiandun/internal/version"
	"qiandun/scoring/publish"
	"qiandun/scoring/score"
	"qiandun/training/scorecard"
)

//go:embed signals.sql
var signalsSQL string

// SchemaVersion versions the column contract of ews.parquet/.csv.
const SchemaVersion = "qiandun.ews/v1"

// Columns is the contract of ews.parquet and ews.csv.
var Columns = []score.Column{
	{Name: "rank", Type: "INTEGER", Meaning: "1 = act first: by priority, then PD descending, then loan_id"},
	{Name: "loan_id", Type: "VARCHAR", Meaning: "loan on book at the as-of month end"},
	{Name: "borrower_id", Type: "VARCHAR", Meaning: "its borrower"},
	{Name: "as_of", Type: "DATE", Meaning: "the as-of month end"},
	{Name: "model", Type: "VARCHAR", Meaning: "B-card model name"},
	{Name: "model_version", Type: "VARCHAR", Meaning: "B-card model version"},
	{Name: "score", Type: "INTEGER", Meaning: "B-card score (higher = lower risk)"},
	{Name: "pd", Type: "DOUBLE", Meaning: "B-card probability of 60+ DPD within 6 months"},
	{Name: "grade", Type: "VARCHAR", Meaning: "A-E grade of the B-score"},
	{Name: "priority", Type: "INTEGER", Meaning: "1 highest: the best priority among the triggered rules"},
	{Name: "primary_reason", Type: "VARCHAR", Meaning: "the triggered rule that sets priority, action and queue"},
	{Name: "reasons", Type: "VARCHAR", Meaning: "all triggered rules, ';'-joined in rule order"},
	{Name: "action", Type: "VARCHAR", Meaning: "sms_reminder | call | field_visit | lost_contact_repair | legal"},
	{Name: "queue", Type: "VARCHAR", Meaning: "work queue of the action"},
	{Name: "dpd", Type: "INTEGER", Meaning: "days past due at the as-of date"},
	{Name: "bucket", Type: "VARCHAR", Meaning: "C, M1, M2, M3, M4+"},
	{Name: "outstanding_principal", Type: "DECIMAL(18,2)", Meaning: "principal not yet repaid, CNY"},
	{Name: "ltv", Type: "DOUBLE", Meaning: "outstanding principal / collateral value (collateral loans; NULL otherwise)"},
}

// Options configure a warn run or a back-test.
type Options struct {
	Lake    string
	AsOf    string // YYYY-MM-DD month end (Run)
	Model   string // B-card model directory
	Out     string // early-warning root; the list goes to Out/<as_of>/
	Config  Config
	Memory  string
	Workers int
	Log     *slog.Logger
}

// Manifest is manifest.json of an early-warning directory.
type Manifest struct {
	SchemaVersion string           `json:"schema_version"`
	Kind          string           `json:"kind"`
	AsOf          string           `json:"as_of"`
	CodeVersion   string           `json:"code_version"`
	ActiveLoans   int64            `json:"active_loans"`
	Rows          int64            `json:"rows"`
	Model         score.ModelRun   `json:"model"`
	Rules         []*Rule          `json:"rules"`
	Thresholds    Thresholds       `json:"thresholds"`
	ByReason      map[string]int64 `json:"loans_by_reason"`
	ByAction      map[string]int64 `json:"loans_by_action"`
	ByPriority    map[string]int64 `json:"loans_by_priority"`
	Files         []publish.File   `json:"files"`
	Columns       []score.Column   `json:"columns"`
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// session is an open DuckDB with the lake views.
type session struct {
	db   *sql.DB
	conn *sql.Conn // holds the variables
	tmp  string
	l    lake.Lake
	m    *scorecard.Model
}

func open(ctx context.Context, o Options) (*session, error) {
	if o.Lake == "" || o.Model == "" {
		return nil, fmt.Errorf("warn: --lake and --model are required")
	}
	m, err := scorecard.Load(o.Model)
	if err != nil {
		return nil, fmt.Errorf("warn: refusing model %s: %w", o.Model, err)
	}
	if set := m.Settings["model"]; set != "" && set != "bcard" {
		return nil, fmt.Errorf("warn: model %s is an %s model; the early-warning list needs a B-card", o.Model, set)
	}
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	tmp, err := lake.New(o.Lake).TempDir("warn-*") // emptied by the next writer after a crash
	if err != nil {
		return nil, err
	}
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: cmp.Or(o.Memory, "3GB"), TempDir: tmp})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	db.SetMaxOpenConns(2) // one held for the session's variables, one for the rest
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("warn: %w", err)
	}
	s := &session{db: db, conn: conn, tmp: tmp, l: lake.New(o.Lake), m: m}
	for _, t := range []string{"loans", "repayment_schedule", "repayments"} {
		src, err := s.l.Scan(t)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("warn: %w", err)
		}
		if _, err := conn.ExecContext(ctx, "CREATE VIEW "+t+" AS SELECT * FROM "+src); err != nil {
			s.close()
			return nil, fmt.Errorf("warn: %w", err)
		}
	}
	th := o.Config.Thresholds
	for k, v := range th.vars() {
		if _, err := conn.ExecContext(ctx, "SET VARIABLE "+k+" = CAST("+strconv.FormatFloat(v, 'g', -1, 64)+" AS DOUBLE)"); err != nil {
			s.close()
			return nil, fmt.Errorf("warn: %w", err)
		}
	}
	return s, nil
}

func (s *session) close() {
	s.conn.Close()
	s.db.Close()
	os.RemoveAll(s.tmp)
}

// rank scores the snapshot at asOf and builds the table ranked: every
// active loan with its signals, reasons, priority (999 when no rule
// fires), primary reason, action, queue and rank.
func (s *session) rank(ctx context.Context, o Options, asOf string) (*score.ModelRun, error) {
	snap := "features/bcard/as_of=" + asOf
	if !s.l.Exists(snap) {
		return nil, fmt.Errorf("warn: no B-card feature snapshot at %s (run `qiandun features --set bcard --as-of %s` first)", s.l.TableDir(snap), asOf)
	}
	mr, err := score.ScoreTable(ctx, s.db, score.Options{Lake: o.Lake, AsOf: asOf, Set: "bcard", Workers: o.Workers}, s.m, "bscore")
	if err != nil {
		return nil, fmt.Errorf("warn: %w", err)
	}
	steps := []string{
		"SET VARIABLE as_of = DATE " + lake.Quote(asOf),
		"CREATE OR REPLACE VIEW snap AS SELECT * FROM read_parquet(" + lake.Quote(s.l.Glob(snap)) + ")",
		"CREATE OR REPLACE TABLE signals AS\n" + signalsSQL,
		"CREATE OR REPLACE TABLE ranked AS\n" + rankSQL(o.Config),
	}
	for _, q := range steps {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("warn: %s: %w", firstLine(q), err)
		}
	}
	return mr, nil
}

func firstLine(q string) string {
	l, _, _ := strings.Cut(q, "\n")
	return l
}

// NoPriority is the priority of a loan no rule flags (ranked after all
// flagged loans, by PD).
const NoPriority = 999

// rankSQL turns the signals into reasons, priority, action, queue and rank.
func rankSQL(c Config) string {
	rules := c.enabled()
	var reasons, prio, primary, action, queue []string
	for _, r := range rules {
		sig := "s_" + r.Name
		reasons = append(reasons, fmt.Sprintf("CASE WHEN %s THEN '%s' END", sig, r.Name))
		prio = append(prio, fmt.Sprintf("CASE WHEN %s THEN %d END", sig, r.Priority))
		primary = append(primary, fmt.Sprintf("WHEN %s AND priority = %d THEN '%s'", sig, r.Priority, r.Name))
		action = append(action, fmt.Sprintf("WHEN '%s' THEN %s", r.Name, lake.Quote(r.Action)))
		queue = append(queue, fmt.Sprintf("WHEN '%s' THEN %s", r.Name, lake.Quote(r.Queue)))
	}
	if len(rules) == 0 {
		return fmt.Sprintf("SELECT *, '' AS reasons, %d AS priority, CAST(NULL AS VARCHAR) AS primary_reason, CAST(NULL AS VARCHAR) AS action, CAST(NULL AS VARCHAR) AS queue, CAST(row_number() OVER (ORDER BY pd DESC, loan_id) AS INTEGER) AS rank FROM signals", NoPriority)
	}
	return fmt.Sprintf(`WITH p AS (
    SELECT *, concat_ws(';', %s) AS reasons,
           CAST(coalesce(least(%s), %d) AS INTEGER) AS priority
    FROM signals
), q AS (
    SELECT *, CASE %s END AS primary_reason FROM p
)
SELECT *, CASE primary_reason %s END AS action, CASE primary_reason %s END AS queue,
       CAST(row_number() OVER (ORDER BY priority, pd DESC, loan_id) AS INTEGER) AS rank
FROM q`, strings.Join(reasons, ", "), strings.Join(prio, ", "), NoPriority, strings.Join(primary, " "),
		strings.Join(action, " "), strings.Join(queue, " "))
}

// Run builds and publishes the early-warning list at o.AsOf.
func Run(ctx context.Context, o Options) (*Manifest, string, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !dateRE.MatchString(o.AsOf) {
		return nil, "", fmt.Errorf("warn: --as-of %q: want YYYY-MM-DD", o.AsOf)
	}
	if o.Out == "" {
		return nil, "", fmt.Errorf("warn: --out is required")
	}
	start := time.Now()
	s, err := open(ctx, o)
	if err != nil {
		return nil, "", err
	}
	defer s.close()
	mr, err := s.rank(ctx, o, o.AsOf)
	if err != nil {
		return nil, "", err
	}
	mr.Dir = o.Model
	mr.Monitoring.Log(log, s.m.Name)
	final := filepath.Join(o.Out, o.AsOf)
	pub, err := publish.Begin(final)
	if err != nil {
		return nil, "", err
	}
	defer pub.Abort()
	man := &Manifest{SchemaVersion: SchemaVersion, Kind: "early_warning", AsOf: o.AsOf, CodeVersion: version.String(),
		Model: *mr, Rules: o.Config.enabled(), Thresholds: o.Config.Thresholds, Columns: Columns,
		ByReason: map[string]int64{}, ByAction: map[string]int64{}, ByPriority: map[string]int64{}}
	sel := fmt.Sprintf(`SELECT rank, CAST(loan_id AS VARCHAR) AS loan_id, CAST(borrower_id AS VARCHAR) AS borrower_id, DATE %s AS as_of,
  %s AS model, %s AS model_version, score, pd, grade, priority, primary_reason, reasons, action, queue,
  dpd, bucket, outstanding_principal, ltv
FROM ranked WHERE priority < %d ORDER BY rank`, lake.Quote(o.AsOf), lake.Quote(s.m.Name), lake.Quote(s.m.Version), NoPriority)
	csvSel, err := neutralised(ctx, s.conn, sel)
	if err != nil {
		return nil, "", fmt.Errorf("warn: %w", err)
	}
	for _, f := range []struct{ name, sel, opts string }{{"ews.parquet", sel, "FORMAT parquet, COMPRESSION zstd"}, {"ews.csv", csvSel, "FORMAT csv, HEADER"}} {
		if _, err := s.conn.ExecContext(ctx, "COPY ("+f.sel+") TO "+lake.Quote(pub.Path(f.name))+" ("+f.opts+")"); err != nil {
			return nil, "", fmt.Errorf("warn: write %s: %w", f.name, err)
		}
	}
	if err := s.conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE priority < %d) FROM ranked", NoPriority)).Scan(&man.ActiveLoans, &man.Rows); err != nil {
		return nil, "", fmt.Errorf("warn: %w", err)
	}
	pub.Written("ews.parquet", man.Rows)
	pub.Written("ews.csv", man.Rows)
	for _, g := range []struct {
		expr string
		into map[string]int64
	}{
		{"unnest(string_split(reasons, ';'))", man.ByReason},
		{"action", man.ByAction},
		{"CAST(priority AS VARCHAR)", man.ByPriority},
	} {
		rows, err := s.conn.QueryContext(ctx, fmt.Sprintf("SELECT k, count(*) FROM (SELECT %s AS k FROM ranked WHERE priority < %d) GROUP BY k", g.expr, NoPriority))
		if err != nil {
			return nil, "", fmt.Errorf("warn: %w", err)
		}
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return nil, "", err
			}
			g.into[k] = n
		}
		rows.Close()
	}
	if man.Files, err = pub.Files(); err != nil {
		return nil, "", err
	}
	if err := pub.Commit(man); err != nil {
		return nil, "", err
	}
	log.Info("warn: published", "dir", final, "active_loans", man.ActiveLoans, "listed", man.Rows, "seconds", math.Round(time.Since(start).Seconds()*1000)/1000)
	return man, final, nil
}

// SizeResult is one list size of a back-test.
type SizeResult struct {
	Share    float64 `json:"share_of_active"` // list size as a share of active loans (0.01 = top 1%)
	Loans    int64   `json:"loans"`
	Caught   int64   `json:"bads_caught"`
	Captured float64 `json:"captured"`        // caught / bads
	Random   float64 `json:"random_expected"` // expected capture of a random list of the same size
}

// Month is the back-test of one month end.
type Month struct {
	AsOf    string       `json:"as_of"`
	Active  int64        `json:"active_loans"`
	Labeled int64        `json:"labelled_loans"`
	Bads    int64        `json:"bads"`
	Listed  int64        `json:"listed_by_rules"`
	Sizes   []SizeResult `json:"sizes"`
	Rules   SizeResult   `json:"rules_list"` // the list as published (loans any rule flags)
}

// Backtest is a back-test over month ends; Total pools the months.
type Backtest struct {
	Model     string       `json:"model"`
	Months    []Month      `json:"months"`
	Total     []SizeResult `json:"total"`
	Rules     SizeResult   `json:"rules_list"`
	RuleStats []RuleStat   `json:"rule_stats"`
	Bads      int64        `json:"bads"`
	Labelled  int64        `json:"labelled_loan_months"`
	Active    int64        `json:"active_loan_months"`
	// Populations are the same month ends restricted to the loans where
	// a warning is early: current at the month end (DPD 0) and in M1
	// (DPD 1-30). Loans already in M2+ or out of contact go bad at
	// 79-100% and need no warning; pooled figures are dominated by them.
	Populations []Population `json:"populations"`
}

// Population is the back-test of one population of loans, pooled over
// the month ends, on the loan-months with a B-card label (good or bad;
// a loan too young for the label, or with an indeterminate outcome, is
// left out, so that an unlabelled loan at the top of the ranking does not
// read as a miss): the top of the B-card's PD ranking among these loans
// (Sizes: the share p of the population with the highest PD; Random = p),
// the published list restricted to them (List: loans any rule flags), and
// each rule on them.
type Population struct {
	Name     string       `json:"name"` // current | m1
	Filter   string       `json:"filter"`
	Active   int64        `json:"active_loan_months"`
	Labelled int64        `json:"labelled_loan_months"`
	Bads     int64        `json:"bads"`
	Sizes    []SizeResult `json:"sizes"`
	List     SizeResult   `json:"rules_list"`
	Rules    []PopRule    `json:"rules"`
}

// BadRate is the population's next-six-month bad rate.
func (p *Population) BadRate() float64 { return ratio(float64(p.Bads), float64(p.Labelled)) }

// PopRule is one rule on one population: Captured is the share of the
// population's bads among the loans it flags, Lift their bad rate over
// the population's.
type PopRule struct {
	Name     string  `json:"name"`
	Flagged  int64   `json:"flagged"`
	Labelled int64   `json:"labelled"`
	Bads     int64   `json:"bads"`
	Coverage float64 `json:"coverage"`
	Captured float64 `json:"captured"`
	BadRate  float64 `json:"bad_rate"`
	Lift     float64 `json:"lift"`
}

// populations are the back-test's early-warning populations.
var populations = []struct{ name, filter string }{
	{"current", "dpd = 0"},
	{"m1", "dpd BETWEEN 1 AND 30"},
}

// BadRate is the next-six-month bad rate of the labelled loan-months.
func (bt *Backtest) BadRate() float64 { return ratio(float64(bt.Bads), float64(bt.Labelled)) }

// RuleStat is one rule's record over the back-test's month ends, pooled:
// how much of the book it flags and how much riskier the flagged loans
// are than the book (lift = their bad rate / the labelled book's).
type RuleStat struct {
	Name     string  `json:"name"`
	Flagged  int64   `json:"flagged"`       // loan-months the rule fires on
	Primary  int64   `json:"primary"`       // ... of which it is the primary reason
	Only     int64   `json:"only"`          // ... flagged by no other rule
	Labelled int64   `json:"labelled"`      // flagged loan-months with a good/bad label
	Bads     int64   `json:"bads"`          // ... that went bad in the next six months
	OnlyLab  int64   `json:"only_labelled"` // labelled loan-months only this rule flags
	OnlyBads int64   `json:"only_bads"`     // ... that went bad
	Coverage float64 `json:"coverage"`      // Flagged / active loan-months
	BadRate  float64 `json:"bad_rate"`      // Bads / Labelled
	Lift     float64 `json:"lift"`          // BadRate / the book's bad rate
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ListSizes are the back-tested list sizes (share of active loans).
var ListSizes = []float64{0.01, 0.02, 0.05, 0.10, 0.20}

// matureDates are the B-card snapshot month ends between from and to
// (YYYY-MM, empty: open) whose labels are mature (some good or bad, no
// more immature than mature), in order.
func (s *session) matureDates(ctx context.Context, labels, from, to string) ([]string, error) {
	dirs, _ := filepath.Glob(filepath.Join(s.l.TableDir("features/bcard"), "as_of=*"))
	var dates []string
	for _, d := range dirs {
		date := strings.TrimPrefix(filepath.Base(d), "as_of=")
		if !dateRE.MatchString(date) || (from != "" && date[:7] < from) || (to != "" && date[:7] > to) {
			continue
		}
		var mature, immature int64
		if err := s.conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FILTER (WHERE label IN ('good', 'bad')), count(*) FILTER (WHERE label = 'immature') FROM %s WHERE obs_date = DATE %s",
			labels, lake.Quote(date))).Scan(&mature, &immature); err != nil {
			return nil, fmt.Errorf("warn: labels: %w", err)
		}
		if mature == 0 || immature > mature {
			continue // labels not mature at this month end
		}
		dates = append(dates, date)
	}
	sort.Strings(dates)
	if len(dates) == 0 {
		return nil, fmt.Errorf("warn: no B-card snapshot with mature labels in %s..%s under %s", cmp.Or(from, "start"), cmp.Or(to, "end"), s.l.TableDir("features/bcard"))
	}
	return dates, nil
}

// finish turns a population's counts over the months into shares,
// capture rates and lifts.
func (p *Population) finish() {
	for k := range p.Sizes {
		p.Sizes[k].Captured = ratio(float64(p.Sizes[k].Caught), float64(p.Bads))
		p.Sizes[k].Random = p.Sizes[k].Share
	}
	p.List.Share = ratio(float64(p.List.Loans), float64(p.Active))
	p.List.Captured = ratio(float64(p.List.Caught), float64(p.Bads))
	p.List.Random = p.List.Share
	for k := range p.Rules {
		r := &p.Rules[k]
		r.Coverage = ratio(float64(r.Flagged), float64(p.Active))
		r.Captured = ratio(float64(r.Bads), float64(p.Bads))
		r.BadRate = ratio(float64(r.Bads), float64(r.Labelled))
		r.Lift = ratio(r.BadRate, p.BadRate())
	}
}

// RunBacktest ranks the active loans at each month end from..to (YYYY-MM,
// inclusive; empty = every B-card snapshot whose month has mature labels)
// and measures the share of the next six months' bads the top of the
// list catches.
func RunBacktest(ctx context.Context, o Options, from, to string) (*Backtest, error) {
	s, err := open(ctx, o)
	if err != nil {
		return nil, err
	}
	defer s.close()
	labels, err := s.l.Scan("labels/bcard")
	if err != nil {
		return nil, fmt.Errorf("warn: back-test needs B-card labels: %w", err)
	}
	dates, err := s.matureDates(ctx, labels, from, to)
	if err != nil {
		return nil, err
	}
	bt := &Backtest{Model: s.m.Name + " " + s.m.Version}
	totals := make([]SizeResult, len(ListSizes))
	var rulesTot SizeResult
	stats := map[string]*RuleStat{}
	pops := make([]Population, len(populations))
	for i, p := range populations {
		pops[i] = Population{Name: p.name, Filter: p.filter}
		for _, sz := range ListSizes {
			pops[i].Sizes = append(pops[i].Sizes, SizeResult{Share: sz})
		}
		for _, r := range o.Config.enabled() {
			pops[i].Rules = append(pops[i].Rules, PopRule{Name: r.Name})
		}
	}
	for _, date := range dates {
		if _, err := s.rank(ctx, o, date); err != nil {
			return nil, err
		}
		mo := Month{AsOf: date}
		q := fmt.Sprintf(`WITH r AS (
  SELECT r.rank, r.priority, lb.bad, count(*) OVER () AS active FROM ranked r
  LEFT JOIN (SELECT loan_id, bad FROM %s WHERE obs_date = DATE %s) lb ON lb.loan_id = r.loan_id
)
SELECT count(*), count(bad), coalesce(sum(bad), 0), count(*) FILTER (WHERE priority < %d),
       coalesce(sum(bad) FILTER (WHERE priority < %d), 0)%s
FROM r`, labels, lake.Quote(date), NoPriority, NoPriority, sizeCols())
		dest := []any{&mo.Active, &mo.Labeled, &mo.Bads, &mo.Listed, &mo.Rules.Caught}
		caught := make([]int64, len(ListSizes))
		for k := range ListSizes {
			dest = append(dest, &caught[k])
		}
		if err := s.conn.QueryRowContext(ctx, q).Scan(dest...); err != nil {
			return nil, fmt.Errorf("warn: back-test %s: %w", date, err)
		}
		for k, p := range ListSizes {
			n := int64(math.Ceil(p * float64(mo.Active)))
			n = min(n, mo.Active)
			r := SizeResult{Share: p, Loans: n, Caught: caught[k]}
			r.Captured = ratio(float64(r.Caught), float64(mo.Bads))
			r.Random = ratio(float64(n), float64(mo.Active))
			mo.Sizes = append(mo.Sizes, r)
			totals[k].Share = p
			totals[k].Loans += n
			totals[k].Caught += r.Caught
			totals[k].Random += r.Random * float64(mo.Bads) // expected bads caught
		}
		if err := s.ruleStats(ctx, labels, date, o.Config, stats); err != nil {
			return nil, err
		}
		for i := range pops {
			if err := s.populationStats(ctx, labels, date, o.Config, &pops[i]); err != nil {
				return nil, err
			}
		}
		mo.Rules.Loans = mo.Listed
		mo.Rules.Share = ratio(float64(mo.Listed), float64(mo.Active))
		mo.Rules.Captured = ratio(float64(mo.Rules.Caught), float64(mo.Bads))
		mo.Rules.Random = mo.Rules.Share
		rulesTot.Loans += mo.Listed
		rulesTot.Caught += mo.Rules.Caught
		rulesTot.Random += mo.Rules.Random * float64(mo.Bads)
		bt.Bads += mo.Bads
		bt.Labelled += mo.Labeled
		bt.Active += mo.Active
		bt.Months = append(bt.Months, mo)
		if o.Log != nil {
			o.Log.Info("warn: back-test month", "as_of", date, "active", mo.Active, "bads", mo.Bads, "listed", mo.Listed)
		}
	}
	for k := range totals {
		totals[k].Captured = float64(totals[k].Caught) / math.Max(float64(bt.Bads), 1)
		totals[k].Random /= math.Max(float64(bt.Bads), 1)
	}
	rulesTot.Share = float64(rulesTot.Loans) / math.Max(float64(bt.Active), 1)
	rulesTot.Captured = float64(rulesTot.Caught) / math.Max(float64(bt.Bads), 1)
	rulesTot.Random /= math.Max(float64(bt.Bads), 1)
	bt.Total, bt.Rules = totals, rulesTot
	for i := range pops {
		pops[i].finish()
	}
	bt.Populations = pops
	for _, r := range o.Config.enabled() {
		st := stats[r.Name]
		st.Coverage = ratio(float64(st.Flagged), float64(bt.Active))
		st.BadRate = ratio(float64(st.Bads), float64(st.Labelled))
		st.Lift = ratio(st.BadRate, bt.BadRate())
		bt.RuleStats = append(bt.RuleStats, *st)
	}
	return bt, nil
}

// ruleStats adds each enabled rule's counts at one month end (table
// ranked) to stats.
func (s *session) ruleStats(ctx context.Context, labels, date string, c Config, stats map[string]*RuleStat) error {
	for _, r := range c.enabled() {
		st := stats[r.Name]
		if st == nil {
			st = &RuleStat{Name: r.Name}
			stats[r.Name] = st
		}
		q := fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE r.primary_reason = %[1]s), count(*) FILTER (WHERE r.reasons = %[1]s),
       count(lb.bad), coalesce(sum(lb.bad), 0), count(lb.bad) FILTER (WHERE r.reasons = %[1]s), coalesce(sum(lb.bad) FILTER (WHERE r.reasons = %[1]s), 0)
FROM ranked r
LEFT JOIN (SELECT loan_id, bad FROM %[2]s WHERE obs_date = DATE %[3]s) lb ON lb.loan_id = r.loan_id
WHERE r.s_%[4]s`, lake.Quote(r.Name), labels, lake.Quote(date), r.Name)
		var f, p, only, lab, bads, onlyLab, onlyBads int64
		if err := s.conn.QueryRowContext(ctx, q).Scan(&f, &p, &only, &lab, &bads, &onlyLab, &onlyBads); err != nil {
			return fmt.Errorf("warn: back-test %s rule %s: %w", date, r.Name, err)
		}
		st.Flagged += f
		st.Primary += p
		st.Only += only
		st.Labelled += lab
		st.Bads += bads
		st.OnlyLab += onlyLab
		st.OnlyBads += onlyBads
	}
	return nil
}

// populationStats adds one month end's counts (table ranked) of the
// loans of population p to p: the top of the PD ranking among them, the
// list and each rule.
func (s *session) populationStats(ctx context.Context, labels, date string, c Config, p *Population) error {
	var cols strings.Builder
	for _, sz := range ListSizes {
		fmt.Fprintf(&cols, ",\n       coalesce(sum(bad) FILTER (WHERE prank <= ceil(%v * n)), 0), count(*) FILTER (WHERE prank <= ceil(%v * n))", sz, sz)
	}
	for _, r := range c.enabled() {
		fmt.Fprintf(&cols, ",\n       count(*) FILTER (WHERE s_%[1]s), count(bad) FILTER (WHERE s_%[1]s), coalesce(sum(bad) FILTER (WHERE s_%[1]s), 0)", r.Name)
	}
	q := fmt.Sprintf(`WITH r AS (
  SELECT r.*, lb.bad, row_number() OVER (ORDER BY r.pd DESC, r.loan_id) AS prank, count(*) OVER () AS n
  FROM ranked r
  LEFT JOIN (SELECT loan_id, bad FROM %s WHERE obs_date = DATE %s) lb ON lb.loan_id = r.loan_id
  WHERE r.%s AND lb.bad IS NOT NULL
)
SELECT count(*), count(bad), coalesce(sum(bad), 0), count(*) FILTER (WHERE priority < %d),
       coalesce(sum(bad) FILTER (WHERE priority < %d), 0)%s
FROM r`, labels, lake.Quote(date), p.Filter, NoPriority, NoPriority, cols.String())
	var active, lab, bads, listed, listBads int64
	dest := []any{&active, &lab, &bads, &listed, &listBads}
	sz := make([][2]int64, len(ListSizes))
	for k := range sz {
		dest = append(dest, &sz[k][0], &sz[k][1])
	}
	rc := make([][3]int64, len(p.Rules))
	for k := range rc {
		dest = append(dest, &rc[k][0], &rc[k][1], &rc[k][2])
	}
	if err := s.conn.QueryRowContext(ctx, q).Scan(dest...); err != nil {
		return fmt.Errorf("warn: back-test %s population %s: %w", date, p.Name, err)
	}
	p.Active += active
	p.Labelled += lab
	p.Bads += bads
	p.List.Loans += listed
	p.List.Caught += listBads
	for k := range sz {
		p.Sizes[k].Caught += sz[k][0]
		p.Sizes[k].Loans += sz[k][1]
	}
	for k := range rc {
		p.Rules[k].Flagged += rc[k][0]
		p.Rules[k].Labelled += rc[k][1]
		p.Rules[k].Bads += rc[k][2]
	}
	return nil
}

// sizeCols counts bads in the top ceil(p·active) ranks for each list size.
func sizeCols() string {
	var b strings.Builder
	for _, p := range ListSizes {
		fmt.Fprintf(&b, ",\n       coalesce(sum(bad) FILTER (WHERE rank <= ceil(%v * active)), 0)", p)
	}
	return b.String()
}

// neutralised wraps query sel so that its VARCHAR columns are written to
// CSV with formula-leading cells neutralised (package csvsafe).
func neutralised(ctx context.Context, conn *sql.Conn, sel string) (string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE "+sel+")")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var repl []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return "", err
		}
		if typ == "VARCHAR" {
			repl = append(repl, csvsafe.SQL(lake.Ident(name))+" AS "+lake.Ident(name))
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(repl) == 0 {
		return sel, nil
	}
	return "SELECT * REPLACE (" + strings.Join(repl, ", ") + ") FROM (" + sel + ")", nil
}
