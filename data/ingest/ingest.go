// Package ingest loads the loan system's raw exports into the typed
// Parquet lake: it finds each table's files, reads CSV, TSV or JSON Lines
// (UTF-8 or GBK, optionally gzipped), normalises what is tolerable
// (thousands separators, other date forms, Chinese enum words), rejects
// the rest into a quarantine with file, line, raw text and reason,
// tokenises PII, and publishes each table atomically with a manifest.
//
// A run takes the tables in order, parents first, in two lanes (the
// bureau tables, which reference nothing and are referenced by nothing,
// beside the applications -> loans -> children chain), each on its own
// DuckDB. Reading and validation (Go, stream.go and rows.go, in parallel
// over blocks of each file): decompress, detect or apply the encoding,
// transcode GBK, split physical lines, check the header against the
// contract, set aside lines that cannot be a row (wrong field count,
// broken quoting, invalid JSON), then parse and check every value and
// tokenise PII; accepted rows go to DuckDB as typed Arrow record batches
// with their file and line number, rejected ones straight to the
// quarantine list. Set work: a table's first load from one file whose
// rows come in key order (what exports usually are) takes the direct path
// (direct.go): duplicates are found among neighbours and references
// checked against the parent's keys in Go while reading, and the batches
// go straight into DuckDB's Parquet writer. Any other load is staged in a
// DuckDB table and checked by the SQL files in sql/: duplicates against
// the lake and earlier rows, references and date order against parent
// tables, then a sorted write. Publication: each table's new contents
// (the lake's rows plus the accepted ones, sorted by key, zstd) replace
// the old directory with a rename, after every table succeeded; the
// quarantine files and the manifest follow.
//
// Each rejected row has exactly one reason, the first that applies in
// this order: malformed_row, missing_value, bad_date / bad_amount /
// bad_number (column order), bad_enum, negative_amount, out_of_range,
// duplicate_row, duplicate_key, orphan, date_order.
package ingest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"

	"qiandun/data/lake"
	"qiandun/data/schema"
	"qiandun/internal/progress"
	"qiandun/internal/version"
)

// Stage is the manifest name of ingestion.
const Stage = "ingest"

// DefaultMaxRejectRate is the share of a table's rows that may be
// quarantined before the stage fails.
const DefaultMaxRejectRate = 0.01

// Options configure a Run.
type Options struct {
	Raw  string // raw export directory
	Lake string // lake root
	// Config holds per-file encodings; nil means detect everything.
	Config *Config
	// MaxRejectRate is the largest share of a table's rows read in this
	// run that may be quarantined.
	MaxRejectRate float64
	// Key is the PII token key (see LoadKey). Required.
	Key []byte
	// Log receives progress and summary lines; nil means slog.Default().
	Log *slog.Logger
	// Progress is where a progress bar is drawn (a terminal) or nil.
	Progress io.Writer
	// DB bounds DuckDB; zero values take lake.OpenDB's defaults except
	// MemoryLimit, which defaults to 900MB to keep the stage under 2 GiB
	// (at 1M loans the process peaks some 750MB above the limit: 1.5 GiB at
	// 800MB, 1.9 GiB at 1100MB).
	DB lake.DBOptions

	// afterTable, when set, runs after each table is staged (tests inject
	// failures with it).
	afterTable func(table string) error
}

// TableResult is what a run did to one table.
type TableResult struct {
	Table       string            `json:"table"`
	Files       []string          `json:"files"`
	Read        int64             `json:"read"`
	Accepted    int64             `json:"accepted"`
	Quarantined int64             `json:"quarantined"`
	BlankLines  int64             `json:"blank_lines,omitempty"`
	Reasons     map[string]int64  `json:"reasons"`
	Normalised  map[string]int64  `json:"normalised"`
	LakeRows    int64             `json:"lake_rows"`
	Quarantine  []string          `json:"quarantine_files,omitempty"`
	Encodings   map[string]string `json:"encodings,omitempty"`
}

