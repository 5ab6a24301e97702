package ingest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"qiandun/data/schema"
)

// Format is a raw file's dialect, known from its extension.
type Format int

// The dialects ingestion reads.
const (
	CSV   Format = iota // comma-separated, RFC 4180 quoting, header line
	TSV                 // tab-separated, same quoting, header line
	JSONL               // one JSON object per line, keys are the columns
)

func (f Format) String() string { return [...]string{"csv", "tsv", "jsonl"}[f] }

// Encodings a raw file may be in.
const (
	EncAuto = ""     // decide line by line: UTF-8 (with or without BOM) if valid, else GBK, else bad_encoding
	EncUTF8 = "utf8" // UTF-8
	EncGBK  = "gbk"  // GBK (read as GB 18030's GBK subset through golang.org/x/text)
)

// Source is one raw file of a table.
type Source struct {
	Table    string
	Path     string // file system path
	Rel      string // path relative to the raw directory, slash-separated
	Format   Format
	Gzip     bool
	Encoding string // declared encoding, EncAuto to detect
}

// Discover finds the raw files of each table in dir: <table>.<ext>,
// <table>-*.<ext>, and any file inside <table>/, where ext is csv, tsv or
// jsonl, optionally followed by .gz. Dot-files and the generator's _truth
// directory are ignored; any other name is an error, as is a file of a
// table with another extension. Sources are returned in table order (parents
// first), files of a table sorted by relative path.
func Discover(dir string) ([]Source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("raw directory %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("raw directory %s: not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("raw directory %s: %w", dir, err)
	}
	var (
		out      []Source
		unknown  []string
		badFiles []string
	)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || name == "_truth" {
			continue
		}
		if e.IsDir() {
			if _, ok := schema.Lookup(name); !ok {
				unknown = append(unknown, name+"/")
				continue
			}
			sub, err := os.ReadDir(filepath.Join(dir, name))
			if err != nil {
				return nil, fmt.Errorf("raw directory %s: %w", dir, err)
			}
			for _, f := range sub {
				if strings.HasPrefix(f.Name(), ".") {
					continue
				}
				rel := name + "/" + f.Name()
				if f.IsDir() {
					badFiles = append(badFiles, rel+"/ (a directory)")
					continue
				}
				format, gz, ok := formatOf(f.Name())
				if !ok {
					badFiles = append(badFiles, rel)
					continue
				}
				out = append(out, Source{Table: name, Path: filepath.Join(dir, name, f.Name()), Rel: rel, Format: format, Gzip: gz})
			}
			continue
		}
		stem, _, _ := strings.Cut(name, ".")
		table, _, _ := strings.Cut(stem, "-")
		if _, ok := schema.Lookup(table); !ok || (stem != table && !strings.HasPrefix(stem, table+"-")) {
			unknown = append(unknown, name)
			continue
		}
		format, gz, ok := formatOf(name)
		if !ok {
			badFiles = append(badFiles, name)
			continue
		}
		out = append(out, Source{Table: table, Path: filepath.Join(dir, name), Rel: name, Format: format, Gzip: gz})
	}
	if len(unknown) > 0 {
		var names []string
		for _, t := range schema.Tables() {
			names = append(names, t.Name)
		}
		return nil, fmt.Errorf("raw directory %s: unknown table name(s) %s (expected files named after a table: %s)",
			dir, strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	if len(badFiles) > 0 {
		return nil, fmt.Errorf("raw directory %s: %s: not a CSV, TSV or JSONL file (want .csv, .tsv or .jsonl, optionally .gz)", dir, strings.Join(badFiles, ", "))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("raw directory %s: no raw files found", dir)
	}
	order := map[string]int{}
	for i, t := range schema.Tables() {
		order[t.Name] = i
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return order[out[i].Table] < order[out[j].Table]
		}
		return out[i].Rel < out[j].Rel
	})
	return out, nil
}

func formatOf(name string) (Format, bool, bool) {
	gz := false
	if n, ok := strings.CutSuffix(name, ".gz"); ok {
		name, gz = n, true
	}
	switch path.Ext(name) {
	case ".csv":
		return CSV, gz, true
	case ".tsv":
		return TSV, gz, true
	case ".jsonl":
		return JSONL, gz, true
	}
	return 0, false, false
}

