package ingest

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"

	"qiandun/data/lake"
	"qiandun/data/schema"
)

// The direct path: a table's first load from one file whose rows come in
// the lake's sort order, grouped by key (what exports usually are), needs
// no stage. Duplicates can only be neighbours, so they are found while
// the batches go by; references are checked by the workers against the
// parent's keys held in Go; and the batches, less the rows that fail,
// go straight into DuckDB's Parquet writer, so that reading, validating
// and writing overlap. Should the file turn out not to be in order, the
// stream stops (errFallback) and the table is staged as any other.
// dedup.sql and parents.sql are the same checks for the staged path.

// errFallback stops a direct stream whose file is not in key order.
var errFallback = errors.New("rows not in key order")

// rowRef is a row of a batch.
type rowRef struct {
	rec  arrow.RecordBatch
	i    int
	line int64
}

// dropped is a row of the current batch that does not go to the lake.
type dropped struct {
	row            int
	reason, column string
}

// dedup settles duplicates and references in direct mode, batch by
// batch in file order.
type dedup struct {
	run, key, all []int  // columns of the batch: run, key and lake columns
	keyName       string // the key as duplicate_key names it
	distinct      []rowRef
	members       []int64 // lines of the rows of the current run
	last          rowRef  // the last row of the previous batch
	drops         []dropped
	emitted       int64
	out           *arrow.Schema // the lake columns, as delivered
}

func newDedup(t schema.Table, sch *arrow.Schema) *dedup {
	d := &dedup{keyName: strings.Join(t.Key, "+")}
	idx := func(names []string) []int {
		var out []int
		for _, n := range names {
			is := sch.FieldIndices(n)
			if len(is) == 1 {
				out = append(out, is[0])
			} else if t.Name == "applications" && slices.Contains([]string{"id_number", "name", "phone"}, n) {
				out = append(out, sch.FieldIndices(n+"_token")...)
			}
		}
		return out
	}
	d.run, d.key = idx(runColumns(t)), idx(keyColumns(t))
	for i := 2; i < sch.NumFields(); i++ {
		d.all = append(d.all, i)
	}
	d.out = arrow.NewSchema(sch.Fields()[2:], nil)
	return d
}

// ordered reports whether what was read so far allows the direct path.
func (d *dedup) ordered(fr *fileRead) error {
	if o := fr.order; o == nil || !o.ok || !o.sorted || !o.grouped || fr.trim {
		return errFallback
	}
	return nil
}

// settled is called at the end of the file.
func (d *dedup) settled(fr *fileRead) error { return d.ordered(fr) }

// block settles the rows of a block: the candidate lines the block added
// to fr.order (from ncand on) are compared with the rows of their run,
// and the rows failing their reference are dropped unless already
// dropped as duplicates. The rejects go to fr.rejects.
func (d *dedup) block(fr *fileRead, r *blockResult, ncand int) error {
	if err := d.ordered(fr); err != nil {
		return err
	}
	d.drops = d.drops[:0]
	var lines []int64
	if r.rec != nil {
		lines = r.rec.Column(1).(*array.Int64).Int64Values()
	}
	for _, l := range fr.order.cands[ncand:] {
		var ref rowRef
		if i := sort.Search(len(lines), func(k int) bool { return lines[k] >= l }); i < len(lines) && lines[i] == l {
			ref = rowRef{r.rec, i, l}
		} else if d.last.rec != nil && d.last.line == l {
			ref = d.last
		} else {
			continue // rejected while reading
		}
		if len(d.distinct) == 0 || !rowsEqual(d.run, d.distinct[0], ref) {
			d.reset()
		} else if slices.Contains(d.members, l) {
			continue
		}
		d.members = append(d.members, l)
		reason := ""
		for _, y := range d.distinct {
			if rowsEqual(d.all, y, ref) {
				reason = schema.ReasonDuplicate
				break
			}
		}
		if reason == "" {
			for _, y := range d.distinct {
				if rowsEqual(d.key, y, ref) {
					reason = schema.ReasonDuplicateKey
					break
				}
			}
			ref.rec.Retain()
			d.distinct = append(d.distinct, ref)
		}
		switch {
		case reason == "":
		case ref.rec != r.rec:
			return fmt.Errorf("ingest: duplicate at line %d found after its batch", l) // cannot happen: earlier rows come first
		case reason == schema.ReasonDuplicate:
			d.drops = append(d.drops, dropped{row: ref.i, reason: reason})
		default:
			d.drops = append(d.drops, dropped{row: ref.i, reason: reason, column: d.keyName})
		}
	}
	for _, m := range r.late {
		if !slices.ContainsFunc(d.drops, func(x dropped) bool { return x.row == m.row }) {
			d.drops = append(d.drops, dropped(m))
		}
	}
	for _, x := range d.drops {
		fr.rejects = append(fr.rejects, reject{line: lines[x.row], reason: x.reason, column: x.column})
	}
	if r.rec != nil {
		if d.last.rec != nil {
			d.last.rec.Release()
		}
		r.rec.Retain()
		d.last = rowRef{r.rec, len(lines) - 1, lines[len(lines)-1]}
	}
	return nil
}

