//go:build duckdb_arrow

package score

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"qiandun/data/lake"
	"qiandun/features"
	"qiandun/internal/duckstream"
	"qiandun/internal/version"
	"qiandun/scoring/monitor"
	"qiandun/scoring/publish"
	"qiandun/training/metrics"
	"qiandun/training/scorecard"
)

// SchemaVersion versions the column contract of scores.parquet/.csv.
// v2: reason_1..3 are codes (inq_7d_total_high), not characteristic=bin,
// and reason_text_1..3 follow them.
const SchemaVersion = "qiandun.scores/v2"

// Column is one column of the published contract.
type Column struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Meaning string `json:"meaning"`
}

// Columns is the contract of scores.parquet and scores.csv (same columns,
// same order; CSV is UTF-8 with a header, NULL written as empty).
var Columns = []Column{
	{"entity_id", "VARCHAR", "application_id (A-card), loan_id (B-card), the --id column, or the 1-based row number of a flat file"},
	{"as_of", "DATE", "the as-of date of the run"},
	{"model", "VARCHAR", "model name"},
	{"model_version", "VARCHAR", "model version"},
	{"score", "INTEGER", "scorecard points, rounded half away from zero; higher = lower risk"},
	{"pd", "DOUBLE", "probability of bad implied by the exact (unrounded) score"},
	{"grade", "VARCHAR", "A (best) to E by the score cut-offs in the manifest"},
	{"reason_1", "VARCHAR", "reason code <characteristic>_<high|low|missing|special|risky> of the characteristic whose points fall furthest below its best bin; NULL when none"},
	{"reason_2", "VARCHAR", "second reason code; NULL when none"},
	{"reason_3", "VARCHAR", "third reason code; NULL when none"},
	{"reason_text_1", "VARCHAR", "text of reason_1 from the reason catalog, Chinese / English, at most 64 characters; NULL when none"},
	{"reason_text_2", "VARCHAR", "text of reason_2; NULL when none"},
	{"reason_text_3", "VARCHAR", "text of reason_3; NULL when none"},
	{"fraud_flags", "VARCHAR", "';'-joined fraud flags of the application (A-card), sorted; empty when none"},
	{"decision", "VARCHAR", "A-card (and flat files): approve | review | decline; B-card: maintain | monitor | act (rules bcard_decisions); from the decision rules in the manifest"},
}

// Options configure a scoring run. Give Lake and AsOf (lake mode), or
// Data (flat mode).
type Options struct {
	Lake string
	AsOf string // YYYY-MM-DD; required in lake mode, defaults to today in flat mode
	Set  string // acard | bcard; default from the model's training settings

	Data     string
	ID       string // entity id column (flat mode); default the row number
	Target   string // with BadValue: validation metrics
	BadValue string

	Models    []string // model directories (<models>/<name>/<version>)
	Out       string   // the run is published at Out/<as_of>/
	Rules     Rules
	BatchRows int
	Workers   int
	Memory    string // DuckDB memory_limit (default 3GB)
	Log       *slog.Logger

	// AllowEmpty publishes an input with no rows as an empty batch;
	// without it such a run is refused and nothing is published.
	AllowEmpty bool
	// AllowDuplicateIDs scores every row of an input whose entity ids
	// repeat, with a warning; without it such a run is refused, naming
	// the first duplicated id and how often it appears.
	AllowDuplicateIDs bool
	// Full scores every application of the A-card snapshot; otherwise
	// lake mode scores the A-card's scoring window only (see Window).
	Full bool
}

// FallbackCount is how many rows of a characteristic took its fallback bin.
type FallbackCount struct {
	Variable string `json:"variable"`
	Bin      string `json:"fallback_bin"`
	Rows     int64  `json:"rows"`
}

