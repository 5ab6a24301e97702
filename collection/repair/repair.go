// Package repair builds the lost-contact repair list (失联修复): for every
// loan whose collection has lost contact with the borrower at an as-of
// date, the channels the lender's own data offers to reach them again,
// ranked — phones on the borrower's other applications (above all one
// made after the loss), phones of other people who applied on the
// borrower's device or from the borrower's IP near the borrower's
// applications (one hop of the anti-fraud graph), and the borrower's
// latest bureau report or inquiry as a sign of activity — each with its
// evidence and recency. Only events strictly before the as-of date are
// used.
//
// The set work is DuckDB SQL (lost.sql, candidates.sql). The list
// (candidates.parquet, candidates.csv) carries tokens only; the
// collection queue (queue.csv, mode 0600) carries the top phones in clear,
// revealed through a Revealer (the PII vault, each reveal audited). The
// directory is published atomically with a manifest (package publish,
// one commit of internal/durable).
//
// Backtest measures the ranking against a list of the channels that
// would have reached each borrower (the generator's _truth/repair.csv):
// how many lost loans get a reaching channel in the top k, against the
// same candidates in a random order.
package repair

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"qiandun/data/lake"
	"qiandun/internal/csvsafe"
	"qiandun/internal/version"
	"qiandun/scoring/publish"
)

//go:embed lost.sql
var lostSQL string

//go:embed candidates.sql
var candidatesSQL string

// SchemaVersion versions the columns of candidates.parquet/.csv and
// queue.csv.
const SchemaVersion = "qiandun.repair/v1"

// Kinds are the channel kinds, strongest first (candidates.sql).
var Kinds = []string{"own_application_after_loss", "linked_device", "own_application", "linked_ip", "bureau_activity"}

// Config weighs the channel kinds and sets the link windows.
type Config struct {
	// Weights per kind; a candidate's score is its kind's weight x
	// 0.5^(days from the evidence to as-of / HalfLifeDays).
	OwnAfterLoss float64 `json:"own_after_loss" yaml:"own_after_loss"`
	Device       float64 `json:"linked_device" yaml:"linked_device"`
	Own          float64 `json:"own_application" yaml:"own_application"`
	IP           float64 `json:"linked_ip" yaml:"linked_ip"`
	Bureau       float64 `json:"bureau_activity" yaml:"bureau_activity"`
	HalfLifeDays float64 `json:"half_life_days" yaml:"half_life_days"`
	// DeviceDays and IPDays: another person's application is linked when
	// it shares a device (an IP) with one of the borrower's applications
	// and is at most this many days from it.
	DeviceDays int `json:"device_days" yaml:"device_days"`
	IPDays     int `json:"ip_days" yaml:"ip_days"`
	// Top is the number of phone candidates per loan in the queue.
	Top int `json:"queue_top" yaml:"queue_top"`
}

// DefaultConfig: a new phone the borrower gave us after the loss first,
// then a housemate's phone (shared device), an older own phone, a phone
// from the same IP (public wifi: weak), and bureau activity last.
func DefaultConfig() Config {
	return Config{OwnAfterLoss: 1, Device: 0.6, Own: 0.4, IP: 0.2, Bureau: 0.1, HalfLifeDays: 180,
		DeviceDays: 365, IPDays: 30, Top: 3}
}

// Validate checks the config.
func (c Config) Validate() error {
	for _, w := range []float64{c.OwnAfterLoss, c.Device, c.Own, c.IP, c.Bureau} {
		if !(w > 0) {
			return fmt.Errorf("repair: every kind's weight must be positive (%+v)", c)
		}
	}
	switch {
	case !(c.HalfLifeDays > 0):
		return fmt.Errorf("repair: half_life_days must be positive, got %g", c.HalfLifeDays)
	case c.DeviceDays < 0 || c.IPDays < 0:
		return fmt.Errorf("repair: device_days and ip_days must be >= 0")
	case c.Top < 1:
		return fmt.Errorf("repair: queue_top must be at least 1, got %d", c.Top)
	}
	return nil
}

func (c Config) vars() map[string]string {
	f := func(v float64) string { return "CAST(" + strconv.FormatFloat(v, 'g', -1, 64) + " AS DOUBLE)" }
	return map[string]string{
		"w_own_after": f(c.OwnAfterLoss), "w_device": f(c.Device), "w_own": f(c.Own), "w_ip": f(c.IP), "w_bureau": f(c.Bureau),
		"half_life_days": f(c.HalfLifeDays), "device_days": strconv.Itoa(c.DeviceDays), "ip_days": strconv.Itoa(c.IPDays),
	}
}