// DefaultMaxLine is the longest record (in bytes, a multi-line quoted
// record counted whole) read as a row; a longer one is quarantined as
// line_too_long with only its first quarantineKeep bytes kept, so that a
// 50 MB line costs no more memory than a short one.
const DefaultMaxLine = 1 << 20

// quarantineKeep is how much of an over-long line the quarantine keeps.
const quarantineKeep = 1024

// Gzip is read with klauspost/compress's gzip, a quarter less CPU than
// compress/gzip on the raw exports (its errors are compress/gzip's).

// lines reads the physical lines of a source: decompressed, without the
// BOM and without line ends, in the file's own bytes (each line is
// decoded on its own, see decoder).
type lines struct {
	f    *os.File
	gz   *gzip.Reader
	r    *bufio.Reader
	n    int64 // physical line number of the last line returned
	long []byte
	enc  string // the declared encoding (EncAuto: UTF-8, else GBK, line by line)
	max  int    // the longest line kept whole
	cut  int64  // the length of the last line returned, when it was cut to max; else 0
	cr   bool   // the last line returned ended in CR LF
	hash hash.Hash
	size int64
}

const sniffSize = 64 << 10

// gzipError is a damaged gzip stream: truncated, or its trailer's CRC or
// size does not match the data.
type gzipError struct {
	file string
	msg  string
	err  error
}

func (e *gzipError) Error() string { return e.file + ": " + e.msg }
func (e *gzipError) Unwrap() error { return e.err }

// gzipCheck reads a gzip stream and turns its errors into gzipErrors
// naming the file: io.ErrUnexpectedEOF (a truncated stream) is an error,
// never the end of the data.
type gzipCheck struct {
	r    io.Reader
	file string
	n    int64
}

func (g *gzipCheck) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.n += int64(n)
	switch {
	case err == nil || err == io.EOF:
		return n, err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return n, &gzipError{g.file, fmt.Sprintf("truncated gzip: unexpected EOF after %d bytes", g.n), err}
	case errors.Is(err, gzip.ErrChecksum):
		return n, &gzipError{g.file, fmt.Sprintf("corrupt gzip: the trailer's CRC-32 or size does not match the data (after %d bytes)", g.n), err}
	case errors.Is(err, gzip.ErrHeader):
		return n, &gzipError{g.file, fmt.Sprintf("corrupt gzip: invalid member header after %d bytes (trailing garbage?)", g.n), err}
	}
	return n, &gzipError{g.file, fmt.Sprintf("corrupt gzip after %d bytes: %v", g.n, err), err}
}

// openLines opens src for reading in the declared encoding enc, lines
// longer than maxLine (0: DefaultMaxLine) cut. A file whose first 64 KiB
// hold NUL bytes in its first line or, past eight, more than one in a
// thousand is not
// text (binary, or UTF-16) and an error; a NUL byte elsewhere only
// rejects its row (bad_char).
func openLines(src Source, enc string, maxLine int) (*lines, error) {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, err
	}
	l := &lines{f: f, hash: sha256.New(), enc: enc, max: maxLine}
	var r io.Reader = io.TeeReader(f, countWriter{l.hash, &l.size})
	if src.Gzip {
		gz, err := gzip.NewReader(bufio.NewReaderSize(r, 1<<20))
		if err != nil {
			f.Close()
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%s: truncated gzip: unexpected EOF in the gzip header", src.Rel)
			}
			return nil, fmt.Errorf("%s: not a gzip file: %w", src.Rel, err)
		}
		l.gz, r = gz, &gzipCheck{r: gz, file: src.Rel}
	}
	br := bufio.NewReaderSize(r, 1<<20)
	peek, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		l.Close()
		return nil, err
	}
	if nul := bytes.Count(peek, []byte{0}); nul > 0 {
		first := peek
		if i := bytes.IndexByte(peek, '\n'); i >= 0 {
			first = peek[:i]
		}
		if bytes.IndexByte(first, 0) >= 0 || (nul > 8 && nul*1000 > len(peek)) {
			l.Close()
			return nil, fmt.Errorf("%s: not a text %s file (it holds NUL bytes: binary or UTF-16?)", src.Rel, src.Format)
		}
	}
	if bytes.HasPrefix(peek, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
	}
	l.r = br
	return l, nil
}