// ModelRun is one model's part of a run.
type ModelRun struct {
	Name         string           `json:"name"`
	Version      string           `json:"version"`
	Checksum     string           `json:"checksum"`
	Dir          string           `json:"dir"`
	Set          string           `json:"set,omitempty"`
	Input        string           `json:"input"`
	Rows         int64            `json:"rows"`
	GradeCutoffs map[string]int   `json:"grade_min_score"`
	Grades       map[string]int64 `json:"grades"`
	Decisions    map[string]int64 `json:"decisions"`
	Fallbacks    []FallbackCount  `json:"fallback_bins"`
	Monitoring   monitor.Report   `json:"monitoring"`
	Validation   *Validation      `json:"validation,omitempty"`
	Window       *Window          `json:"window,omitempty"`
}

// Window is the A-card's scoring window in lake mode: the applications
// with From <= apply_time < To (the as-of date; the snapshot holds the
// applications before it). From is the as-of date of the previous
// published run under the output root (Since "previous_run"), else the
// first day of the as-of month (Since "as_of_month"). A run with Full
// scores the whole snapshot and has no window.
type Window struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Since string `json:"since"`
}

func (w *Window) String() string {
	return "applications from " + w.From + " to before " + w.To + ", " + strings.ReplaceAll(w.Since, "_", " ")
}

// ScoringWindow returns the A-card window of a run at asOf publishing
// under out (see Window): from the as-of date of the previous run
// published there, else from the first day of the as-of month.
func ScoringWindow(out, asOf string) (*Window, error) {
	w := &Window{From: asOf[:8] + "01", To: asOf, Since: "as_of_month"}
	if out == "" {
		return w, nil
	}
	ents, err := os.ReadDir(out)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("score: previous runs in %s: %w", out, err)
	}
	prev := ""
	for _, e := range ents {
		n := e.Name()
		if !dateRE.MatchString(n) || n >= asOf || n <= prev {
			continue
		}
		// A published run: its manifest is there (written last but _SUCCESS).
		if _, err := os.Stat(filepath.Join(out, n, "manifest.json")); err == nil {
			prev = n
		}
	}
	if prev != "" {
		w.From, w.Since = prev, "previous_run"
	}
	return w, nil
}

// Validation holds the metrics against a --target.
type Validation struct {
	Target   string         `json:"target"`
	BadValue string         `json:"bad_value"`
	N        int            `json:"n"`
	Bads     int            `json:"bads"`
	AUC      float64        `json:"auc"`
	Gini     float64        `json:"gini"`
	KS       float64        `json:"ks"`
	Gains    []metrics.Band `json:"gains"`
}

// Manifest is manifest.json of a scores directory.
type Manifest struct {
	SchemaVersion string         `json:"schema_version"`
	Kind          string         `json:"kind"`
	AsOf          string         `json:"as_of"`
	CodeVersion   string         `json:"code_version"`
	Mode          string         `json:"mode"`
	Rows          int64          `json:"rows"`
	Models        []ModelRun     `json:"models"`
	Rules         Rules          `json:"rules"`
	Files         []publish.File `json:"files"`
	Columns       []Column       `json:"columns"`
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Run scores, publishes Out/<as_of>/ and returns its manifest.
func Run(ctx context.Context, o Options) (*Manifest, string, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkOptions(&o); err != nil {
		return nil, "", err
	}
	// Load and check every model before anything is written.
	var models []*scorecard.Model
	for _, dir := range o.Models {
		m, err := scorecard.Load(dir)
		if err != nil {
			return nil, "", fmt.Errorf("score: refusing model %s: %w", dir, err)
		}
		models = append(models, m)
	}
	// Spill into the lake's temporary area in lake mode (emptied by the
	// next writer after a crash), the system's otherwise.
	tmpDB, err := spillDir(o.Lake, "score-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(tmpDB)
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: o.Memory, TempDir: tmpDB})
	if err != nil {
		return nil, "", err
	}
	defer db.Close()
	plans := make([]*plan, len(models))
	for i, m := range models {
		p, err := makePlan(ctx, db, o, m)
		if err != nil && inputError(err) {
			return nil, "", fmt.Errorf("score: refusing input: %w", err)
		}
		if err != nil {
			return nil, "", fmt.Errorf("score: refusing model %s %s (%s): %w", m.Name, m.Version, o.Models[i], err)
		}
		p.dir = o.Models[i]
		plans[i] = p
	}

	final := filepath.Join(o.Out, o.AsOf)
	pub, err := publish.Begin(final)
	if err != nil {
		return nil, "", err
	}
	defer pub.Abort()
	man := &Manifest{SchemaVersion: SchemaVersion, Kind: "scores", AsOf: o.AsOf, CodeVersion: version.String(),
		Mode: map[bool]string{true: "lake", false: "flat"}[o.Lake != ""], Rules: o.Rules, Columns: Columns}
	if err := scoreAll(ctx, db, o, log, plans, pub, man); err != nil {
		return nil, "", err
	}
	pub.Written("scores.parquet", man.Rows)
	pub.Written("scores.csv", man.Rows)
	for _, mr := range man.Models {
		if mr.Validation != nil {
			if err := writeGains(pub, mr.Name, mr.Validation, len(man.Models) > 1); err != nil {
				return nil, "", err
			}
		}
	}
	if man.Files, err = pub.Files(); err != nil {
		return nil, "", err
	}
	if err := pub.Commit(man); err != nil {
		return nil, "", err
	}
	log.Info("score: published", "dir", final, "rows", man.Rows)
	return man, final, nil
}