// Revealer returns the clear phone of each token; each reveal is audited
// by the implementation (the PII vault and the lake's audit log).
type Revealer interface {
	Reveal(ctx context.Context, tokens []string) (map[string]string, error)
}

// Options configure a run or a back-test.
type Options struct {
	Lake   string
	AsOf   string // YYYY-MM-DD: events strictly before it count
	Out    string // the list goes to Out/<as_of>/
	Config Config
	// Queue reveals the phones of queue.csv; nil writes no queue.
	Queue  Revealer
	Memory string
	Log    *slog.Logger
}

// Column is one column of a published file.
type Column struct {
	Name, Type, Meaning string
}

// Columns is the contract of candidates.parquet and candidates.csv.
var Columns = []Column{
	{"as_of", "DATE", "the as-of date: events strictly before it count"},
	{"loan_id", "VARCHAR", "the lost-contact loan"},
	{"borrower_id", "VARCHAR", "its borrower"},
	{"lost_at", "TIMESTAMP", "the latest lost_contact event before as_of"},
	{"rank", "INTEGER", "1 = try first: by score, then kind, phone token, application id"},
	{"kind", "VARCHAR", strings.Join(Kinds, " | ")},
	{"phone_token", "VARCHAR", "the candidate phone's token (NULL for bureau_activity)"},
	{"evidence_application_id", "VARCHAR", "the application the phone was found on"},
	{"evidence_borrower_id", "VARCHAR", "whose application it is"},
	{"evidence_time", "TIMESTAMP", "apply time, or the bureau report / inquiry date"},
	{"recency_days", "INTEGER", "days from evidence_time to as_of"},
	{"evidence_count", "INTEGER", "the ways this phone was found"},
	{"score", "DOUBLE", "kind weight x 0.5^(recency_days / half_life_days)"},
	{"evidence", "VARCHAR", "the evidence in words (ids only)"},
}

// QueueColumns is the contract of queue.csv (mode 0600).
var QueueColumns = []Column{
	{"loan_id", "VARCHAR", "the lost-contact loan"},
	{"borrower_id", "VARCHAR", "its borrower"},
	{"rank", "INTEGER", "the candidate's rank in candidates.csv"},
	{"kind", "VARCHAR", "channel kind"},
	{"phone", "VARCHAR", "the phone in clear, from the PII vault"},
	{"recency_days", "INTEGER", "days from the evidence to as_of"},
	{"evidence", "VARCHAR", "the evidence in words"},
}

// Manifest is manifest.json of a repair directory.
type Manifest struct {
	SchemaVersion  string           `json:"schema_version"`
	Kind           string           `json:"kind"`
	AsOf           string           `json:"as_of"`
	CodeVersion    string           `json:"code_version"`
	LostLoans      int64            `json:"lost_loans"`
	WithPhone      int64            `json:"loans_with_a_phone_candidate"`
	Candidates     int64            `json:"candidates"`
	ByKind         map[string]int64 `json:"candidates_by_kind"`
	TopByKind      map[string]int64 `json:"rank1_by_kind"`
	QueueRows      int64            `json:"queue_rows"`
	Rows           int64            `json:"rows"` // rows of candidates.csv (= Candidates), what qiandun run reports
	Config         Config           `json:"config"`
	Files          []publish.File   `json:"files"`
	Columns        []Column         `json:"columns"`
	QueueColumns   []Column         `json:"queue_columns,omitempty"`
	ElapsedSeconds float64          `json:"-"`
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// session is a DuckDB connection with the lake's views and the tables
// lost and candidates at one as-of date.
type session struct {
	db   *sql.DB
	conn *sql.Conn
	tmp  string
}

func open(ctx context.Context, o Options) (*session, error) {
	if o.Lake == "" {
		return nil, errors.New("repair: --lake is required")
	}
	if !dateRE.MatchString(o.AsOf) {
		return nil, fmt.Errorf("repair: --as-of %q: want YYYY-MM-DD", o.AsOf)
	}
	if _, err := time.Parse(time.DateOnly, o.AsOf); err != nil {
		return nil, fmt.Errorf("repair: --as-of %q: %w", o.AsOf, err)
	}
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	lk := lake.New(o.Lake)
	tmp, err := lk.TempDir("repair-*") // emptied by the next writer after a crash
	if err != nil {
		return nil, err
	}
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: o.Memory, TempDir: tmp})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	s := &session{db: db, tmp: tmp}
	if s.conn, err = db.Conn(ctx); err != nil {
		s.close()
		return nil, fmt.Errorf("repair: %w", err)
	}
	steps := []string{"SET VARIABLE as_of = DATE " + lake.Quote(o.AsOf)}
	for k, v := range o.Config.vars() {
		steps = append(steps, "SET VARIABLE "+k+" = "+v)
	}
	for _, t := range []string{"applications", "loans", "collection_events", "bureau_reports", "bureau_inquiries"} {
		src, err := lk.Scan(t)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("repair: %w", err)
		}
		steps = append(steps, "CREATE VIEW "+t+" AS SELECT * FROM "+src)
	}
	for _, q := range steps {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			s.close()
			return nil, fmt.Errorf("repair: %s: %w", firstLine(q), err)
		}
	}
	for _, f := range []struct{ table, file, sql string }{{"lost", "lost.sql", lostSQL}, {"candidates", "candidates.sql", candidatesSQL}} {
		if _, err := s.conn.ExecContext(ctx, "CREATE TABLE "+f.table+" AS\n"+f.sql); err != nil {
			s.close()
			return nil, fmt.Errorf("repair: %s: %w", f.file, err)
		}
	}
	return s, nil
}