// slices appends the lake columns of rec, less the rows block dropped,
// to q, and gives up the reference to rec.
func (d *dedup) slices(rec arrow.RecordBatch, q []arrow.RecordBatch) []arrow.RecordBatch {
	if rec == nil {
		return q
	}
	lakeCols := array.NewRecordBatch(d.out, rec.Columns()[2:], rec.NumRows())
	rec.Release()
	rec = lakeCols
	if len(d.drops) == 0 {
		d.emitted += rec.NumRows()
		return append(q, rec)
	}
	sort.Slice(d.drops, func(i, j int) bool { return d.drops[i].row < d.drops[j].row })
	from := 0
	for _, x := range append(d.drops, dropped{row: int(rec.NumRows())}) {
		if x.row > from {
			q = append(q, rec.NewSlice(int64(from), int64(x.row)))
			d.emitted += int64(x.row - from)
		}
		from = x.row + 1
	}
	rec.Release()
	return q
}

func (d *dedup) reset() {
	for _, y := range d.distinct {
		y.rec.Release()
	}
	d.distinct, d.members = d.distinct[:0], d.members[:0]
}

// release gives up the batches dedup holds.
func (d *dedup) release() {
	if d == nil {
		return
	}
	d.reset()
	if d.last.rec != nil {
		d.last.rec.Release()
		d.last = rowRef{}
	}
}

// rowsEqual compares two rows on the given columns, NULL equal to NULL
// (as PARTITION BY does).
func rowsEqual(cols []int, a, b rowRef) bool {
	for _, c := range cols {
		if !cellEqual(a.rec.Column(c), b.rec.Column(c), a.i, b.i) {
			return false
		}
	}
	return true
}

func cellEqual(a, b arrow.Array, i, j int) bool {
	if an, bn := a.IsNull(i), b.IsNull(j); an || bn {
		return an && bn
	}
	switch x := a.(type) {
	case *array.String:
		return x.Value(i) == b.(*array.String).Value(j)
	case *array.Int32:
		return x.Value(i) == b.(*array.Int32).Value(j)
	case *array.Int64:
		return x.Value(i) == b.(*array.Int64).Value(j)
	case *array.Date32:
		return x.Value(i) == b.(*array.Date32).Value(j)
	case *array.Timestamp:
		return x.Value(i) == b.(*array.Timestamp).Value(j)
	case *array.Decimal128:
		return x.Value(i) == b.(*array.Decimal128).Value(j)
	case *array.Boolean:
		return x.Value(i) == b.(*array.Boolean).Value(j)
	case *array.Dictionary: // an enum: one dictionary for every batch
		return x.GetValueIndex(i) == b.(*array.Dictionary).GetValueIndex(j)
	}
	panic(fmt.Sprintf("ingest: no comparison for %s", a.DataType()))
}