// checkOptions checks o and fills its defaults (the rules, the as-of date
// of a flat-file run).
func checkOptions(o *Options) error {
	lakeMode := o.Lake != ""
	if lakeMode == (o.Data != "") {
		return fmt.Errorf("score: give exactly one of --lake or --data")
	}
	if o.Rules.GradePD == nil && o.Rules.GradeCutoffs == nil {
		o.Rules = DefaultRules()
	}
	if o.Out == "" {
		return fmt.Errorf("score: --out is required")
	}
	if len(o.Models) == 0 {
		return fmt.Errorf("score: no model given")
	}
	if o.AsOf == "" {
		if lakeMode {
			return fmt.Errorf("score: --as-of is required with --lake")
		}
		o.AsOf = time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	}
	if !dateRE.MatchString(o.AsOf) {
		return fmt.Errorf("score: --as-of %q: want YYYY-MM-DD", o.AsOf)
	}
	if _, err := time.Parse(time.DateOnly, o.AsOf); err != nil {
		return fmt.Errorf("score: --as-of %q: %w", o.AsOf, err)
	}
	if (o.Target == "") != (o.BadValue == "") {
		return fmt.Errorf("score: --target and --bad-value go together")
	}
	return nil
}

// scoreAll scores every plan into pub's scores.csv and scores.parquet
// (one model writes the Parquet file itself; several write parts that
// DuckDB combines) and records each model's result in man.
func scoreAll(ctx context.Context, db *sql.DB, o Options, log *slog.Logger, plans []*plan, pub *publish.Dir, man *Manifest) error {
	csvF, err := pub.Create("scores.csv") // hashed as written
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	defer csvF.Close()
	bw := bufio.NewWriterSize(csvF, 1<<20)
	if _, err := bw.WriteString(CSVHeader); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	var parts []string
	for i, p := range plans {
		var pq interface {
			io.Writer
			Close() error
		}
		if len(plans) == 1 {
			pq, err = pub.Create("scores.parquet")
		} else {
			part := pub.Path(fmt.Sprintf(".part-%d.parquet", i))
			parts = append(parts, part)
			pq, err = os.Create(part)
		}
		if err != nil {
			return fmt.Errorf("score: %w", err)
		}
		start := time.Now()
		mr, st, err := p.stream(ctx, o, pq, bw)
		if err == nil {
			err = pq.Close()
		} else {
			pq.Close()
		}
		if err == nil {
			if err = p.checkInput(ctx, db, o, log, mr.Rows, st); err != nil {
				err = fmt.Errorf("score: refusing input: %w", err)
			}
		}
		if err != nil {
			return err
		}
		man.Rows += mr.Rows
		man.Models = append(man.Models, *mr)
		logScored(log, p.m, mr, time.Since(start).Seconds())
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	if err := csvF.Close(); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	if len(parts) > 1 {
		list := make([]string, len(parts))
		for i, p := range parts {
			list[i] = lake.Quote(p)
		}
		q := fmt.Sprintf("COPY (SELECT * FROM read_parquet([%s])) TO %s (FORMAT parquet, COMPRESSION snappy)", strings.Join(list, ", "), lake.Quote(pub.Path("scores.parquet")))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("score: combine parts: %w", err)
		}
		for _, p := range parts {
			os.Remove(p)
		}
	}
	return nil
}