// Skipped is a raw file that was not read again.
type Skipped struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Reason string `json:"reason"`
}

// Result is what a run did.
type Result struct {
	Tables  []TableResult
	Skipped []Skipped
	Elapsed time.Duration
}

// Rows returns the raw data rows read over all tables.
func (r *Result) Rows() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Read
	}
	return n
}

// RejectRateError is returned when tables quarantined more than the
// allowed share of their rows. The quarantine has been written; the lake's
// tables are as before.
type RejectRateError struct {
	Max    float64
	Tables []TableResult
	Dir    string // the quarantine root
}

func (e *RejectRateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reject rate above %.2f%% in %d table(s); nothing was published, the quarantine was written:", 100*e.Max, len(e.Tables))
	for _, t := range e.Tables {
		type rc struct {
			r string
			n int64
		}
		var rs []rc
		for r, n := range t.Reasons {
			rs = append(rs, rc{r, n})
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || (rs[i].n == rs[j].n && rs[i].r < rs[j].r) })
		if len(rs) > 3 {
			rs = rs[:3]
		}
		var top []string
		for _, x := range rs {
			top = append(top, fmt.Sprintf("%s %d", x.r, x.n))
		}
		fmt.Fprintf(&b, "\n  %s: %d of %d rows quarantined (%.2f%%); top reasons: %s; quarantine: %s",
			t.Table, t.Quarantined, t.Read, 100*float64(t.Quarantined)/float64(t.Read), strings.Join(top, ", "),
			filepath.Join(e.Dir, t.Table))
	}
	return b.String()
}

