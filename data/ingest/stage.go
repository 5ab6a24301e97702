package ingest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"

	"qiandun/data/lake"
	"qiandun/data/schema"
	"qiandun/internal/durable"
)

// The staged path: a table's rows go into a DuckDB table, the stage, and
// the SQL files in sql/ find duplicates, orphans and dates out of order
// among them before the sorted write. (A first load from one file in key
// order takes the direct path instead, direct.go.)

// stager stages one table at a time on its lane's DuckDB.
type stager struct {
	db   *sql.DB
	lk   lake.Lake
	work string
	log  *slog.Logger
	key  []byte
	*shared
	keys map[string]*parentIndex // parentKeys by table
	// rerun: the lake has inputs from earlier runs, so files are hashed
	// before they are read, to skip those ingested before.
	rerun     bool
	blockSize int   // 0: the default
	rangeRows int64 // 0: defaultRangeRows
	maxLine   int   // 0: DefaultMaxLine
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
// validates them into the table stage (in the lane's database file),
// finds duplicates, orphans and dates out of order, and writes the
// table's new contents to the work directory. It returns nil when every
// source was ingested before.
func (s *stager) table(ctx context.Context, t schema.Table, srcs []Source, idx []int) (*TableResult, []*fileRead, error) {
	if s.rerun {
		var todo []int
		for _, i := range idx {
			sum, err := durable.SHA256(srcs[i].Path)
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
		strings.Replace(schema.LakeDDL(t, "stage"), "CREATE TABLE stage (", "CREATE TABLE stage (qd_fid INTEGER, qd_line BIGINT, ", 1)+
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

// load reads one source into the stage, in its declared encoding, or
// deciding each line's (UTF-8, else GBK). A file ingested before returns
// errSkip and adds nothing.
func (s *stager) load(ctx context.Context, t schema.Table, sch *arrow.Schema, src Source, fid int) (*fileRead, error) {
	t0, c0 := time.Now(), cpuTime()
	fs, err := openStream(ctx, src, fid, src.Encoding, streamOptions{t: t, schema: sch, key: s.key, vault: s.vault, workers: runtime.NumCPU(),
		prog: func(n int64) { s.bar.Add(n) }, done: s.once, blockSize: s.blockSize, maxLine: s.maxLine})
	if err == nil {
		err = s.insert(ctx, fs, fmt.Sprintf("qd_rows_%d", fid))
		fs.close()
		if fs.err != nil {
			err = fs.err
		}
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
	return s.execView(ctx, fs, view, "INSERT INTO stage SELECT *, NULL FROM "+lake.Ident(view))
}

// execView registers fs as the Arrow view named view on a connection of
// the stage's DuckDB, runs stmt (which reads the view) and drops the view.
func (s *stager) execView(ctx context.Context, fs *fileStream, view, stmt string) error {
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
		_, err = ex.ExecContext(ctx, stmt, nil)
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
	tr, rejects := readResult(s.log, t, files)
	lakeScan := ""
	if s.lk.Exists(t.Name) {
		lakeScan, _ = s.lk.Scan(t.Name)
	}
	ord := stagedOrder(files, lakeScan)
	presorted := ord != nil && ord.sorted
	s.log.Debug("row order", "table", t.Name, "known", ord != nil, "sorted", presorted,
		"grouped", ord != nil && ord.grouped, "candidates", func() int {
			if ord == nil {
				return -1
			}
			return len(ord.cands)
		}())
	if err := s.settle(ctx, t, files, ord, lakeScan); err != nil {
		return nil, err
	}
	if err := s.account(ctx, t, tr, rejects); err != nil {
		return nil, err
	}
	if err := s.writeTable(ctx, t, tr, lakeScan, presorted); err != nil {
		return nil, err
	}
	if err := s.writeQuarantines(t, tr, files, rejects); err != nil {
		return nil, err
	}
	return tr, nil
}

// readResult sums what reading found in a table's files (lines read,
// blank lines, encodings, normalisations) into a new TableResult, and
// returns the rejects of reading by file id.
func readResult(log *slog.Logger, t schema.Table, files []*fileRead) (*TableResult, map[int][]reject) {
	tr := &TableResult{Table: t.Name, Reasons: map[string]int64{}, Normalised: map[string]int64{}}
	rejects := map[int][]reject{}
	var norm [3]int64
	for _, f := range files {
		tr.Files = append(tr.Files, f.src.Rel)
		tr.Read += f.read
		tr.BlankLines += f.blank
		noteEncoding(log, tr, f)
		rejects[f.fid] = append(rejects[f.fid], f.rejects...)
		for i := range norm {
			norm[i] += f.norm[i]
		}
	}
	for i, n := range normNames {
		tr.Normalised[n] = norm[i]
	}
	return tr, rejects
}

// stagedOrder returns what reading learnt about the order of a first
// load from one file (lakeScan empty), or nil when it is not known:
// already sorted (the stage keeps file order and the write need not
// sort), grouped by key (duplicates can only be among the candidates).
func stagedOrder(files []*fileRead, lakeScan string) *keyOrder {
	if len(files) == 1 && lakeScan == "" && files[0].order.known(files[0].trim) {
		return files[0].order
	}
	return nil
}

// settle marks the staged rows that are duplicates (among themselves and
// of the lake's rows, lakeScan), orphans or out of date order. Rows
// grouped by key with no repeated key (ord) have no duplicate to look
// for; grouped ones with repeats have them looked for among the
// candidates only.
func (s *stager) settle(ctx context.Context, t schema.Table, files []*fileRead, ord *keyOrder, lakeScan string) error {
	switch {
	case ord != nil && ord.grouped && len(ord.cands) == 0:
		// No two rows share a key: nothing to look for.
	case ord != nil && ord.grouped:
		if err := s.loadCandidates(ctx, files[0].fid, ord.cands); err != nil {
			return err
		}
		fallthrough
	default:
		q, err := dedupSQL(t, lakeScan, ord != nil && ord.grouped)
		if err != nil {
			return err
		}
		if err := s.exec(ctx, t.Name+" dedup", q); err != nil {
			return err
		}
	}
	for _, ref := range t.Parents {
		q, err := parentsSQL(t, ref)
		if err != nil {
			return err
		}
		if err := s.exec(ctx, t.Name+" references", q); err != nil {
			return err
		}
	}
	return nil
}

// account counts the staged rows accepted into tr, adds the rows the SQL
// checks rejected to rejects (by file id), tallies every reject by
// reason, and checks that each row read was accepted or quarantined.
func (s *stager) account(ctx context.Context, t schema.Table, tr *TableResult, rejects map[int][]reject) error {
	var staged, accepted int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE qd_reason IS NULL) FROM stage`).Scan(&staged, &accepted)
	if err != nil {
		return fmt.Errorf("ingest %s: counts: %w", t.Name, err)
	}
	tr.Accepted = accepted
	rows, err := s.db.QueryContext(ctx, `SELECT qd_fid, qd_line, qd_reason FROM stage WHERE qd_reason IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("ingest %s: rejected rows: %w", t.Name, err)
	}
	for rows.Next() {
		var fid int
		var line int64
		var r string
		if err := rows.Scan(&fid, &line, &r); err != nil {
			rows.Close()
			return fmt.Errorf("ingest %s: rejected rows: %w", t.Name, err)
		}
		reason, col, _ := strings.Cut(r, ":")
		rejects[fid] = append(rejects[fid], reject{line: line, reason: reason, column: col})
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("ingest %s: rejected rows: %w", t.Name, err)
	}
	for _, rs := range rejects {
		for _, r := range rs {
			tr.Reasons[r.reason]++
			tr.Quarantined++
		}
	}
	if tr.Read != tr.Accepted+tr.Quarantined {
		return fmt.Errorf("ingest %s: row accounting failed: read %d != accepted %d + quarantined %d (staged %d)",
			t.Name, tr.Read, tr.Accepted, tr.Quarantined, staged)
	}
	return nil
}

// writeTable writes the table's new contents, the lake's rows (lakeScan)
// and the accepted staged ones, sorted by key unless presorted, to
// tables/<table>/part-0.parquet in the work directory (or, when there are
// more than rangeRows of them, to part-0000.parquet, ... a range of its
// leading sort columns each: see ranges); counts them into
// tr.LakeRows, makes the keys its children check against and drops the
// stage.
func (s *stager) writeTable(ctx context.Context, t schema.Table, tr *TableResult, lakeScan string, presorted bool) error {
	dir := filepath.Join(s.work, "tables", t.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var lakeRows int64
	if lakeScan != "" {
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+lakeScan).Scan(&lakeRows); err != nil {
			return fmt.Errorf("ingest %s: %w", t.Name, err)
		}
	}
	var ranges []string
	if !presorted {
		var err error
		if ranges, err = s.ranges(ctx, t, lakeScan, tr.Accepted+lakeRows); err != nil {
			return err
		}
	}
	if err := s.insertionOrder(ctx, presorted); err != nil {
		return err
	}
	if len(ranges) == 0 {
		ranges = []string{""}
	}
	for i, where := range ranges {
		out := filepath.Join(dir, "part-0.parquet")
		if len(ranges) > 1 {
			out = filepath.Join(dir, fmt.Sprintf("part-%04d.parquet", i))
		}
		q, err := writeSQL(t, lakeScan, out, presorted, where)
		if err != nil {
			return err
		}
		step := t.Name + " write"
		if len(ranges) > 1 {
			step = fmt.Sprintf("%s write range %d of %d", t.Name, i+1, len(ranges))
		}
		if err := s.exec(ctx, step, q); err != nil {
			return err
		}
	}
	if err := s.insertionOrder(ctx, false); err != nil {
		return err
	}
	files := filepath.Join(dir, "*.parquet")
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lake.Quote(files)+")").Scan(&tr.LakeRows); err != nil {
		return fmt.Errorf("ingest %s: %w", t.Name, err)
	}
	// Every row is in one range: a row lost between the ranges' bounds
	// would otherwise leave the lake silently.
	if want := tr.Accepted + lakeRows; tr.LakeRows != want {
		return fmt.Errorf("ingest %s: wrote %d rows in %d file(s), want %d (%d accepted + %d in the lake)", t.Name, tr.LakeRows, len(ranges), want, tr.Accepted, lakeRows)
	}
	if err := s.loadKeys(ctx, t, files); err != nil {
		return err
	}
	return s.exec(ctx, t.Name, "DROP TABLE IF EXISTS stage; DROP TABLE IF EXISTS dups; DROP TABLE IF EXISTS late; DROP TABLE IF EXISTS qd_cand")
}

// writeQuarantines writes the rejects of each of the table's files, one
// CSV per file, under quarantine/<table> in the work directory, and lists
// them in tr.Quarantine as they will be in the lake.
func (s *stager) writeQuarantines(t schema.Table, tr *TableResult, files []*fileRead, rejects map[int][]reject) error {
	for _, f := range files {
		rs := rejects[f.fid]
		if len(rs) == 0 {
			continue
		}
		name, err := writeQuarantine(filepath.Join(s.work, "quarantine", t.Name), f, rs)
		if err != nil {
			return err
		}
		tr.Quarantine = append(tr.Quarantine, filepath.ToSlash(filepath.Join(lake.QuarantineDir, t.Name, name)))
	}
	return nil
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

// defaultRangeRows is the most rows writeTable sorts in one piece.
const defaultRangeRows = 25_000_000

// ranges returns the WHERE conditions that split a table's new contents
// of rows rows (the accepted staged ones and the lake's, lakeScan) into
// ranges of its RangeColumns of about rangeRows rows each, in sort order,
// or none when it is not larger than that. Each range is then sorted and
// written alone, so the sort spills one range's rows, not the table's
// (the custody statement of a 10M-loan book has ~530M rows). The bounds
// are the first keys of equal shares of the rows in key order (a key's
// rows stay in one range), found by counting the rows per key, so they
// do not depend on the order rows arrive in.
func (s *stager) ranges(ctx context.Context, t schema.Table, lakeScan string, rows int64) ([]string, error) {
	limit := s.rangeRows
	if limit <= 0 {
		limit = defaultRangeRows
	}
	if rows <= limit {
		return nil, nil
	}
	cols := t.RangeColumns()
	lakeCols := schema.LakeColumns(t)
	for _, c := range cols {
		i := slices.IndexFunc(lakeCols, func(lc schema.LakeColumn) bool { return lc.Name == c })
		j := slices.IndexFunc(t.Columns, func(rc schema.Column) bool { return rc.Name == c })
		if i < 0 || j < 0 || lakeCols[i].Type != "VARCHAR" || t.Columns[j].Nullable {
			return nil, fmt.Errorf("ingest %s: range column %s must be a VARCHAR column that is never NULL", t.Name, c)
		}
	}
	src := fmt.Sprintf("SELECT %s FROM stage WHERE qd_reason IS NULL", identList(cols))
	if lakeScan != "" {
		src += fmt.Sprintf(" UNION ALL SELECT %s FROM %s", identList(cols), lakeScan)
	}
	k := (rows + limit - 1) / limit
	q := fmt.Sprintf(`WITH g AS (SELECT %[1]s, count(*) AS n FROM (%[2]s) GROUP BY ALL),
c AS (SELECT %[1]s, CAST(floor((sum(n) OVER (ORDER BY %[1]s ROWS UNBOUNDED PRECEDING) - n) * %[3]d / %[4]d) AS BIGINT) AS qd_b FROM g),
f AS (SELECT *, row_number() OVER (PARTITION BY qd_b ORDER BY %[1]s) AS qd_rn FROM c)
SELECT %[1]s FROM f WHERE qd_rn = 1 AND qd_b > 0 ORDER BY qd_b`, identList(cols), src, k, rows)
	t0, c0 := time.Now(), cpuTime()
	res, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: ranges: %w", t.Name, err)
	}
	defer res.Close()
	var bounds [][]string
	for res.Next() {
		vals := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := res.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("ingest %s: ranges: %w", t.Name, err)
		}
		bounds = append(bounds, vals)
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("ingest %s: ranges: %w", t.Name, err)
	}
	s.log.Debug("sql step", "step", t.Name+" ranges", "ranges", len(bounds)+1, "seconds", time.Since(t0).Seconds(),
		"cpu_seconds", (cpuTime() - c0).Seconds())
	if len(bounds) == 0 {
		return nil, nil
	}
	out := make([]string, len(bounds)+1)
	for i := range out {
		var conds []string
		if i > 0 {
			conds = append(conds, keyAtLeast(cols, bounds[i-1]))
		}
		if i < len(bounds) {
			conds = append(conds, "NOT ("+keyAtLeast(cols, bounds[i])+")")
		}
		out[i] = strings.Join(conds, " AND ")
	}
	return out, nil
}

// keyAtLeast is the SQL condition (cols...) >= (vals...) in the order of
// the columns, the first deciding (byte order, as DuckDB sorts VARCHAR).
func keyAtLeast(cols, vals []string) string {
	c, v := lake.Ident(cols[0]), lake.Quote(vals[0])
	if len(cols) == 1 {
		return c + " >= " + v
	}
	return fmt.Sprintf("(%s > %s OR (%s = %s AND %s))", c, v, c, v, keyAtLeast(cols[1:], vals[1:]))
}