// logScored logs a model's rows, speed, monitoring and validation.
func logScored(log *slog.Logger, m *scorecard.Model, mr *ModelRun, secs float64) {
	log.Info("score: scored", "model", m.Name, "version", m.Version, "rows", mr.Rows, "seconds", round3(secs),
		"rows_per_s", math.Round(float64(mr.Rows)/math.Max(secs, 1e-9)), "score_psi", round3(mr.Monitoring.ScorePSI))
	mr.Monitoring.Log(log, m.Name)
	if mr.Validation != nil {
		log.Info("score: validation", "model", m.Name, "n", mr.Validation.N, "bads", mr.Validation.Bads,
			"auc", round3(mr.Validation.AUC), "ks", round3(mr.Validation.KS), "gini", round3(mr.Validation.Gini))
	}
}

func writeGains(pub *publish.Dir, name string, v *Validation, prefix bool) error {
	var b strings.Builder
	b.WriteString("band,lower_pd,upper_pd,n,bads,bad_rate,cum_bad_pct,cum_good_pct,lift,cum_lift\n")
	for _, g := range v.Gains {
		fmt.Fprintf(&b, "%d,%g,%g,%d,%d,%g,%g,%g,%g,%g\n", g.Band, g.Lower, g.Upper, g.N, g.Bads, g.BadRate, g.CumBadPct, g.CumGoodPct, g.Lift, g.CumLift)
	}
	file := "gains.csv"
	if prefix {
		file = name + "_gains.csv"
	}
	return pub.WriteFile(file, []byte(b.String()), int64(len(v.Gains)))
}

func round3(v float64) float64 { return math.Round(v*1e3) / 1e3 }

// plan is one model's checked input.
type plan struct {
	m      *scorecard.Model
	s      *Scorer
	dir    string
	set    string
	input  string
	src    string // the input's table function
	idExpr string // the entity id, of src's rows as f; empty: the row number
	query  string
	window *Window // A-card scoring window; nil for a full run
	layout Layout
	// readThreads is 1 for a flat Parquet file: a plain scan in order costs less
	// CPU on one DuckDB thread than on several (whose batches must be
	// buffered back into order), and the scorer has the other cores.
	// A lake snapshot is joined and sorted, and a CSV file is parsed in
	// parallel: DuckDB's default.
	readThreads int
}

// typeOK reports whether an input column of DuckDB type duckType may feed
// a characteristic of kind ("numeric" or "categorical"): integers, floats
// and decimals for a numeric one; integers, VARCHAR and BOOLEAN for a
// categorical one. Each accepted type is one the column adapter
// (internal/arrowcol) converts.
func typeOK(kind, duckType string) bool {
	t := strings.ToUpper(duckType)
	integer := false
	switch t {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
		integer = true
	}
	if kind == "numeric" {
		return integer || t == "FLOAT" || t == "DOUBLE" || strings.HasPrefix(t, "DECIMAL")
	}
	return integer || t == "VARCHAR" || t == "BOOLEAN"
}