// Run ingests the raw directory into the lake.
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	if len(o.Key) == 0 {
		return nil, errors.New("ingest: no PII key (set " + KeyEnv + " or use a key file)")
	}
	srcs, err := Discover(o.Raw)
	if err != nil {
		return nil, err
	}
	for i := range srcs {
		srcs[i].Encoding = o.Config.encodingFor(srcs[i].Rel)
	}
	lk := lake.New(o.Lake)
	if err := os.MkdirAll(o.Lake, 0o755); err != nil {
		return nil, fmt.Errorf("lake %s: %w", o.Lake, err)
	}
	unlock, err := lk.Lock("ingest")
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, t := range schema.Tables() {
		if err := lake.RecoverDir(lk.TableDir(t.Name)); err != nil {
			return nil, fmt.Errorf("lake %s: recover %s: %w", o.Lake, t.Name, err)
		}
	}
	prev, err := lk.ReadManifest(Stage)
	if errors.Is(err, fs.ErrNotExist) {
		prev, err = &lake.Manifest{}, nil
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for _, in := range prev.Inputs {
		seen[in.SHA256] = in.Path
	}
	work, err := lk.TempDir("ingest-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	sh := &shared{seen: seen, res: &Result{}}
	if o.Progress != nil {
		sh.bar = progress.New(o.Progress, log, "ingest", "lines", 0)
	}
	res := sh.res
	outs, err := runLanes(ctx, o, lk, work, srcs, sh, len(prev.Inputs) > 0)
	sh.bar.Finish()
	if err != nil {
		return nil, err
	}
	changed := map[string]bool{}
	var todo []*fileRead
	for _, out := range outs {
		res.Tables = append(res.Tables, out.tables...)
		todo = append(todo, out.files...)
	}
	rank := map[string]int{}
	for i, t := range schema.Tables() {
		rank[t.Name] = i
	}
	sort.Slice(res.Tables, func(i, j int) bool { return rank[res.Tables[i].Table] < rank[res.Tables[j].Table] })
	for _, tr := range res.Tables {
		changed[tr.Table] = true
	}
	fileRank := map[string]int{}
	for i, src := range srcs {
		fileRank[src.Rel] = i
	}
	sort.SliceStable(res.Skipped, func(i, j int) bool { return fileRank[res.Skipped[i].File] < fileRank[res.Skipped[j].File] })

	var over []TableResult
	for _, tr := range res.Tables {
		if tr.Read > 0 && float64(tr.Quarantined) > o.MaxRejectRate*float64(tr.Read) {
			over = append(over, tr)
		}
	}
	if err := publishQuarantine(lk, work, res.Tables); err != nil {
		return nil, err
	}
	if len(over) > 0 {
		return res, &RejectRateError{Max: o.MaxRejectRate, Tables: over, Dir: filepath.Join(o.Lake, lake.QuarantineDir)}
	}
	for _, t := range schema.Tables() {
		if changed[t.Name] {
			if err := lake.ReplaceDir(filepath.Join(work, "tables", t.Name), lk.TableDir(t.Name)); err != nil {
				return nil, err
			}
		}
	}
	res.Elapsed = time.Since(start)
	sort.Slice(todo, func(i, j int) bool { return todo[i].fid < todo[j].fid }) // file order
	if err := writeManifest(lk, o, prev, res, todo, changed, start); err != nil {
		return nil, err
	}
	return res, nil
}

// Lanes. Tables that reference no other and that no other references
// (the bureau tables) are loaded in a second lane, on their own DuckDB,
// beside the chain applications -> loans -> their children, so that one
// lane's reading fills the cores while the other's DuckDB writes.

// lanes returns the tables of each lane, in contract order.
func lanes() [][]schema.Table {
	referenced := map[string]bool{}
	for _, t := range schema.Tables() {
		for _, r := range t.Parents {
			referenced[r.Table] = true
		}
	}
	var chain, free []schema.Table
	for _, t := range schema.Tables() {
		if len(t.Parents) == 0 && !referenced[t.Name] {
			free = append(free, t)
		} else {
			chain = append(chain, t)
		}
	}
	return [][]schema.Table{chain, free}
}

// laneResult is what one lane did.
type laneResult struct {
	tables []TableResult
	files  []*fileRead
	errAt  int // contract position of the table that failed
	err    error
}

// runLanes loads the tables, lane by lane in parallel, and returns the
// first error in contract order (a lane stopped because the other failed
// does not count).
func runLanes(ctx context.Context, o Options, lk lake.Lake, work string, srcs []Source, sh *shared, rerun bool) ([]laneResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ls := lanes()
	outs := make([]laneResult, len(ls))
	var wg sync.WaitGroup
	for i, tables := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbo := o.DB
			if dbo.MemoryLimit == "" {
				// Together some 1.3 GB: the stage stays under 2 GiB.
				dbo.MemoryLimit = map[bool]string{true: "900MB", false: "400MB"}[i == 0]
			}
			if i > 0 && dbo.TempDir == "" {
				dbo.TempDir = filepath.Join(work, fmt.Sprintf("duckdb-%d", i))
			}
			outs[i] = runLane(ctx, o, lk, work, srcs, sh, rerun, tables, dbo)
			if outs[i].err != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	var first *laneResult
	for i := range outs {
		if e := outs[i].err; e != nil && (first == nil || errors.Is(first.err, context.Canceled) ||
			(!errors.Is(e, context.Canceled) && outs[i].errAt < first.errAt)) {
			first = &outs[i]
		}
	}
	if first != nil {
		return nil, first.err
	}
	return outs, nil
}

// runLane loads the given tables, in order, on a DuckDB of its own.
func runLane(ctx context.Context, o Options, lk lake.Lake, work string, srcs []Source, sh *shared, rerun bool,
	tables []schema.Table, dbo lake.DBOptions) (out laneResult) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	rank := map[string]int{}
	for i, t := range schema.Tables() {
		rank[t.Name] = i
	}
	fail := func(t schema.Table, err error) laneResult {
		out.errAt, out.err = rank[t.Name], err
		return out
	}
	db, err := lk.OpenDB(ctx, dbo)
	if err != nil {
		return fail(tables[0], err)
	}
	defer db.Close()
	// Row order is carried by (qd_fid, qd_line) and the final ORDER BY, so
	// DuckDB need not preserve insertion order (which costs parallelism).
	if _, err := db.ExecContext(ctx, "SET preserve_insertion_order = false"); err != nil {
		return fail(tables[0], fmt.Errorf("ingest: %w", err))
	}
	st := &stager{db: db, lk: lk, work: work, log: log, key: o.Key, shared: sh, rerun: rerun}
	for _, t := range tables {
		var tsrcs []int
		for i, src := range srcs {
			if src.Table == t.Name {
				tsrcs = append(tsrcs, i)
			}
		}
		var tr *TableResult
		var files []*fileRead
		if len(tsrcs) > 0 {
			if tr, files, err = st.table(ctx, t, srcs, tsrcs); err != nil {
				return fail(t, err)
			}
		}
		if tr == nil {
			if err := st.loadKeys(ctx, t, ""); err != nil {
				return fail(t, err)
			}
			continue
		}
		out.files = append(out.files, files...)
		out.tables = append(out.tables, *tr)
		log.Info("ingested table", "table", t.Name, "files", len(files), "read", tr.Read, "accepted", tr.Accepted,
			"quarantined", tr.Quarantined, "lake_rows", tr.LakeRows)
		if o.afterTable != nil {
			if err := o.afterTable(t.Name); err != nil {
				return fail(t, err)
			}
		}
	}
	return out
}