type countWriter struct {
	w io.Writer
	n *int64
}

func (c countWriter) Write(p []byte) (int, error) {
	*c.n += int64(len(p))
	return c.w.Write(p)
}

// next returns the next physical line (valid until the next call), or
// io.EOF. A line longer than l.max is cut to its first l.max bytes and
// l.cut says how long it was.
func (l *lines) next() ([]byte, error) {
	line, err := l.r.ReadSlice('\n')
	total := len(line)
	if err == bufio.ErrBufferFull {
		l.long = append(l.long[:0], line[:min(len(line), l.max)]...)
		for err == bufio.ErrBufferFull {
			line, err = l.r.ReadSlice('\n')
			total += len(line)
			if k := l.max - len(l.long); k > 0 {
				l.long = append(l.long, line[:min(len(line), k)]...)
			}
		}
		line = l.long
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(line) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	l.n++
	line = bytes.TrimSuffix(line, []byte("\n"))
	l.cr = bytes.HasSuffix(line, []byte("\r"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	l.cut = 0
	if len(line) > l.max || total > l.max+2 {
		l.cut = int64(total)
		line = line[:min(len(line), l.max)]
	}
	return line, nil
}

// sum returns the SHA-256 and size of the file's bytes read so far; after
// drain it is the whole file's.
func (l *lines) sum() (string, int64) { return hex.EncodeToString(l.hash.Sum(nil)), l.size }

// drain reads the rest of the underlying file into the hash.
func (l *lines) drain() error {
	_, err := io.Copy(countWriter{l.hash, &l.size}, l.f)
	return err
}

func (l *lines) Close() error {
	if l.gz != nil {
		l.gz.Close()
	}
	return l.f.Close()
}

// How a record was read (decoder.decode).
const (
	readBad  = iota // valid in neither UTF-8 nor GBK: bad_encoding
	readUTF8        // valid UTF-8
	readGBK         // decoded from GBK
)

// encNames names the ways a record is read, as the manifest counts them.
var encNames = [3]string{readBad: schema.ReasonBadEncoding, readUTF8: EncUTF8, readGBK: EncGBK}

// decoder decides the encoding of each record on its own: a record that
// is valid UTF-8 is UTF-8; else, unless the file is declared UTF-8, it is
// GBK (read by golang.org/x/text's GB 18030 decoder, a superset of GBK)
// if it decodes without a replacement character; else it is neither. A
// file declared GBK has every record read as GBK. It is not safe for
// concurrent use.
type decoder struct {
	enc   string
	gb    transform.Transformer
	buf   []byte
	prefs []bool // gbkLines of the current block
}

func newDecoder(enc string) *decoder {
	return &decoder{enc: enc, gb: simplifiedchinese.GB18030.NewDecoder()}
}

// decode returns rec as UTF-8 (valid until the next call) and how it was
// read. A record valid both as UTF-8 and as GBK (短 GBK words can be
// valid UTF-8, 未知 is CE B4 D6 AA) is read as GBK when gbk says its
// neighbours are (see gbkLines).
func (d *decoder) decode(rec []byte, gbk bool) ([]byte, int) {
	switch d.enc {
	case EncGBK:
		if asciiOnly(rec) {
			return rec, readGBK
		}
		return d.gbk(rec)
	case EncUTF8:
		if utf8.Valid(rec) {
			return rec, readUTF8
		}
		return nil, readBad
	}
	if utf8.Valid(rec) {
		if gbk && !asciiOnly(rec) {
			if out, how := d.gbk(rec); how == readGBK {
				return out, how
			}
		}
		return rec, readUTF8
	}
	return d.gbk(rec)
}

// gbkLines decides, for each physical line of data (a block of a file
// whose encoding is decided line by line), whether it is read as GBK
// should it be valid both as UTF-8 and as GBK: as the nearest line before
// it that is valid in one only, else the nearest after it, else not
// (UTF-8). (Mixed files are files put together: neighbours share their
// encoding.) The result reuses buf.
func gbkLines(data []byte, buf []bool) []bool {
	const (
		none = iota
		isUTF8
		isGBK
	)
	buf = buf[:0]
	var first, last int8 = none, none
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data
		if i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		c := int8(none)
		switch {
		case asciiOnly(line):
		case !utf8.Valid(line):
			c = isGBK
		case !gbkLike(line):
			c = isUTF8
		}
		if c != none {
			last = c
			if first == none {
				first = c
			}
		}
		buf = append(buf, last == isGBK)
	}
	for i := range buf { // lines before the first decided one
		if !buf[i] && first == isGBK {
			buf[i] = true
			continue
		}
		break
	}
	return buf
}

// gbkLike reports whether b has the shape of GBK text: every byte above
// 0x80 but 0xFF leads a pair whose second byte is 0x40..0xFE but 0x7F.
// (Whether each pair is a character is for the decoder to say.)
func gbkLike(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c <= 0x80:
		case c == 0xFF || i+1 >= len(b):
			return false
		default:
			if t := b[i+1]; t < 0x40 || t == 0x7F || t == 0xFF {
				return false
			}
			i++
		}
	}
	return true
}