// checkColumns reads the input's column types (DuckDB's DESCRIBE of src)
// and checks them against the card: every characteristic present, of a
// type its kind takes (typeOK). It returns the types by column.
func checkColumns(ctx context.Context, db *sql.DB, m *scorecard.Model, src, input string) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+src+")")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", input, err)
	}
	types := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			rows.Close()
			return nil, err
		}
		types[n] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", input, err)
	}
	var missing, wrong, wrongCols []string
	for _, c := range m.Characteristics() {
		t, ok := types[c.Name]
		switch {
		case !ok:
			missing = append(missing, c.Name)
		case !typeOK(c.Kind.String(), t):
			wrong = append(wrong, fmt.Sprintf("%s is %s in the card but %s in the input", c.Name, c.Kind, t))
			wrongCols = append(wrongCols, c.Name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("%d characteristic(s) missing from %s: %s", len(missing), input, strings.Join(missing, ", "))
	}
	if len(wrong) > 0 {
		if err := explainTypes(ctx, db, src, input, wrongCols); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("type mismatch in %s: %s", input, strings.Join(wrong, "; "))
	}
	return types, nil
}

func makePlan(ctx context.Context, db *sql.DB, o Options, m *scorecard.Model) (*plan, error) {
	s, err := NewScorer(m, o.Rules)
	if err != nil {
		return nil, err
	}
	p := &plan{m: m, s: s}
	s.SetDecisionNames(o.Rules.DecisionNames(cmp.Or(o.Set, m.Settings["model"])))
	var src, idExpr, flagsJoin, order, where string
	if o.Lake != "" {
		l := lake.New(o.Lake)
		p.set = cmp.Or(o.Set, m.Settings["model"])
		key, err := features.Key(p.set)
		if err != nil {
			return nil, fmt.Errorf("the model does not say which feature set it was trained on (acard or bcard); pass --set")
		}
		table := "features/" + p.set + "/as_of=" + o.AsOf
		if !l.Exists(table) {
			return nil, fmt.Errorf("no %s feature snapshot at %s (run `qiandun features --set %s --as-of %s` first)", p.set, l.TableDir(table), p.set, o.AsOf)
		}
		p.input = l.Glob(table)
		src = fmt.Sprintf("read_parquet(%s)", lake.Quote(p.input))
		idExpr = "CAST(f." + key + " AS VARCHAR)"
		order = " ORDER BY f." + key
		if p.set == "acard" && !o.Full {
			if p.window, err = ScoringWindow(o.Out, o.AsOf); err != nil {
				return nil, err
			}
			where = fmt.Sprintf(" WHERE f.apply_time >= TIMESTAMP '%s'", p.window.From)
		}
		if p.set == "acard" {
			flags := "features/fraud_flags/as_of=" + o.AsOf
			if l.Exists(flags) {
				flagsJoin = fmt.Sprintf(" LEFT JOIN (SELECT application_id, string_agg(flag, ';' ORDER BY flag) AS flags FROM read_parquet(%s) GROUP BY application_id) ff USING (application_id)", lake.Quote(l.Glob(flags)))
			}
		}
	} else {
		if err := checkFile(o.Data); err != nil {
			return nil, err
		}
		p.input = o.Data
		switch strings.ToLower(filepath.Ext(o.Data)) {
		case ".parquet", ".pq":
			src = "read_parquet(" + lake.Quote(o.Data) + ")"
		default:
			src = "read_csv(" + lake.Quote(o.Data) + ", header = true)"
		}
		if o.ID != "" {
			idExpr = "CAST(f." + lake.Ident(o.ID) + " AS VARCHAR)"
		}
	}
	// Check the input's columns against the card.
	types, err := checkColumns(ctx, db, m, src, p.input)
	if err != nil {
		return nil, err
	}
	if where != "" {
		if _, ok := types["apply_time"]; !ok {
			return nil, fmt.Errorf("%s has no apply_time column for the scoring window (pass --full to score every row)", p.input)
		}
	}
	for _, c := range []string{o.ID, o.Target} {
		if _, ok := types[c]; c != "" && !ok {
			return nil, fmt.Errorf("column %q not in %s", c, p.input)
		}
	}
	sel := []string{}
	col := 0
	p.layout = Layout{ID: -1, Flags: -1, Target: -1}
	if idExpr != "" {
		sel = append(sel, idExpr+" AS __id")
		p.layout.ID = col
		col++
	}
	names, first, second := CardInputs(m)
	for _, n := range names {
		sel = append(sel, "f."+lake.Ident(n))
	}
	p.layout.Chars, p.layout.Pairs = Offset(first, col), Offset(second, col)
	col += len(names)
	if flagsJoin != "" {
		sel = append(sel, "coalesce(ff.flags, '') AS __flags")
		p.layout.Flags = col
		col++
	}
	if o.Target != "" {
		t := "f." + lake.Ident(o.Target)
		sel = append(sel, fmt.Sprintf("CAST(CASE WHEN %s IS NULL THEN NULL WHEN CAST(%s AS VARCHAR) = %s THEN 1 ELSE 0 END AS DOUBLE) AS __y", t, t, lake.Quote(o.BadValue)))
		p.layout.Target = col
	}
	p.src, p.idExpr = src, idExpr
	p.query = "SELECT " + strings.Join(sel, ", ") + " FROM " + src + " f" + flagsJoin + where + order
	if o.Lake == "" && strings.HasPrefix(src, "read_parquet(") {
		p.readThreads = 1
	}
	return p, nil
}

// CardInputs returns the input columns m reads, each once, in card order
// (scorecard.Model.Characteristics), and for each characteristic the
// position in names of its input (a pair's first) and of a pair's second
// input (−1 for a one-input characteristic; second is nil when m has no
// pair): Layout.Chars and Layout.Pairs relative to the first input column
// (Offset).
func CardInputs(m *scorecard.Model) (names []string, first, second []int) {
	pos := map[string]int{}
	for _, in := range m.Characteristics() {
		pos[in.Name] = len(names)
		names = append(names, in.Name)
	}
	pairs := false
	for j := range m.Chars {
		in := m.Chars[j].InputNames()
		first = append(first, pos[in[0]])
		if len(in) == 2 {
			second, pairs = append(second, pos[in[1]]), true
		} else {
			second = append(second, -1)
		}
	}
	if !pairs {
		second = nil
	}
	return names, first, second
}

// Offset adds off to each non-negative position of pos (nil stays nil).
func Offset(pos []int, off int) []int {
	if pos == nil {
		return nil
	}
	out := make([]int, len(pos))
	for i, p := range pos {
		out[i] = p
		if p >= 0 {
			out[i] = p + off
		}
	}
	return out
}

// ScoreTable scores m on its lake feature snapshot at o.AsOf (o.Lake,
// o.Set as for Run) into the DuckDB table named table, with the columns
// of scores.parquet except as_of, model and model_version. Nothing is
// published; the early-warning stage uses it.
func ScoreTable(ctx context.Context, db *sql.DB, o Options, m *scorecard.Model, table string) (*ModelRun, error) {
	if o.Rules.GradePD == nil && o.Rules.GradeCutoffs == nil {
		o.Rules = DefaultRules()
	}
	p, err := makePlan(ctx, db, o, m)
	if err != nil {
		return nil, fmt.Errorf("score: refusing model %s %s: %w", m.Name, m.Version, err)
	}
	tmp, err := os.MkdirTemp("", "qiandun-score-table-")
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "scores.parquet")
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	mr, _, err := p.stream(ctx, o, f, nil)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("score: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT * EXCLUDE (as_of, model, model_version) FROM read_parquet(%s)", lake.Ident(table), lake.Quote(path))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	return mr, nil
}