// shared is what the lanes of a run share.
type shared struct {
	mu   sync.Mutex
	seen map[string]string // sha256 -> file, of the files ingested (before or in this run)
	res  *Result           // Skipped
	bar  *progress.Bar
}

// stager stages one table at a time on its lane's DuckDB.
type stager struct {
	db   *sql.DB
	lk   lake.Lake
	work string
	log  *slog.Logger
	key  []byte
	*shared
	keys map[string]map[string]int32 // parentKeys by table
	// rerun: the lake has inputs from earlier runs, so files are hashed
	// before they are read, to skip those ingested before.
	rerun bool
}

func (s *stager) exec(ctx context.Context, what, q string) error {
	t0, c0 := time.Now(), cpuTime()
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("ingest %s: %w", what, err)
	}
	s.log.Debug("sql step", "step", what, "seconds", time.Since(t0).Seconds(), "cpu_seconds", (cpuTime() - c0).Seconds())
	return nil
}

// loadKeys makes keys_<table> (what children check against) from the
// table's Parquet in dir, or from the lake when dir is empty.
func (s *stager) loadKeys(ctx context.Context, t schema.Table, file string) error {
	cols, ok := parentCols[t.Name]
	if !ok {
		return nil
	}
	delete(s.keys, t.Name)
	src := ""
	switch {
	case file != "":
		src = fmt.Sprintf("read_parquet(%s)", lake.Quote(file))
	case s.lk.Exists(t.Name):
		src, _ = s.lk.Scan(t.Name)
	}
	q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE keys_%s AS SELECT %s FROM %s", t.Name, identList(cols), src)
	if src == "" {
		var defs []string
		for _, c := range schema.LakeColumns(t) {
			for _, k := range cols {
				if c.Name == k {
					defs = append(defs, lake.Ident(k)+" "+c.Type)
				}
			}
		}
		q = fmt.Sprintf("CREATE OR REPLACE TEMP TABLE keys_%s (%s)", t.Name, strings.Join(defs, ", "))
	}
	return s.exec(ctx, t.Name+" keys", q)
}