func (d *decoder) gbk(rec []byte) ([]byte, int) {
	d.gb.Reset()
	if cap(d.buf) < 2*len(rec)+8 {
		d.buf = make([]byte, 2*len(rec)+8)
	}
	d.buf = d.buf[:cap(d.buf)]
	n, _, err := d.gb.Transform(d.buf, rec, true)
	for err == transform.ErrShortDst {
		d.buf = make([]byte, 2*len(d.buf))
		d.gb.Reset()
		n, _, err = d.gb.Transform(d.buf, rec, true)
	}
	out := d.buf[:n]
	if err != nil || bytes.Contains(out, []byte("\uFFFD")) {
		return nil, readBad
	}
	return out, readGBK
}

// asciiOnly reports whether b holds only ASCII bytes.
func asciiOnly(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// escapeRaw returns b as text for the quarantine: valid UTF-8 as is, NUL
// and invalid bytes as \xNN.
func escapeRaw(b []byte) string {
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return string(b)
	}
	var s strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if (r == utf8.RuneError && n == 1) || r == 0 {
			fmt.Fprintf(&s, "\\x%02x", b[0])
		} else {
			s.Write(b[:n])
		}
		b = b[n:]
	}
	return s.String()
}

// cutText returns at most n bytes of s, not splitting a UTF-8 sequence.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// headerError reports a header that does not match the contract. It
// never quotes a value of the line: a file exported without its header
// line has a record (ID number, name, phone) where the header should be,
// so only names that are plausibly column names are shown, and none when
// the line looks like data.
type headerError struct {
	file      string
	table     string
	missing   []string
	extra     []string // unexpected names shown
	hidden    int      // unexpected names not shown
	duplicate []string
	fields    int  // fields of the line
	data      bool // the line looks like data, not a header
	// unreadable says why the header line could not be read (no value).
	unreadable string
}

func (e *headerError) Error() string {
	if e.unreadable != "" {
		return fmt.Sprintf("%s:1: header of table %s cannot be read: %s", e.file, e.table, e.unreadable)
	}
	var parts []string
	if len(e.missing) > 0 {
		parts = append(parts, "missing columns "+strings.Join(e.missing, ", "))
	}
	switch {
	case len(e.extra) > 0 && e.hidden > 0:
		parts = append(parts, fmt.Sprintf("unexpected columns %s and %d more not shown", strings.Join(e.extra, ", "), e.hidden))
	case len(e.extra) > 0:
		parts = append(parts, "unexpected columns "+strings.Join(e.extra, ", "))
	case e.hidden > 0:
		parts = append(parts, fmt.Sprintf("%d unexpected names (not shown)", e.hidden))
	}
	if len(e.duplicate) > 0 {
		parts = append(parts, "repeated columns "+strings.Join(e.duplicate, ", "))
	}
	msg := fmt.Sprintf("%s:1: header of %s does not match table %s: %s", e.file, e.file, e.table, strings.Join(parts, "; "))
	if e.data {
		msg += fmt.Sprintf(" (the first line looks like data, not a header: %d fields; was the file exported without its header line?)", e.fields)
	}
	return msg
}

