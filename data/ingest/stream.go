package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory/mallocator"

	"qiandun/data/schema"
)

// Reading a raw file. One goroutine reads the file (decompressing as
// needed, hashing its bytes) in blocks of whole records, cut at line ends
// outside quoted fields; workers, one per CPU, cut each block into
// records (a physical line, or several when a quoted field holds line
// breaks), decide each record's encoding when the block is not plain
// valid UTF-8 (decoder), set aside the records that cannot be a row
// (over-long, NUL bytes, valid in no encoding, wrong field count, broken
// quoting, invalid JSON) and validate the others (rows.go) into Arrow
// record batches; the batches reach DuckDB in file order through
// fileStream, an array.RecordReader. Every rejected record keeps the
// physical line number where it starts and its raw text.

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
	encoding string   // the declared encoding (EncAuto: decided line by line)
	// enc counts the records read as UTF-8, as GBK and as neither
	// (bad_encoding); nonASCII says some UTF-8 record was not plain ASCII.
	enc      [3]int64
	nonASCII bool
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

// block is a run of whole records of a file, or one line too long to
// be read (long).
type block struct {
	data []byte
	line int64 // physical line number of its first line
	long *longLine
	out  chan *blockResult
}

// longLine is a line longer than the maximum: its first bytes and length.
type longLine struct {
	prefix []byte
	size   int64
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
	enc       [3]int64   // records by how they were read (fileRead.enc)
	nonASCII  bool
	err       error
}

// fileStream reads one source and delivers its accepted rows, in file
// order, as Arrow record batches (array.RecordReader). Err reports a
// reading error, or errSkip when done says the file was ingested before.
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
	// for reuse. maxLine is the longest record read.
	blockSize int
	maxLine   int
	delim     byte
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
	// maxLine is the longest record read as a row; 0 means DefaultMaxLine.
	maxLine int
}