// direct loads table t from its one source straight into the lake file,
// or returns errFallback when the file is not in order (nothing of it is
// kept) or errSkip when it was ingested before.
func (s *stager) direct(ctx context.Context, t schema.Table, src Source, fid int) (*TableResult, *fileRead, error) {
	t0, c0 := time.Now(), cpuTime()
	sch, err := lakeSchema(t)
	if err != nil {
		return nil, nil, err
	}
	var ref *refCheck
	if len(t.Parents) > 0 {
		keys, err := s.parentKeys(ctx, t.Parents[0].Table)
		if err != nil {
			return nil, nil, err
		}
		ref = newRefCheck(t, keys)
	}
	dir := filepath.Join(s.work, "tables", t.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	out := filepath.Join(dir, "part-0.parquet")
	fs, err := openStream(ctx, src, fid, src.Encoding, streamOptions{t: t, schema: sch, key: s.key, vault: s.vault, workers: runtime.NumCPU(),
		prog: func(n int64) { s.bar.Add(n) }, done: s.once, direct: true, ref: ref, blockSize: s.blockSize, maxLine: s.maxLine})
	if err == nil {
		err = s.copyTo(ctx, fs, t, fmt.Sprintf("qd_rows_%d", fid), out)
		fs.close()
		if fs.err != nil {
			err = fs.err
		}
	}
	if err != nil {
		os.Remove(out)
		if errors.Is(err, errSkip) || errors.Is(err, errFallback) {
			s.log.Debug("direct load", "table", t.Name, "outcome", err.Error())
			return nil, nil, err
		}
		var he *headerError
		if errors.As(err, &he) || errors.Is(err, context.Canceled) || strings.HasPrefix(err.Error(), src.Rel) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%s: %w", src.Rel, err)
	}
	fr := fs.fr
	s.log.Debug("staged raw file", "file", src.Rel, "rows", fr.read, "direct", true, "seconds", time.Since(t0).Seconds(),
		"cpu_seconds", (cpuTime() - c0).Seconds())
	s.log.Debug("row order", "table", t.Name, "known", true, "sorted", true, "grouped", true, "candidates", len(fr.order.cands))

	tr := &TableResult{Table: t.Name, Files: []string{src.Rel}, Read: fr.read, Accepted: fs.dd.emitted, BlankLines: fr.blank,
		Reasons: map[string]int64{}, Normalised: map[string]int64{}}
	noteEncoding(s.log, tr, fr)
	for i, n := range normNames {
		tr.Normalised[n] = fr.norm[i]
	}
	for _, r := range fr.rejects {
		tr.Reasons[r.reason]++
		tr.Quarantined++
	}
	if tr.Read != tr.Accepted+tr.Quarantined {
		return nil, nil, fmt.Errorf("ingest %s: row accounting failed: read %d != accepted %d + quarantined %d",
			t.Name, tr.Read, tr.Accepted, tr.Quarantined)
	}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lake.Quote(out)+")").Scan(&tr.LakeRows); err != nil {
		return nil, nil, fmt.Errorf("ingest %s: %w", t.Name, err)
	}
	if err := s.loadKeys(ctx, t, out); err != nil {
		return nil, nil, err
	}
	if len(fr.rejects) > 0 {
		name, err := writeQuarantine(filepath.Join(s.work, "quarantine", t.Name), fr, fr.rejects)
		if err != nil {
			return nil, nil, err
		}
		tr.Quarantine = append(tr.Quarantine, filepath.ToSlash(filepath.Join(lake.QuarantineDir, t.Name, name)))
	}
	return tr, fr, nil
}

// copyTo writes the rows of a direct stream, in file order, to the
// Parquet file out (zstd level 1, as write.sql). One DuckDB thread writes
// (Go reads and validates on every core meanwhile): with more, row group
// boundaries, and so the file's bytes, vary from run to run.
func (s *stager) copyTo(ctx context.Context, fs *fileStream, t schema.Table, view, out string) error {
	if err := s.insertionOrder(ctx, true); err != nil {
		return err
	}
	defer s.insertionOrder(ctx, false)
	restore, err := s.threads(ctx, 1)
	if err != nil {
		return err
	}
	defer restore()
	// (SELECT *: DuckDB's projection pushdown into an Arrow stream view
	// crashes; the stream delivers the lake columns only.)
	return s.execView(ctx, fs, view, fmt.Sprintf("COPY (SELECT * FROM %s) TO %s (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)",
		lake.Ident(view), lake.Quote(out)))
}

// parentKeys returns the keys of a parent table (keys_<table>, see
// loadKeys), sorted, with, for loans, their issue dates.
func (s *stager) parentKeys(ctx context.Context, table string) (*parentIndex, error) {
	if x, ok := s.keys[table]; ok {
		return x, nil
	}
	cols := parentCols[table]
	x := &parentIndex{}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM keys_%s WHERE %s IS NOT NULL ORDER BY 1",
			identList(cols), table, lake.Ident(cols[0])))
		if err != nil {
			return err
		}
		defer rdr.Release()
		for rdr.Next() {
			rec := rdr.RecordBatch()
			keys := rec.Column(0).(*array.String)
			var dates *array.Date32
			if len(cols) > 1 {
				dates = rec.Column(1).(*array.Date32)
			}
			// One copy of the batch's key bytes, the keys pointing into it.
			arena, offs := string(keys.ValueBytes()), keys.ValueOffsets()
			for i := 0; i < keys.Len(); i++ {
				var d int32
				if dates != nil && !dates.IsNull(i) {
					d = int32(dates.Value(i))
				}
				x.keys = append(x.keys, arena[offs[i]-offs[0]:offs[i+1]-offs[0]])
				x.dates = append(x.dates, d)
			}
		}
		return rdr.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: keys of %s: %w", table, err)
	}
	if !sort.StringsAreSorted(x.keys) { // DuckDB sorts VARCHAR by bytes: never, but find depends on it
		sort.Sort(x)
	}
	if s.keys == nil {
		s.keys = map[string]*parentIndex{}
	}
	s.keys[table] = x
	return x, nil
}