// columnLike reports whether a header name may be shown in an error: a
// plausible column name (lower-case letters, digits and underscores,
// starting with a letter), not a value (an ID number, phone, name or
// address has digits first, other characters, or is long).
func columnLike(s string) bool {
	if s == "" || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkHeader compares a file's column names with the contract.
func checkHeader(file string, t schema.Table, cols []string) error {
	e := &headerError{file: file, table: t.Name, fields: len(cols)}
	seen := map[string]bool{}
	known := 0
	for _, c := range cols {
		if _, ok := t.Column(c); ok {
			known++
		}
	}
	// Fewer than half the fields name a column of the table: data.
	e.data = 2*known < len(cols)
	for _, c := range cols {
		_, ok := t.Column(c)
		if seen[c] && ok {
			e.duplicate = append(e.duplicate, c)
		}
		seen[c] = true
		if !ok {
			if !e.data && columnLike(c) {
				e.extra = append(e.extra, c)
			} else {
				e.hidden++
			}
		}
	}
	for _, c := range t.Columns {
		if !seen[c.Name] {
			e.missing = append(e.missing, c.Name)
		}
	}
	if len(e.missing)+len(e.extra)+len(e.duplicate)+e.hidden > 0 {
		return e
	}
	return nil
}

// parseHeader splits a CSV/TSV header line into trimmed, lower-case names.
func parseHeader(line []byte, delim rune) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(line))
	r.Comma = delim
	rec, err := r.Read()
	if err != nil {
		return nil, err
	}
	for i := range rec {
		rec[i] = strings.ToLower(strings.TrimSpace(rec[i]))
	}
	return rec, nil
}

// countFields returns the number of fields of a CSV/TSV line and whether
// its quoting is well formed (RFC 4180: a field is either unquoted and
// holds no quote, or wholly quoted with inner quotes doubled).
func countFields(line []byte, delim byte) (int, bool) {
	if bytes.IndexByte(line, '"') < 0 {
		return bytes.Count(line, []byte{delim}) + 1, true
	}
	n, i := 1, 0
	for {
		if i < len(line) && line[i] == '"' {
			i++
			for {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					return n, false // unterminated quote
				}
				i += j + 1
				if i < len(line) && line[i] == '"' {
					i++
					continue
				}
				break
			}
			if i == len(line) {
				return n, true
			}
			if line[i] != delim {
				return n, false
			}
			i++
			n++
			continue
		}
		j := bytes.IndexByte(line[i:], delim)
		field := line[i:]
		if j >= 0 {
			field = line[i : i+j]
		}
		if bytes.IndexByte(field, '"') >= 0 {
			return n, false
		}
		if j < 0 {
			return n, true
		}
		i += j + 1
		n++
	}
}

// jsonRecord decodes one JSON Lines record into the table's columns, in
// contract order; missing keys are empty (missing) values.
func jsonRecord(line []byte, t schema.Table, out []string) ([]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	out = out[:0]
	for _, c := range t.Columns {
		raw, ok := m[c.Name]
		if !ok || string(raw) == "null" {
			out = append(out, "")
			continue
		}
		switch raw[0] {
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, err
			}
			out = append(out, s)
		case '{', '[':
			return nil, fmt.Errorf("column %s: nested JSON value", c.Name)
		default:
			out = append(out, string(raw))
		}
	}
	if len(m) > len(t.Columns) {
		var extra []string
		for k := range m {
			if _, ok := t.Column(k); !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		return nil, fmt.Errorf("unknown keys %s", strings.Join(extra, ", "))
	}
	return out, nil
}

// jsonKeys returns the keys of the first JSON Lines record.
func jsonKeys(line []byte) ([]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}