// stream scores the plan's input into pq (Parquet) and csv (rows), either
// of which may be nil.
func (p *plan) stream(ctx context.Context, o Options, pq, csv io.Writer) (*ModelRun, *inputStats, error) {
	m := p.m
	// The reading database spills (a lake snapshot's ORDER BY) to its own
	// temporary directory: in the lake's temporary area in lake mode (like
	// the stage's other database), not DuckDB's default .tmp in the
	// working one.
	tmp, err := spillDir(o.Lake, "score-read-")
	if err != nil {
		return nil, nil, fmt.Errorf("score: %w", err)
	}
	defer os.RemoveAll(tmp)
	st := newInputStats(p.layout)
	tot, err := p.s.Run(ctx, Stream{stats: st, Query: p.query, Layout: p.layout, AsOf: o.AsOf, Parquet: pq, CSV: csv,
		BatchRows: o.BatchRows, Workers: o.Workers, KeepPD: o.Target != "",
		Read: duckstream.Options{MemoryLimit: readLimit(o.Memory), TempDir: tmp, Threads: p.readThreads}})
	if err != nil {
		return nil, nil, fmt.Errorf("score: model %s %s on %s: %w", m.Name, m.Version, p.input, err)
	}
	mr := &ModelRun{Name: m.Name, Version: m.Version, Checksum: m.Checksum, Dir: p.dir, Set: p.set, Input: p.input, Rows: tot.Rows,
		GradeCutoffs: map[string]int{}, Grades: map[string]int64{}, Decisions: tot.Decisions, Monitoring: tot.Monitor.Report(), Window: p.window}
	for k, c := range p.s.Cutoffs() {
		mr.GradeCutoffs[Grades[k]] = int(c)
	}
	for g, n := range tot.Grades {
		mr.Grades[Grades[g]] = n
	}
	for j, n := range tot.Fallbacks {
		c := &m.Chars[j]
		mr.Fallbacks = append(mr.Fallbacks, FallbackCount{Variable: c.Name, Bin: c.Bins[c.Fallback].Label, Rows: n})
	}
	if o.Target != "" && tot.Rows > 0 {
		var pd, y []float64
		for i, v := range tot.Y {
			if !math.IsNaN(v) {
				pd, y = append(pd, tot.PD[i]), append(y, v)
			}
		}
		sum, err := metrics.Summarize(pd, y)
		if err != nil {
			return nil, nil, fmt.Errorf("score: validation on %s: %w", o.Target, err)
		}
		gains, err := metrics.Gains(pd, y, 10)
		if err != nil {
			return nil, nil, fmt.Errorf("score: validation on %s: %w", o.Target, err)
		}
		mr.Validation = &Validation{Target: o.Target, BadValue: o.BadValue, N: sum.N, Bads: sum.Bads, AUC: sum.AUC, Gini: sum.Gini, KS: sum.KS, Gains: gains}
	}
	return mr, st, nil
}

