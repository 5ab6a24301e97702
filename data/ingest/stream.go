package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory/mallocator"

	"qiandun/data/schema"
)

// Reading a raw file. One goroutine reads the file (decompressing and
// transcoding as needed, hashing its bytes) in blocks of whole lines;
// workers, one per CPU, cut each block into physical lines, set aside
// the lines that cannot be a row (wrong field count, broken quoting,
// invalid JSON or UTF-8) and validate the others (rows.go) into Arrow
// record batches; the batches reach DuckDB in file order through
// fileStream, an array.RecordReader. Every rejected line keeps its
// physical line number and raw text.

// defaultBlockSize is the size of a block of lines handed to a worker.
const defaultBlockSize = 1 << 20

// reject is one quarantined line.
type reject struct {
	line   int64
	reason string
	column string // the column at fault, when there is one
	detail string
	raw    string
}

// fileRead is what reading a source found: its size and hash, its rows and
// normalisations, its rejected lines, and the order of its rows.
type fileRead struct {
	src      Source
	fid      int
	columns  []string // the file's columns
	encoding string   // the encoding the source was read in
	sha256   string
	bytes    int64
	read     int64 // data lines (blank lines excluded)
	trim     bool  // some value has spaces or tabs around it
	blank    int64
	norm     [3]int64  // normalisations (normNames)
	rejects  []reject  // the lines rejected while reading (and, direct path, settling)
	order    *keyOrder // CSV/TSV only: whether rows come sorted, where keys repeat
}

// progressFunc is told about lines read so far.
type progressFunc func(lines int64)

// errSkip stops the stream of a file that was already ingested.
var errSkip = errors.New("already ingested")

// block is a run of whole lines of a file.
type block struct {
	data []byte
	line int64 // physical line number of its first line
	out  chan *blockResult
}

type blockResult struct {
	rec       arrow.RecordBatch
	rejects   []reject
	read      int64
	blank     int64
	norm      [3]int64
	trim      bool
	order     *keyOrder
	late      []lateMark // accepted rows that fail the reference check (direct mode)
	firstLine []byte     // the first data line, when it is valid (JSONL key check)
	seenFirst bool       // the block has a data line
	err       error
}

// fileStream reads one source and delivers its accepted rows, in file
// order, as Arrow record batches (array.RecordReader). Err reports a
// reading error, errNotUTF8 for an auto-detected UTF-8 file that is not,
// or errSkip when done says the file was ingested before.
type fileStream struct {
	refs    atomic.Int64
	t       schema.Table
	schema  *arrow.Schema
	fr      *fileRead
	pending chan chan *blockResult
	cur     arrow.RecordBatch
	err     error
	readErr error // set by the reader before it closes pending
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	l       *lines
	prog    progressFunc
	done    func(*fileRead) error
	first   bool // the first data line was seen
	ended   bool // the whole file was delivered
	closed  bool
	// blockSize is the size of the blocks read; free holds their buffers
	// for reuse.
	blockSize int
	free      chan []byte
	// direct mode: duplicates and references are settled here and the
	// batches, less the rows that fail them, go straight to the lake file.
	dd    *dedup
	queue []arrow.RecordBatch // slices of the current batch still to deliver
}

type streamOptions struct {
	t       schema.Table
	schema  *arrow.Schema
	key     []byte
	vault   func(column string, token, clear []byte)
	workers int
	prog    progressFunc
	// done is called once the whole file was read; an error stops the
	// stream with that error.
	done func(*fileRead) error
	// direct selects direct mode; ref is then the reference check (nil
	// for a table without parent).
	direct bool
	ref    *refCheck
	// blockSize is the size of the blocks of lines; 0 means defaultBlockSize.
	blockSize int
}