func (s *session) close() {
	if s.conn != nil {
		s.conn.Close()
	}
	s.db.Close()
	os.RemoveAll(s.tmp)
}

func firstLine(q string) string {
	l, _, _ := strings.Cut(q, "\n")
	return l
}

// listSQL selects the published list, ordered by loan and rank.
func listSQL(asOf string) string {
	return "SELECT DATE " + lake.Quote(asOf) + ` AS as_of, CAST(loan_id AS VARCHAR) AS loan_id, CAST(borrower_id AS VARCHAR) AS borrower_id,
  lost_at, rank, kind, phone_token, CAST(evidence_application_id AS VARCHAR) AS evidence_application_id,
  CAST(evidence_borrower_id AS VARCHAR) AS evidence_borrower_id, evidence_time, recency_days, evidence_count, score, evidence
FROM candidates ORDER BY loan_id, rank`
}

// Run builds and publishes the repair list at o.AsOf under o.Out.
func Run(ctx context.Context, o Options) (*Manifest, string, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Out == "" {
		return nil, "", errors.New("repair: --out is required")
	}
	start := time.Now()
	s, err := open(ctx, o)
	if err != nil {
		return nil, "", err
	}
	defer s.close()
	final := filepath.Join(o.Out, o.AsOf)
	pub, err := publish.Begin(final)
	if err != nil {
		return nil, "", err
	}
	defer pub.Abort()
	man := &Manifest{SchemaVersion: SchemaVersion, Kind: "lost_contact_repair", AsOf: o.AsOf, CodeVersion: version.String(),
		Config: o.Config, Columns: Columns, ByKind: map[string]int64{}, TopByKind: map[string]int64{}}
	sel := listSQL(o.AsOf)
	csvSel := neutralised(sel)
	for _, f := range []struct{ name, sel, opts string }{
		{"candidates.parquet", sel, "FORMAT parquet, COMPRESSION zstd"},
		{"candidates.csv", csvSel, "FORMAT csv, HEADER"},
	} {
		if _, err := s.conn.ExecContext(ctx, "COPY ("+f.sel+") TO "+lake.Quote(pub.Path(f.name))+" ("+f.opts+")"); err != nil {
			return nil, "", fmt.Errorf("repair: write %s: %w", f.name, err)
		}
	}
	if err := s.conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM lost), count(DISTINCT loan_id) FILTER (WHERE phone_token IS NOT NULL), count(*) FROM candidates`).
		Scan(&man.LostLoans, &man.WithPhone, &man.Candidates); err != nil {
		return nil, "", fmt.Errorf("repair: %w", err)
	}
	man.Rows = man.Candidates
	pub.Written("candidates.parquet", man.Candidates)
	pub.Written("candidates.csv", man.Candidates)
	for _, g := range []struct {
		where string
		into  map[string]int64
	}{{"true", man.ByKind}, {"rank = 1", man.TopByKind}} {
		if err := countBy(ctx, s.conn, "SELECT kind, count(*) FROM candidates WHERE "+g.where+" GROUP BY kind", g.into); err != nil {
			return nil, "", err
		}
	}
	if o.Queue != nil {
		if man.QueueRows, err = writeQueue(ctx, s.conn, o, pub.Path("queue.csv")); err != nil {
			return nil, "", err
		}
		pub.Written("queue.csv", man.QueueRows)
		man.QueueColumns = QueueColumns
	}
	if man.Files, err = pub.Files(); err != nil {
		return nil, "", err
	}
	if err := pub.Commit(man); err != nil {
		return nil, "", err
	}
	man.ElapsedSeconds = time.Since(start).Seconds()
	log.Info("repair: published", "dir", final, "lost_loans", man.LostLoans, "with_phone", man.WithPhone,
		"candidates", man.Candidates, "queue_rows", man.QueueRows, "seconds", man.ElapsedSeconds)
	return man, final, nil
}

func countBy(ctx context.Context, conn *sql.Conn, q string, into map[string]int64) error {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("repair: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("repair: %w", err)
		}
		into[k] = n
	}
	return rows.Err()
}

// neutralised wraps the list query so that its text cells cannot be read
// as spreadsheet formulas (package csvsafe).
func neutralised(sel string) string {
	var repl []string
	for _, c := range Columns {
		if c.Type == "VARCHAR" {
			repl = append(repl, csvsafe.SQL(lake.Ident(c.Name))+" AS "+lake.Ident(c.Name))
		}
	}
	return "SELECT * REPLACE (" + strings.Join(repl, ", ") + ") FROM (" + sel + ")"
}

type queueRow struct {
	loan, borrower, kind, token, evidence string
	rank, recency                         int
}

// writeQueue writes queue.csv (0600): the top Config.Top phone candidates
// of each lost loan with the phone revealed. The list is small (a few
// per lost loan), so it is read into Go.
func writeQueue(ctx context.Context, conn *sql.Conn, o Options, path string) (int64, error) {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT CAST(loan_id AS VARCHAR), CAST(borrower_id AS VARCHAR), kind, phone_token, evidence, rank, recency_days
FROM (SELECT *, row_number() OVER (PARTITION BY loan_id ORDER BY rank) AS k FROM candidates WHERE phone_token IS NOT NULL)
WHERE k <= %d ORDER BY loan_id, rank`, o.Config.Top))
	if err != nil {
		return 0, fmt.Errorf("repair: queue: %w", err)
	}
	var q []queueRow
	seen := map[string]bool{}
	var tokens []string
	for rows.Next() {
		var r queueRow
		if err := rows.Scan(&r.loan, &r.borrower, &r.kind, &r.token, &r.evidence, &r.rank, &r.recency); err != nil {
			rows.Close()
			return 0, fmt.Errorf("repair: queue: %w", err)
		}
		q = append(q, r)
		if !seen[r.token] {
			seen[r.token] = true
			tokens = append(tokens, r.token)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("repair: queue: %w", err)
	}
	sort.Strings(tokens)
	phones, err := o.Queue.Reveal(ctx, tokens)
	if err != nil {
		return 0, fmt.Errorf("repair: queue: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("repair: queue: %w", err)
	}
	w := csv.NewWriter(f)
	head := make([]string, len(QueueColumns))
	for i, c := range QueueColumns {
		head[i] = c.Name
	}
	w.Write(head)
	for _, r := range q {
		phone, ok := phones[r.token]
		if !ok {
			f.Close()
			return 0, fmt.Errorf("repair: queue: no phone revealed for token %s (loan %s)", r.token, r.loan)
		}
		w.Write(csvsafe.Record([]string{r.loan, r.borrower, strconv.Itoa(r.rank), r.kind, phone, strconv.Itoa(r.recency), r.evidence}))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return 0, fmt.Errorf("repair: queue %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("repair: queue %s: %w", path, err)
	}
	return int64(len(q)), nil
}

// LoadConfig reads a YAML (or JSON) config over DefaultConfig; an unknown
// key is an error naming the file. An empty path gives the defaults.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	if path == "" {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("repair config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("repair config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("repair config %s: %w", path, err)
	}
	return c, nil
}