// table stages the sources srcs[idx...] of table t: it reads and
// validates them into the temp table stage, finds duplicates, orphans and
// dates out of order, and writes the table's new contents to the work
// directory. It returns nil when every source was ingested before.
func (s *stager) table(ctx context.Context, t schema.Table, srcs []Source, idx []int) (*TableResult, []*fileRead, error) {
	if s.rerun {
		var todo []int
		for _, i := range idx {
			sum, err := lake.FileSHA256(srcs[i].Path)
			if err != nil {
				return nil, nil, err
			}
			s.mu.Lock()
			p, ok := s.seen[sum]
			s.mu.Unlock()
			if ok {
				s.skip(srcs[i].Rel, sum, p)
				continue
			}
			todo = append(todo, i)
		}
		if idx = todo; len(idx) == 0 {
			return nil, nil, nil
		}
	}
	if src := srcs[idx[0]]; len(idx) == 1 && src.Format != JSONL && !s.lk.Exists(t.Name) {
		tr, fr, err := s.direct(ctx, t, src, idx[0])
		switch {
		case err == nil:
			return tr, []*fileRead{fr}, nil
		case errors.Is(err, errSkip):
			return nil, nil, nil
		case !errors.Is(err, errFallback):
			return nil, nil, err
		}
	}
	sch, err := lakeSchema(t)
	if err != nil {
		return nil, nil, err
	}
	if err := s.exec(ctx, t.Name+" stage", "DROP TABLE IF EXISTS stage; "+
		strings.Replace(schema.LakeDDL(t, "stage"), "CREATE TABLE stage (", "CREATE TEMP TABLE stage (qd_fid INTEGER, qd_line BIGINT, ", 1)+
		"; ALTER TABLE stage ADD COLUMN qd_reason VARCHAR"); err != nil {
		return nil, nil, err
	}
	// Rows go in in file order, so that a file found sorted need not be
	// sorted again, by one DuckDB thread (Go does the parsing in
	// parallel), so that the stage's row groups, and the lake file's, are
	// the same from run to run.
	if err := s.insertionOrder(ctx, true); err != nil {
		return nil, nil, err
	}
	restore, err := s.threads(ctx, 1)
	if err != nil {
		return nil, nil, err
	}
	var files []*fileRead
	for _, i := range idx {
		fr, err := s.load(ctx, t, sch, srcs[i], i)
		if errors.Is(err, errSkip) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		files = append(files, fr)
	}
	if err := restore(); err != nil {
		return nil, nil, err
	}
	if err := s.insertionOrder(ctx, false); err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, s.exec(ctx, t.Name, "DROP TABLE IF EXISTS stage")
	}
	tr, err := s.check(ctx, t, files)
	return tr, files, err
}

// load reads one source into the stage, in its declared encoding, or as
// detected (UTF-8 unless invalid, then GBK). A file ingested before
// returns errSkip and adds nothing.
func (s *stager) load(ctx context.Context, t schema.Table, sch *arrow.Schema, src Source, fid int) (*fileRead, error) {
	t0, c0 := time.Now(), cpuTime()
	enc := src.Encoding
	for {
		fs, err := openStream(ctx, src, fid, enc, streamOptions{t: t, schema: sch, key: s.key, workers: runtime.NumCPU(),
			prog: func(n int64) { s.bar.Add(n) }, done: s.once})
		if err == nil {
			err = s.insert(ctx, fs, fmt.Sprintf("qd_rows_%d", fid))
			fs.close()
			if fs.err != nil {
				err = fs.err
			}
		}
		if errors.Is(err, errNotUTF8) && src.Encoding == EncAuto && enc != EncGBK {
			enc = EncGBK
			continue
		}
		if errors.Is(err, errSkip) {
			return nil, errSkip
		}
		if err != nil {
			var he *headerError
			if errors.As(err, &he) || errors.Is(err, context.Canceled) || strings.HasPrefix(err.Error(), src.Rel) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w", src.Rel, err)
		}
		s.log.Debug("staged raw file", "file", src.Rel, "rows", fs.fr.read, "seconds", time.Since(t0).Seconds(),
			"cpu_seconds", (cpuTime() - c0).Seconds())
		return fs.fr, nil
	}
}

// once says whether a file that was read whole was ingested before (in
// an earlier run or, with the same content, earlier in this one).
func (s *stager) once(fr *fileRead) error {
	s.mu.Lock()
	p, ok := s.seen[fr.sha256]
	if !ok {
		s.seen[fr.sha256] = fr.src.Rel
	}
	s.mu.Unlock()
	if ok {
		s.skip(fr.src.Rel, fr.sha256, p)
		return errSkip
	}
	return nil
}