// openStream opens src in encoding enc, checks its header and starts
// reading it in the background. The caller must call close.
func openStream(ctx context.Context, src Source, fid int, enc string, o streamOptions) (*fileStream, error) {
	t := o.t
	l, err := openLines(src, enc, o.maxLine)
	if err != nil {
		return nil, err
	}
	fr := &fileRead{src: src, fid: fid, encoding: enc}
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
			var ge *gzipError
			if errors.As(err, &ge) {
				return nil, err
			}
			return nil, fmt.Errorf("%s:%d: %w", src.Rel, l.n+1, err)
		}
		if l.cut > 0 {
			l.Close()
			return nil, &headerError{file: src.Rel, table: t.Name,
				unreadable: fmt.Sprintf("its first line is %d bytes long, over the maximum of %d", l.cut, l.max)}
		}
		text, how := newDecoder(enc).decode(line, false)
		if how == readBad {
			l.Close()
			return nil, &headerError{file: src.Rel, table: t.Name, unreadable: "it is valid in neither UTF-8 nor GBK"}
		}
		cols, err := parseHeader(text, rune(delim))
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
	s.maxLine, s.delim = l.max, delim
	if o.direct {
		s.dd = newDedup(t, o.schema)
	}
	jobs := make(chan *block, o.workers)
	alloc := mallocator.NewMallocator()
	s.free = make(chan []byte, 8*o.workers+4)
	w := &blockWorker{t: t, src: src, fid: int32(fid), delim: delim, pos: pos, columns: fr.columns,
		enc: enc, maxLine: l.max}
	for range o.workers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			p := newRowParser(t, o.schema, o.key, alloc)
			p.ref = o.ref
			d := newDecoder(enc)
			p.vault = o.vault
			for b := range jobs {
				b.out <- w.parse(p, d, b)
				if b.data == nil {
					continue // a long line's block has no buffer
				}
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

// read cuts the file into blocks of whole records and hands them to the
// workers, in order. A block ends at a line end outside any quoted field
// (recordCut), so that a quoted field holding line breaks stays whole;
// should a quoted field stay open for more than maxLine bytes, the block
// is cut at a line end anyway and the worker, finding the quote open,
// rejects the line that opened it and goes on from the next. A line
// longer than maxLine is not held in memory: it becomes a block of its
// own with its first quarantineKeep bytes and its length.
func (s *fileStream) read(ctx context.Context, jobs chan<- *block) error {
	l := s.l
	line := l.n + 1
	quoted := s.fr.src.Format != JSONL
	var carry []byte
	send := func(b *block) error {
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
		return nil
	}
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
		eof, long, cut := false, false, 0
		for {
			n, err := fill(l.r, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				eof, cut = true, len(buf)
				break
			}
			if err != nil {
				return s.readError(line, err)
			}
			if quoted {
				cut = recordCut(buf, s.delim)
			} else {
				cut = bytes.LastIndexByte(buf, '\n') + 1
			}
			if cut > 0 {
				break
			}
			if len(buf) > s.maxLine {
				// A quoted field open too long: cut at a line end anyway.
				if cut = bytes.LastIndexByte(buf, '\n') + 1; cut == 0 {
					long = true
				}
				break
			}
			buf = slices.Grow(buf, max(cap(buf), s.blockSize)) // a record longer than the block
		}
		carry = nil
		if long {
			ll := &longLine{prefix: bytes.Clone(buf[:min(len(buf), quarantineKeep)]), size: int64(len(buf))}
			for {
				chunk, err := l.r.ReadSlice('\n')
				ll.size += int64(len(chunk))
				if err == bufio.ErrBufferFull {
					continue
				}
				if err == io.EOF {
					eof = true
					break
				}
				if err != nil {
					return s.readError(line, err)
				}
				ll.size-- // the line end
				break
			}
			select {
			case s.free <- buf[:0]:
			default:
			}
			if err := send(&block{line: line, long: ll, out: make(chan *blockResult, 1)}); err != nil {
				return err
			}
			line++
		} else {
			data := buf[:cut]
			carry = buf[cut:]
			if len(data) > 0 {
				b := &block{data: data, line: line, out: make(chan *blockResult, 1)}
				line += int64(bytes.Count(data, []byte{'\n'}))
				if err := send(b); err != nil {
					return err
				}
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

// readError names the file and line of a reading error (a gzipError
// names its file already).
func (s *fileStream) readError(line int64, err error) error {
	var ge *gzipError
	if errors.As(err, &ge) {
		return err
	}
	return fmt.Errorf("%s:%d: %w", s.fr.src.Rel, line, err)
}

// fill reads into p until it is full, the end of the input (io.EOF) or
// an error. Unlike io.ReadFull, it never turns the end of the input into
// io.ErrUnexpectedEOF, so that a truncated gzip stream's
// io.ErrUnexpectedEOF stays an error.
func fill(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// recordCut returns the offset just past the last line end of data that
// is outside any quoted field (RFC 4180), data starting at a record
// start; 0 if there is none. A quote opens a quoted field only at the
// start of a field; inside one, a doubled quote is a quote. A stray quote
// inside an unquoted field opens nothing (the worker rejects its line).
func recordCut(data []byte, delim byte) int {
	cut, i := 0, 0
	for {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			if j := bytes.LastIndexByte(data[i:], '\n'); j >= 0 {
				cut = i + j + 1
			}
			return cut
		}
		q += i
		if j := bytes.LastIndexByte(data[i:q], '\n'); j >= 0 {
			cut = i + j + 1
		}
		if q > 0 && data[q-1] != delim && data[q-1] != '\n' {
			i = q + 1
			continue
		}
		j, ok := closeQuote(data, q+1)
		if !ok {
			return cut
		}
		i = j
	}
}

// closeQuote returns the offset just past the quote that closes the
// quoted field whose text starts at data[i], and whether there is one.
func closeQuote(data []byte, i int) (int, bool) {
	for {
		k := bytes.IndexByte(data[i:], '"')
		if k < 0 {
			return len(data), false
		}
		i += k + 1
		if i < len(data) && data[i] == '"' {
			i++
			continue
		}
		return i, true
	}
}

// recordEnd returns the offset of the line end that ends the record
// starting at data[0] (len(data) if none), and whether the record's
// quoted fields are all closed there.
func recordEnd(data []byte, delim byte) (int, bool) {
	i := 0
	for {
		nl := bytes.IndexByte(data[i:], '\n')
		seg := data[i:]
		if nl >= 0 {
			seg = data[i : i+nl]
		}
		q := bytes.IndexByte(seg, '"')
		if q < 0 {
			if nl < 0 {
				return len(data), true
			}
			return i + nl, true
		}
		q += i
		if q > 0 && data[q-1] != delim && data[q-1] != '\n' {
			i = q + 1
			continue
		}
		j, ok := closeQuote(data, q+1)
		if !ok {
			return len(data), false
		}
		i = j
	}
}

// blockWorker holds what the workers of one file share (read only).
type blockWorker struct {
	t       schema.Table
	src     Source
	fid     int32
	delim   byte
	pos     []int
	columns []string
	enc     string // the declared encoding
	maxLine int
}

// parse validates the records of one block. A block that is valid UTF-8
// (or, declared GBK, plain ASCII) and holds no NUL byte is read as it is;
// any other has each record checked: a NUL byte rejects it (bad_char),
// and its encoding is decided on its own (decoder).
func (w *blockWorker) parse(p *rowParser, d *decoder, b *block) *blockResult {
	res := &blockResult{}
	if w.src.Format != JSONL {
		res.order = newKeyOrder(w.t, w.columns)
	}
	if b.long != nil {
		w.rejectLong(res, d, b)
		return res
	}
	p.start(bytes.Count(b.data, []byte{'\n'}) + 1)
	p.norm = [3]int64{}
	fast := w.asIs(b.data)
	gbkAt := func(int64) bool { return false }
	if !fast && w.enc == EncAuto {
		d.prefs = gbkLines(b.data, d.prefs)
		gbkAt = func(line int64) bool { return d.prefs[line-b.line] }
	}
	ncols := len(w.t.Columns)
	f := recordFields{fields: make([][]byte, 0, ncols), ordered: make([][]byte, ncols)}
	n := b.line - 1
	for data := b.data; len(data) > 0; {
		line, rest, nl := w.nextRecord(data)
		data = rest
		start := n + 1
		n += nl
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if isBlank(line) {
			res.blank++
			continue
		}
		res.read++
		stable := true // line points into the block
		first := !res.seenFirst
		res.seenFirst = true
		if len(line) > w.maxLine {
			res.rejects = append(res.rejects, w.tooLong(d, line, start))
			continue
		}
		if !fast {
			var ok bool
			if line, stable, ok = w.decodeRecord(res, d, line, start, gbkAt(start)); !ok {
				continue
			}
		}
		if first {
			res.firstLine = append([]byte(nil), line...)
		}
		var ok bool
		if w.src.Format == JSONL {
			ok = w.jsonValues(res, &f, line, start)
		} else {
			ok = w.csvValues(res, &f, line, start, stable)
		}
		if !ok {
			continue
		}
		if reason, col := p.row(w.fid, start, f.ordered); reason != "" {
			res.rejects = append(res.rejects, reject{line: start, reason: reason, column: col, raw: string(line)})
		}
	}
	if fast {
		// Every record was read as it is: count them as the file's
		// encoding, and note whether UTF-8 text went beyond ASCII.
		k := readUTF8
		if w.enc == EncGBK {
			k = readGBK
		}
		res.enc[k] = res.read
		res.nonASCII = k == readUTF8 && !asciiOnly(b.data)
	}
	res.order.detach()
	res.norm = p.norm
	res.late, p.late = p.late, nil
	res.rec = p.finish()
	return res
}

// recordFields is a block's scratch space for cutting records into
// values; its slices are reused from one record to the next.
type recordFields struct {
	fields  [][]byte // a CSV/TSV record's fields, in file order
	ordered [][]byte // the record's values in contract order (rowParser.row)
	unq     []byte   // the unquoted text of quoted fields
	rec     []string // a JSON record's values
}

// rejectLong quarantines the line of a long block, one over the maximum
// that was not held in memory, as line_too_long with the text of its
// first bytes.
func (w *blockWorker) rejectLong(res *blockResult, d *decoder, b *block) {
	text := b.long.prefix
	for k := 0; k < 4 && k < len(text); k++ { // the prefix may end inside a character
		if t, how := d.decode(b.long.prefix[:len(b.long.prefix)-k], false); how != readBad {
			text = t
			break
		}
	}
	res.read, res.seenFirst = 1, true
	res.rejects = append(res.rejects, reject{line: b.line, reason: schema.ReasonTooLong,
		detail: fmt.Sprintf("line of %d bytes, over the maximum of %d; raw text cut to its first %d bytes", b.long.size, w.maxLine, quarantineKeep),
		raw:    escapeRaw([]byte(cutText(string(text), quarantineKeep)))})
	res.order.detach()
}

// asIs reports whether a block can be read as it is, without checking
// each record: it holds no NUL byte and is valid UTF-8 (plain ASCII when
// the file is declared GBK).
func (w *blockWorker) asIs(data []byte) bool {
	switch {
	case bytes.IndexByte(data, 0) >= 0:
		return false
	case w.enc == EncGBK:
		return asciiOnly(data)
	}
	return utf8.Valid(data)
}

// nextRecord cuts the next record off data: the next physical line,
// extended to the whole record when a quoted field holds line breaks and
// the record is well formed (else the line is taken alone, and rejected
// for its quoting). It returns the record, without its line end but with
// any '\r' before it, the data after it and the number of physical lines
// it spans.
func (w *blockWorker) nextRecord(data []byte) (rec, rest []byte, lines int64) {
	end := bytes.IndexByte(data, '\n')
	if end < 0 {
		end = len(data)
	}
	rec, rest, lines = data[:end], data[min(end+1, len(data)):], 1
	if w.src.Format != JSONL && bytes.IndexByte(rec, '"') >= 0 {
		if e, closed := recordEnd(data, w.delim); e > end && closed {
			whole := bytes.TrimSuffix(data[:e], []byte{'\r'})
			if nf, ok := countFields(whole, w.delim); ok && nf == len(w.t.Columns) {
				rec, rest = data[:e], data[min(e+1, len(data)):]
				lines += int64(bytes.Count(rec, []byte{'\n'}))
			}
		}
	}
	return rec, rest, lines
}

// tooLong is the rejection (line_too_long) of a record over the maximum
// that starts on line start, its raw text cut to quarantineKeep bytes.
func (w *blockWorker) tooLong(d *decoder, rec []byte, start int64) reject {
	text, _ := d.decode(rec, false)
	if text == nil {
		text = rec
	}
	return reject{line: start, reason: schema.ReasonTooLong,
		detail: fmt.Sprintf("record of %d bytes, over the maximum of %d; raw text cut to its first %d bytes", len(rec), w.maxLine, quarantineKeep),
		raw:    escapeRaw([]byte(cutText(string(text), quarantineKeep)))}
}

// decodeRecord reads a record of a block that is not read as it is. A
// NUL byte rejects it (bad_char); else it is read as UTF-8 or as GBK
// (gbk: as its neighbours, when it is valid in both), or rejected
// (bad_encoding) when it is valid in neither. It returns the record as
// UTF-8 and whether that text points into the block (stable: not decoded
// into the decoder's buffer), or ok false when the record was rejected.
func (w *blockWorker) decodeRecord(res *blockResult, d *decoder, rec []byte, start int64, gbk bool) (text []byte, stable, ok bool) {
	if bytes.IndexByte(rec, 0) >= 0 {
		res.rejects = append(res.rejects, reject{line: start, reason: schema.ReasonBadChar,
			detail: "NUL byte", raw: escapeRaw(rec)})
		return nil, false, false
	}
	text, how := d.decode(rec, gbk)
	res.enc[how]++
	if how == readBad {
		detail := "valid in neither UTF-8 nor GBK"
		switch w.enc {
		case EncUTF8:
			detail = "invalid UTF-8 in a file declared UTF-8"
		case EncGBK:
			detail = "invalid GBK in a file declared GBK"
		}
		res.rejects = append(res.rejects, reject{line: start, reason: schema.ReasonBadEncoding,
			detail: detail, raw: escapeRaw(rec)})
		return nil, false, false
	}
	if how == readUTF8 && !res.nonASCII && !asciiOnly(rec) {
		res.nonASCII = true
	}
	return text, how != readGBK, true
}

// csvValues cuts a CSV/TSV record into f.ordered, in contract order,
// adds its key to the block's order (stable: rec points into the block)
// and notes a value with spaces or tabs around it. A record with broken
// quoting or the wrong number of fields is rejected (malformed_row) and
// csvValues returns false.
func (w *blockWorker) csvValues(res *blockResult, f *recordFields, rec []byte, start int64, stable bool) bool {
	// A record without quotes is cut at once; one with quotes is checked
	// first.
	ncols := len(w.t.Columns)
	quoted := bytes.IndexByte(rec, '"') >= 0
	nf, ok := 0, true
	if quoted {
		nf, ok = countFields(rec, w.delim)
	}
	switch {
	case !quoted:
		f.fields = splitPlain(rec, w.delim, f.fields)
		nf = len(f.fields)
	case ok && nf == ncols:
		f.fields, f.unq = splitFields(rec, w.delim, f.fields, f.unq)
	}
	if !ok || nf != ncols {
		msg := fmt.Sprintf("%d fields, want %d", nf, ncols)
		if !ok {
			msg = "broken quoting"
		}
		res.rejects = append(res.rejects, reject{line: start, reason: schema.ReasonMalformed, detail: msg, raw: string(rec)})
		return false
	}
	res.order.addFields(f.fields, quoted, start, stable)
	fields, ordered := f.fields, f.ordered
	for i, j := range w.pos {
		v := fields[j]
		if !res.trim && len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
			res.trim = true
		}
		ordered[i] = v
	}
	return true
}

// jsonValues reads a JSON Lines record into f.ordered, in contract
// order. Invalid JSON is rejected (malformed_row) and jsonValues returns
// false.
func (w *blockWorker) jsonValues(res *blockResult, f *recordFields, rec []byte, start int64) bool {
	var err error
	f.rec, err = jsonRecord(rec, w.t, f.rec)
	if err != nil {
		res.rejects = append(res.rejects, reject{line: start, reason: schema.ReasonMalformed, detail: err.Error(), raw: string(rec)})
		return false
	}
	for i, v := range f.rec {
		f.ordered[i] = []byte(v)
	}
	return true
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
					if err := checkHeader(fr.src.Rel, s.t, keys); errors.As(err, &he) && len(he.extra)+he.hidden > 0 {
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
		for i := range fr.enc {
			fr.enc[i] += r.enc[i]
		}
		fr.nonASCII = fr.nonASCII || r.nonASCII
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

// encodingName is how the file was read: its declared encoding, else
// utf8, gbk, or mixed when its records were read in more than one way
// (bad_encoding counted as one).
func (fr *fileRead) encodingName() string {
	if fr.encoding != EncAuto {
		return fr.encoding
	}
	kinds := 0
	if fr.nonASCII {
		kinds++
	}
	if fr.enc[readGBK] > 0 {
		kinds++
	}
	if fr.enc[readBad] > 0 {
		kinds++
	}
	switch {
	case kinds > 1:
		return "mixed"
	case fr.enc[readGBK] > 0:
		return EncGBK
	}
	return EncUTF8
}

// encodingLines returns the file's records by how they were read.
func (fr *fileRead) encodingLines() map[string]int64 {
	m := map[string]int64{}
	for i, n := range fr.enc {
		if n > 0 {
			m[encNames[i]] = n
		}
	}
	return m
}

// noteEncoding records how a file was read in its table's result, and
// warns, once per file, when its lines were not all read one way (UTF-8
// beyond ASCII beside GBK, or lines valid in neither).
func noteEncoding(log *slog.Logger, tr *TableResult, fr *fileRead) {
	if tr.Encodings == nil {
		tr.Encodings = map[string]string{}
	}
	if tr.EncodingLines == nil {
		tr.EncodingLines = map[string]map[string]int64{}
	}
	name := fr.encodingName()
	tr.Encodings[fr.src.Rel] = name
	tr.EncodingLines[fr.src.Rel] = fr.encodingLines()
	mixed := name == "mixed" || fr.enc[readBad] > 0
	if mixed && log != nil {
		log.Warn("raw file mixes encodings: each line was read in its own; lines valid in neither are quarantined as bad_encoding",
			"file", fr.src.Rel, "utf8_lines", fr.enc[readUTF8], "gbk_lines", fr.enc[readGBK],
			"bad_encoding_lines", fr.enc[readBad])
	}
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// rawLines returns the text of the records starting at the given
// physical lines of src, read again in its declared encoding enc, each
// line decoded on its own as when it was read (a quoted field's line
// breaks kept, invalid bytes as \\xNN, over-long lines cut).
func rawLines(src Source, enc string, want map[int64]bool) (map[int64]string, error) {
	out := make(map[int64]string, len(want))
	if len(want) == 0 {
		return out, nil
	}
	l, err := openLines(src, enc, 0)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	d := newDecoder(enc)
	delim := byte(',')
	if src.Format == TSV {
		delim = '\t'
	}
	// (The neighbours' encoding, as the reading saw it, for a line valid
	// both as UTF-8 and as GBK: the last line before that was not.)
	gbk := false
	see := func(line []byte) {
		switch {
		case asciiOnly(line):
		case !utf8.Valid(line):
			gbk = true
		case !gbkLike(line):
			gbk = false
		}
	}
	text := func(line []byte) string {
		see(line)
		if t, how := d.decode(line, gbk); how != readBad {
			return string(t)
		}
		return escapeRaw(line)
	}
	for len(out) < len(want) {
		line, err := l.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if !want[l.n] {
			if enc == EncAuto {
				see(line)
			}
			continue
		}
		at := l.n
		rec := []byte(text(line))
		if src.Format != JSONL {
			// A record whose quoted field holds line breaks goes on.
			for _, closed := recordEnd(rec, delim); !closed && len(rec) < l.max; _, closed = recordEnd(rec, delim) {
				cr := l.cr
				more, err := l.next()
				if err != nil {
					break
				}
				if cr {
					rec = append(rec, '\r')
				}
				rec = append(append(rec, '\n'), text(more)...)
			}
		}
		out[at] = string(rec)
	}
	return out, nil
}