// LatestModels returns, for every model name under root, the version
// directory whose model.json was written last.
func LatestModels(root string) ([]string, error) {
	names, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("score: models: %w", err)
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n.Name(), ".") || strings.HasPrefix(n.Name(), "_") {
			continue // never data: temporary, _tmp, _v, _lock
		}
		if st, err := os.Stat(filepath.Join(root, n.Name())); err != nil || !st.IsDir() {
			continue
		}
		vers, _ := os.ReadDir(filepath.Join(root, n.Name()))
		best, bestT := "", time.Time{}
		for _, v := range vers {
			if strings.HasPrefix(v.Name(), ".") || strings.HasPrefix(v.Name(), "_") || strings.HasSuffix(v.Name(), ".old") {
				continue
			}
			st, err := os.Stat(filepath.Join(root, n.Name(), v.Name(), "model.json"))
			if err != nil {
				continue
			}
			if best == "" || st.ModTime().After(bestT) || (st.ModTime().Equal(bestT) && v.Name() > filepath.Base(best)) {
				best, bestT = filepath.Join(root, n.Name(), v.Name()), st.ModTime()
			}
		}
		if best != "" {
			out = append(out, best)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("score: no model.json under %s/<name>/<version>/", root)
	}
	return out, nil
}

// spillDir creates a DuckDB spill directory: in the lake's temporary area
// (<lake>/_tmp, emptied by the next writer after a crash) when there is a
// lake, else in the system's temporary directory.
// readLimit is the reading database's memory_limit: the stage's when one
// is given, else 1GB (a streamed read needs little; the stage's "auto"
// share of the machine is for its other database).
func readLimit(stage string) string {
	if stage == "" || stage == "auto" {
		return "1GB"
	}
	return stage
}

func spillDir(lakeDir, pattern string) (string, error) {
	if lakeDir != "" {
		return lake.New(lakeDir).TempDir(pattern + "*")
	}
	return os.MkdirTemp("", "qiandun-"+pattern)
}