// skip records that file rel, of the given hash, is not read: its content
// was ingested before as file p.
func (s *stager) skip(rel, sum, p string) {
	why := "already ingested"
	if p != rel {
		why = "same content as " + p + ", already ingested"
	}
	s.mu.Lock()
	s.res.Skipped = append(s.res.Skipped, Skipped{File: rel, SHA256: sum, Reason: why})
	s.mu.Unlock()
	s.log.Info("skipping raw file", "file", rel, "reason", why)
}

// insert appends the rows of a stream to the stage through DuckDB's Arrow
// interface.
func (s *stager) insert(ctx context.Context, fs *fileStream, view string) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err := ar.RegisterView(fs, view)
		if err != nil {
			return err
		}
		defer release()
		ex := dc.(driver.ExecerContext)
		_, err = ex.ExecContext(ctx, "INSERT INTO stage SELECT *, NULL FROM "+lake.Ident(view), nil)
		if _, derr := ex.ExecContext(ctx, "DROP VIEW IF EXISTS "+lake.Ident(view), nil); err == nil {
			err = derr
		}
		return err
	})
}

// check finds the duplicates, orphans and dates out of order among the
// staged rows, accounts for every row and writes the table's new
// contents.
func (s *stager) check(ctx context.Context, t schema.Table, files []*fileRead) (*TableResult, error) {
	tr := &TableResult{Table: t.Name, Reasons: map[string]int64{}, Normalised: map[string]int64{}, Encodings: map[string]string{}}
	rejects := map[int][]reject{}
	var norm [3]int64
	for _, f := range files {
		tr.Files = append(tr.Files, f.src.Rel)
		tr.Read += f.read
		tr.BlankLines += f.blank
		tr.Encodings[f.src.Rel] = f.encoding
		rejects[f.fid] = append(rejects[f.fid], f.rejects...)
		for i := range norm {
			norm[i] += f.norm[i]
		}
	}
	for i, n := range normNames {
		tr.Normalised[n] = norm[i]
	}
	lakeScan := ""
	if s.lk.Exists(t.Name) {
		lakeScan, _ = s.lk.Scan(t.Name)
	}

	// What reading learnt about the order of a first load from one file:
	// already sorted (the stage keeps file order and the write need not
	// sort), grouped by key (duplicates can only be among the candidates).
	var ord *keyOrder
	if len(files) == 1 && lakeScan == "" && files[0].order.known(files[0].trim) {
		ord = files[0].order
	}
	presorted := ord != nil && ord.sorted
	s.log.Debug("row order", "table", t.Name, "known", ord != nil, "sorted", presorted,
		"grouped", ord != nil && ord.grouped, "candidates", func() int {
			if ord == nil {
				return -1
			}
			return len(ord.cands)
		}())
	var q string
	var err error
	// Duplicates, references, date order.
	switch {
	case ord != nil && ord.grouped && len(ord.cands) == 0:
		// No two rows share a key: nothing to look for.
	case ord != nil && ord.grouped:
		if err := s.loadCandidates(ctx, files[0].fid, ord.cands); err != nil {
			return nil, err
		}
		fallthrough
	default:
		q, err = dedupSQL(t, lakeScan, ord != nil && ord.grouped)
		if err != nil {
			return nil, err
		}
		if err := s.exec(ctx, t.Name+" dedup", q); err != nil {
			return nil, err
		}
	}
	for _, ref := range t.Parents {
		q, err := parentsSQL(t, ref)
		if err != nil {
			return nil, err
		}
		if err := s.exec(ctx, t.Name+" references", q); err != nil {
			return nil, err
		}
	}
	// Counts.
	var staged, accepted int64
	err = s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE qd_reason IS NULL) FROM stage`).Scan(&staged, &accepted)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: counts: %w", t.Name, err)
	}
	tr.Accepted = accepted
	rows, err := s.db.QueryContext(ctx, `SELECT qd_fid, qd_line, qd_reason FROM stage WHERE qd_reason IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: rejected rows: %w", t.Name, err)
	}
	for rows.Next() {
		var fid int
		var line int64
		var r string
		if err := rows.Scan(&fid, &line, &r); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ingest %s: rejected rows: %w", t.Name, err)
		}
		reason, col, _ := strings.Cut(r, ":")
		rejects[fid] = append(rejects[fid], reject{line: line, reason: reason, column: col})
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("ingest %s: rejected rows: %w", t.Name, err)
	}
	for _, rs := range rejects {
		for _, r := range rs {
			tr.Reasons[r.reason]++
			tr.Quarantined++
		}
	}
	if tr.Read != tr.Accepted+tr.Quarantined {
		return nil, fmt.Errorf("ingest %s: row accounting failed: read %d != accepted %d + quarantined %d (staged %d)",
			t.Name, tr.Read, tr.Accepted, tr.Quarantined, staged)
	}

	// The table's new contents.
	dir := filepath.Join(s.work, "tables", t.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "part-0.parquet")
	if q, err = writeSQL(t, lakeScan, out, presorted); err != nil {
		return nil, err
	}
	if err := s.insertionOrder(ctx, presorted); err != nil {
		return nil, err
	}
	if err := s.exec(ctx, t.Name+" write", q); err != nil {
		return nil, err
	}
	if err := s.insertionOrder(ctx, false); err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lake.Quote(out)+")").Scan(&tr.LakeRows); err != nil {
		return nil, fmt.Errorf("ingest %s: %w", t.Name, err)
	}
	if err := s.loadKeys(ctx, t, out); err != nil {
		return nil, err
	}
	if err := s.exec(ctx, t.Name, "DROP TABLE IF EXISTS stage; DROP TABLE IF EXISTS dups; DROP TABLE IF EXISTS late; DROP TABLE IF EXISTS qd_cand"); err != nil {
		return nil, err
	}

	// Quarantine, one CSV per source file.
	for _, f := range files {
		rs := rejects[f.fid]
		if len(rs) == 0 {
			continue
		}
		name, err := writeQuarantine(filepath.Join(s.work, "quarantine", t.Name), f, rs)
		if err != nil {
			return nil, err
		}
		tr.Quarantine = append(tr.Quarantine, filepath.ToSlash(filepath.Join(lake.QuarantineDir, t.Name, name)))
	}
	return tr, nil
}