// openStream opens src in encoding enc, checks its header and starts
// reading it in the background. The caller must call close.
func openStream(ctx context.Context, src Source, fid int, enc string, o streamOptions) (*fileStream, error) {
	t := o.t
	l, err := openLines(src, enc)
	if err != nil {
		return nil, err
	}
	fr := &fileRead{src: src, fid: fid, encoding: l.enc}
	delim := byte(',')
	if src.Format == TSV {
		delim = '\t'
	}
	if src.Format == JSONL {
		fr.columns = t.Names()
	} else {
		line, err := l.next()
		if err == io.EOF {
			l.Close()
			return nil, fmt.Errorf("%s: empty file (no header line)", src.Rel)
		}
		if err != nil {
			l.Close()
			if errors.Is(err, errNotUTF8) {
				return nil, err
			}
			return nil, fmt.Errorf("%s:%d: %w", src.Rel, l.n+1, err)
		}
		cols, err := parseHeader(line, rune(delim))
		if err != nil {
			l.Close()
			return nil, &headerError{file: src.Rel, table: t.Name, unreadable: err.Error()}
		}
		if err := checkHeader(src.Rel, t, cols); err != nil {
			l.Close()
			return nil, err
		}
		fr.columns = cols
		fr.order = newKeyOrder(t, cols)
	}
	pos := make([]int, len(t.Columns)) // contract column -> field of the file
	for i, c := range t.Columns {
		for j, name := range fr.columns {
			if name == c.Name {
				pos[i] = j
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &fileStream{t: t, schema: o.schema, fr: fr, l: l, cancel: cancel, prog: o.prog, done: o.done,
		pending: make(chan chan *blockResult, 8*o.workers)}
	s.refs.Store(1)
	s.blockSize = o.blockSize
	if s.blockSize <= 0 {
		s.blockSize = defaultBlockSize
	}
	if o.direct {
		s.dd = newDedup(t, o.schema)
	}
	jobs := make(chan *block, o.workers)
	alloc := mallocator.NewMallocator()
	s.free = make(chan []byte, 8*o.workers+4)
	w := &blockWorker{t: t, src: src, fid: int32(fid), delim: delim, pos: pos, columns: fr.columns,
		check: l.check, retry: l.retry}
	for range o.workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			p := newRowParser(t, o.schema, o.key, alloc)
			p.ref = o.ref
			p.vault = o.vault
			for b := range jobs {
				b.out <- w.parse(p, b)
				select {
				case s.free <- b.data[:0]:
				default:
				}
			}
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.readErr = s.read(ctx, jobs)
		close(jobs)
		close(s.pending)
	}()
	return s, nil
}

// read cuts the file into blocks of whole lines and hands them to the
// workers, in order.
func (s *fileStream) read(ctx context.Context, jobs chan<- *block) error {
	l := s.l
	line := l.n + 1
	var carry []byte
	for {
		var buf []byte
		select {
		case buf = <-s.free:
		default:
			buf = make([]byte, 0, s.blockSize)
		}
		buf = append(buf, carry...)
		if cap(buf) < 2*len(carry) {
			buf = slices.Grow(buf, len(carry))
		}
		eof := false
		for {
			n, err := io.ReadFull(l.r, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
				break
			}
			if err != nil {
				return fmt.Errorf("%s:%d: %w", s.fr.src.Rel, line, err)
			}
			if bytes.LastIndexByte(buf, '\n') >= 0 {
				break
			}
			buf = slices.Grow(buf, cap(buf)) // a line longer than the block
		}
		data := buf
		carry = nil
		if !eof {
			cut := bytes.LastIndexByte(buf, '\n') + 1
			data, carry = buf[:cut], buf[cut:]
		}
		if len(data) > 0 {
			b := &block{data: data, line: line, out: make(chan *blockResult, 1)}
			line += int64(bytes.Count(data, []byte{'\n'}))
			select {
			case jobs <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case s.pending <- b.out:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if eof {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := l.drain(); err != nil {
		return err
	}
	s.fr.sha256, s.fr.bytes = l.sum()
	return nil
}

// blockWorker holds what the workers of one file share (read only).
type blockWorker struct {
	t            schema.Table
	src          Source
	fid          int32
	delim        byte
	pos          []int
	columns      []string
	check, retry bool
}

// parse validates the lines of one block.
func (w *blockWorker) parse(p *rowParser, b *block) *blockResult {
	res := &blockResult{}
	if w.src.Format != JSONL {
		res.order = newKeyOrder(w.t, w.columns)
	}
	p.start(bytes.Count(b.data, []byte{'\n'}) + 1)
	p.norm = [3]int64{}
	check := w.check && !utf8.Valid(b.data)
	ncols := len(w.t.Columns)
	var (
		fields  = make([][]byte, 0, ncols)
		ordered = make([][]byte, ncols)
		unq     []byte
		rec     []string
	)
	n := b.line - 1
	data := b.data
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		n++
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if isBlank(line) {
			res.blank++
			continue
		}
		res.read++
		first := !res.seenFirst
		res.seenFirst = true
		if check && !utf8.Valid(line) {
			if w.retry {
				p.finish()
				return &blockResult{err: errNotUTF8}
			}
			res.rejects = append(res.rejects, reject{line: n, reason: schema.ReasonMalformed,
				detail: "invalid UTF-8 in a file declared UTF-8", raw: strings.ToValidUTF8(string(line), "\uFFFD")})
			continue
		}
		if first {
			res.firstLine = append([]byte(nil), line...)
		}
		if w.src.Format == JSONL {
			var err error
			rec, err = jsonRecord(line, w.t, rec)
			if err != nil {
				res.rejects = append(res.rejects, reject{line: n, reason: schema.ReasonMalformed, detail: err.Error(), raw: string(line)})
				continue
			}
			for i, v := range rec {
				ordered[i] = []byte(v)
			}
		} else {
			// (A line without quotes is cut at once; one with quotes is
			// checked first.)
			quoted := bytes.IndexByte(line, '"') >= 0
			nf, ok := 0, true
			if quoted {
				nf, ok = countFields(line, w.delim)
			}
			switch {
			case !quoted:
				fields = splitPlain(line, w.delim, fields)
				nf = len(fields)
			case ok && nf == ncols:
				fields, unq = splitFields(line, w.delim, fields, unq)
			}
			if !ok || nf != ncols {
				d := fmt.Sprintf("%d fields, want %d", nf, ncols)
				if !ok {
					d = "broken quoting"
				}
				res.rejects = append(res.rejects, reject{line: n, reason: schema.ReasonMalformed, detail: d, raw: string(line)})
				continue
			}
			res.order.addFields(fields, quoted, n)
			for i, j := range w.pos {
				f := fields[j]
				if !res.trim && len(f) > 0 && (f[0] == ' ' || f[0] == '\t' || f[len(f)-1] == ' ' || f[len(f)-1] == '\t') {
					res.trim = true
				}
				ordered[i] = f
			}
		}
		if reason, col := p.row(w.fid, n, ordered); reason != "" {
			res.rejects = append(res.rejects, reject{line: n, reason: reason, column: col, raw: string(line)})
		}
	}
	res.order.detach()
	res.norm = p.norm
	res.late, p.late = p.late, nil
	res.rec = p.finish()
	return res
}

// splitFields cuts a well-formed CSV/TSV line (see countFields) into its
// fields, unquoting quoted ones into unq. The fields are valid until the
// next call.
func splitFields(line []byte, delim byte, fields [][]byte, unq []byte) ([][]byte, []byte) {
	if bytes.IndexByte(line, '"') < 0 {
		return splitPlain(line, delim, fields), unq
	}
	fields = fields[:0]
	if cap(unq) < len(line) {
		unq = make([]byte, 0, 2*len(line))
	}
	unq = unq[:0]
	for {
		if len(line) > 0 && line[0] == '"' {
			start := len(unq)
			i := 1
			for {
				j := bytes.IndexByte(line[i:], '"')
				unq = append(unq, line[i:i+j]...)
				i += j + 1
				if i < len(line) && line[i] == '"' { // a doubled quote
					unq = append(unq, '"')
					i++
					continue
				}
				break
			}
			fields = append(fields, unq[start:len(unq):len(unq)])
			if i >= len(line) {
				return fields, unq
			}
			line = line[i+1:] // past the delimiter
			continue
		}
		i := bytes.IndexByte(line, delim)
		if i < 0 {
			return append(fields, line), unq
		}
		fields = append(fields, line[:i])
		line = line[i+1:]
	}
}

// splitPlain cuts a line without quotes into its fields.
func splitPlain(line []byte, delim byte, fields [][]byte) [][]byte {
	fields = fields[:0]
	for {
		i := bytes.IndexByte(line, delim)
		if i < 0 {
			return append(fields, line)
		}
		fields = append(fields, line[:i])
		line = line[i+1:]
	}
}

// Schema implements array.RecordReader.
func (s *fileStream) Schema() *arrow.Schema {
	if s.dd != nil {
		return s.dd.out
	}
	return s.schema
}

// Retain implements array.RecordReader.
func (s *fileStream) Retain() { s.refs.Add(1) }

// Release implements array.RecordReader; close frees the resources.
func (s *fileStream) Release() { s.refs.Add(-1) }

// RecordBatch implements array.RecordReader.
func (s *fileStream) RecordBatch() arrow.RecordBatch { return s.cur }

// Record implements array.RecordReader.
func (s *fileStream) Record() arrow.RecordBatch { return s.cur }

// Err implements array.RecordReader.
func (s *fileStream) Err() error { return s.err }

// Next implements array.RecordReader: it waits for the next block in file
// order and takes in its counts and rejects.
func (s *fileStream) Next() bool {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if len(s.queue) > 0 {
		s.cur, s.queue = s.queue[0], s.queue[1:]
		return true
	}
	for s.err == nil && !s.ended {
		ch, ok := <-s.pending
		if !ok {
			s.ended = true
			s.err = s.readErr
			if s.err == nil && s.dd != nil {
				s.err = s.dd.settled(s.fr)
			}
			if s.err == nil && s.done != nil {
				s.err = s.done(s.fr)
			}
			return false
		}
		r := <-ch
		if r.err != nil {
			s.err = r.err
			break
		}
		fr := s.fr
		if r.seenFirst && !s.first {
			s.first = true
			if fr.src.Format == JSONL && r.firstLine != nil {
				if keys, err := jsonKeys(r.firstLine); err == nil {
					var he *headerError
					if err := checkHeader(fr.src.Rel, s.t, keys); errors.As(err, &he) && len(he.extra) > 0 {
						s.err = err
						if r.rec != nil {
							r.rec.Release()
						}
						break
					}
				}
			}
		}
		fr.read += r.read
		fr.blank += r.blank
		fr.trim = fr.trim || r.trim
		for i := range fr.norm {
			fr.norm[i] += r.norm[i]
		}
		fr.rejects = append(fr.rejects, r.rejects...)
		ncand := 0
		if fr.order != nil {
			ncand = len(fr.order.cands)
			fr.order.merge(r.order)
		}
		if s.prog != nil {
			s.prog(r.read)
		}
		if s.dd != nil {
			if s.err = s.dd.block(fr, r, ncand); s.err != nil {
				if r.rec != nil {
					r.rec.Release()
				}
				break
			}
			s.queue = s.dd.slices(r.rec, s.queue[:0])
			if len(s.queue) > 0 {
				s.cur, s.queue = s.queue[0], s.queue[1:]
				return true
			}
			continue
		}
		if r.rec != nil {
			s.cur = r.rec
			return true
		}
	}
	s.cancel()
	return false
}

// close stops the background reading and frees what is left.
func (s *fileStream) close() {
	if s.closed {
		return
	}
	s.closed = true
	s.cancel()
	for ch := range s.pending {
		if r := <-ch; r.rec != nil {
			r.rec.Release()
		}
	}
	s.wg.Wait()
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	for _, r := range s.queue {
		r.Release()
	}
	s.queue = nil
	s.dd.release()
	s.l.Close()
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// rawLines returns the text of the given physical lines of src, read
// again in encoding enc.
func rawLines(src Source, enc string, want map[int64]bool) (map[int64]string, error) {
	out := make(map[int64]string, len(want))
	if len(want) == 0 {
		return out, nil
	}
	l, err := openLines(src, enc)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	l.check = false
	for len(out) < len(want) {
		line, err := l.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if want[l.n] {
			out[l.n] = string(line)
		}
	}
	return out, nil
}