// threads sets DuckDB's thread count to n and returns the function that
// sets it back.
func (s *stager) threads(ctx context.Context, n int) (func() error, error) {
	var was int
	if err := s.db.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&was); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", n)); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return func() error {
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", was)); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		return nil
	}, nil
}

// insertionOrder turns DuckDB's preserve_insertion_order on or off. It is
// off except, for a table whose rows arrive sorted, while the stage is
// read from the file and while it is written out, so that the lake file
// has the rows in file order without a sort.
func (s *stager) insertionOrder(ctx context.Context, on bool) error {
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("SET preserve_insertion_order = %t", on)); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

// loadCandidates makes the temp table qd_cand (qd_fid, qd_line) of the
// given lines of file fid, through a CSV file in the work directory.
func (s *stager) loadCandidates(ctx context.Context, fid int, lines []int64) error {
	p := filepath.Join(s.work, fmt.Sprintf("cands-%04d.csv", fid))
	b := make([]byte, 0, 12*len(lines))
	for _, n := range lines {
		b = strconv.AppendInt(b, n, 10)
		b = append(b, '\n')
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer os.Remove(p)
	return s.exec(ctx, "candidates", fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE qd_cand AS
		SELECT CAST(%d AS INTEGER) AS qd_fid, qd_line FROM read_csv(%s, header=false, auto_detect=false, columns={'qd_line': 'BIGINT'})`,
		fid, lake.Quote(p)))
}

// QuarantineColumns are the columns of a quarantine CSV file.
var QuarantineColumns = []string{"source_file", "line", "reason", "column", "detail", "raw"}

// writeQuarantine writes a source's rejected rows, by line, with their raw
// text, to dir (mode 0600) and returns the file name.
func writeQuarantine(dir string, f *fileRead, rs []reject) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	want := map[int64]bool{}
	for _, r := range rs {
		if r.raw == "" {
			want[r.line] = true
		}
	}
	raw, err := rawLines(f.src, f.encoding, want)
	if err != nil {
		return "", fmt.Errorf("quarantine %s: %w", f.src.Rel, err)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].line < rs[j].line })
	name := strings.ReplaceAll(f.src.Rel, "/", "_") + "." + f.sha256[:12] + ".csv"
	p := filepath.Join(dir, name)
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	w := csv.NewWriter(file)
	w.Write(QuarantineColumns)
	for _, r := range rs {
		text := r.raw
		if text == "" {
			text = raw[r.line]
		}
		w.Write([]string{f.src.Rel, strconv.FormatInt(r.line, 10), r.reason, r.column, r.detail, text})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		file.Close()
		return "", fmt.Errorf("quarantine %s: %w", p, err)
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return "", err
	}
	return name, file.Close()
}

func publishQuarantine(lk lake.Lake, work string, trs []TableResult) error {
	for _, tr := range trs {
		for _, q := range tr.Quarantine {
			dst := filepath.Join(lk.Root, filepath.FromSlash(q))
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return err
			}
			os.Chmod(filepath.Join(lk.Root, lake.QuarantineDir), 0o700)
			src := filepath.Join(work, "quarantine", tr.Table, filepath.Base(dst))
			if err := os.Rename(src, dst); err != nil {
				return fmt.Errorf("publish quarantine: %w", err)
			}
		}
	}
	return nil
}

func writeManifest(lk lake.Lake, o Options, prev *lake.Manifest, res *Result, todo []*fileRead, changed map[string]bool, start time.Time) error {
	m := &lake.Manifest{
		Stage: Stage, Version: version.String(), Started: start.UTC(), Finished: time.Now().UTC(),
		Config:  map[string]any{"raw": o.Raw, "max_reject_rate": o.MaxRejectRate},
		Inputs:  append([]lake.File(nil), prev.Inputs...),
		Counts:  map[string]int64{},
		Timings: map[string]float64{"total": res.Elapsed.Seconds()},
	}
	for _, fr := range todo {
		m.Inputs = append(m.Inputs, lake.File{Path: fr.src.Rel, SHA256: fr.sha256, Rows: fr.read, Bytes: fr.bytes})
	}
	prevOut := map[string]lake.File{}
	for _, f := range prev.Outputs {
		prevOut[f.Path] = f
	}
	rowsOf := map[string]int64{}
	for _, tr := range res.Tables {
		rowsOf[tr.Table] = tr.LakeRows
		m.Counts[tr.Table+".read"] = tr.Read
		m.Counts[tr.Table+".accepted"] = tr.Accepted
		m.Counts[tr.Table+".quarantined"] = tr.Quarantined
		for r, n := range tr.Reasons {
			m.Counts[tr.Table+".quarantined."+r] = n
		}
		for k, n := range tr.Normalised {
			m.Counts[tr.Table+".normalised."+k] = n
		}
	}
	for _, t := range schema.Tables() {
		files, _ := filepath.Glob(lk.Glob(t.Name))
		for _, p := range files {
			rel, _ := filepath.Rel(lk.Root, p)
			rel = filepath.ToSlash(rel)
			if !changed[t.Name] {
				if f, ok := prevOut[rel]; ok {
					m.Outputs = append(m.Outputs, f)
					continue
				}
			}
			sum, err := lake.FileSHA256(p)
			if err != nil {
				return err
			}
			st, _ := os.Stat(p)
			m.Outputs = append(m.Outputs, lake.File{Path: rel, SHA256: sum, Rows: rowsOf[t.Name], Bytes: st.Size()})
		}
	}
	m.Extra = map[string]any{"tables": res.Tables, "skipped": res.Skipped}
	return lk.WriteManifest(m)
}

// cpuTime returns the process's user plus system CPU time so far (for
// debug logs; zero where getrusage is not available).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
