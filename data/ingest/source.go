package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
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
	"strconv"
	"strings"
	"unicode/utf8"

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
	EncAuto = ""     // detect: UTF-8 (with or without BOM) unless it is invalid UTF-8, then GBK
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

// errNotUTF8 says an auto-detected UTF-8 file turned out to hold invalid
// UTF-8 past the sniffed prefix: it is read again as GBK.
var errNotUTF8 = errors.New("invalid UTF-8")

// lines reads the physical lines of a source: decompressed, transcoded to
// UTF-8, without the BOM and without line ends.
type lines struct {
	f     *os.File
	gz    *gzip.Reader
	r     *bufio.Reader
	n     int64 // physical line number of the last line returned
	long  []byte
	enc   string // the encoding in use
	check bool   // verify UTF-8
	retry bool   // invalid UTF-8 means the file is GBK after all (auto-detected UTF-8)
	bad   bool   // the last line returned is not valid UTF-8 (declared UTF-8)
	hash  hash.Hash
	size  int64
}

const sniffSize = 64 << 10

func openLines(src Source, enc string) (*lines, error) {
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, err
	}
	l := &lines{f: f, hash: sha256.New()}
	var r io.Reader = io.TeeReader(f, countWriter{l.hash, &l.size})
	if src.Gzip {
		gz, err := gzip.NewReader(bufio.NewReaderSize(r, 1<<20))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: not a gzip file: %w", src.Rel, err)
		}
		l.gz, r = gz, gz
	}
	br := bufio.NewReaderSize(r, 1<<20)
	peek, _ := br.Peek(sniffSize)
	if bytes.IndexByte(peek, 0) >= 0 {
		l.Close()
		return nil, fmt.Errorf("%s: not a text %s file (it holds NUL bytes)", src.Rel, src.Format)
	}
	bom := bytes.HasPrefix(peek, []byte("\xEF\xBB\xBF"))
	if enc == EncAuto {
		enc = EncUTF8
		if !bom && !validPrefix(peek, len(peek) < sniffSize) {
			enc = EncGBK
		}
		l.retry = enc == EncUTF8
	}
	l.check = enc == EncUTF8
	l.enc = enc
	if bom {
		br.Discard(3)
	}
	if enc == EncGBK {
		br = bufio.NewReaderSize(transform.NewReader(br, simplifiedchinese.GBK.NewDecoder()), 1<<20)
	}
	l.r = br
	return l, nil
}

// validPrefix reports whether p is valid UTF-8, allowing a rune cut at
// the end unless p is the whole input.
func validPrefix(p []byte, whole bool) bool {
	if utf8.Valid(p) {
		return true
	}
	if whole {
		return false
	}
	for i := 1; i <= 3 && i < len(p); i++ {
		if utf8.Valid(p[:len(p)-i]) {
			return true
		}
	}
	return false
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
// io.EOF. With UTF-8 checking on, a line of invalid UTF-8 returns
// errNotUTF8.
func (l *lines) next() ([]byte, error) {
	line, err := l.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l.long = append(l.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = l.r.ReadSlice('\n')
			l.long = append(l.long, line...)
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
	line = bytes.TrimSuffix(line, []byte("\r"))
	l.bad = false
	if l.check && !utf8.Valid(line) {
		if l.retry {
			return nil, errNotUTF8
		}
		l.bad = true
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

// headerError reports a header that does not match the contract.
type headerError struct {
	file           string
	table          string
	missing, extra []string
	duplicate      []string
	unreadable     string
}

func (e *headerError) Error() string {
	if e.unreadable != "" {
		return fmt.Sprintf("%s:1: header of table %s cannot be read: %s", e.file, e.table, e.unreadable)
	}
	var parts []string
	if len(e.missing) > 0 {
		parts = append(parts, "missing columns "+strings.Join(e.missing, ", "))
	}
	if len(e.extra) > 0 {
		parts = append(parts, "extra columns "+strings.Join(e.extra, ", "))
	}
	if len(e.duplicate) > 0 {
		parts = append(parts, "repeated columns "+strings.Join(e.duplicate, ", "))
	}
	return fmt.Sprintf("%s:1: header does not match table %s: %s", e.file, e.table, strings.Join(parts, "; "))
}

// checkHeader compares a file's column names with the contract.
func checkHeader(file string, t schema.Table, cols []string) error {
	e := &headerError{file: file, table: t.Name}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c] {
			e.duplicate = append(e.duplicate, c)
		}
		seen[c] = true
		if _, ok := t.Column(c); !ok {
			e.extra = append(e.extra, strconv.Quote(c))
		}
	}
	for _, c := range t.Columns {
		if !seen[c.Name] {
			e.missing = append(e.missing, c.Name)
		}
	}
	if len(e.extra) > 0 && 2*len(e.missing) > len(t.Columns) {
		// Most columns absent: likely no header line, so the "names" are
		// the first record's values (ID numbers, names, phones): never
		// quote them (Error shows unreadable alone).
		e.unreadable = fmt.Sprintf("it names %d of the table's %d columns: is the header line missing? (the line is not shown: it may hold personal data)",
			len(t.Columns)-len(e.missing), len(t.Columns))
		return e
	}
	if len(e.missing)+len(e.extra)+len(e.duplicate) > 0 {
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

// edgeSpace reports whether some field of a well-formed CSV/TSV line may
// begin or end with a space or tab (inside or outside quotes), so that its
// values need trimming. It errs on the side of true.
func edgeSpace(line []byte, delim byte) bool {
	isSp := func(c byte) bool { return c == ' ' || c == '\t' }
	if len(line) == 0 || bytes.IndexByte(line, ' ') < 0 && bytes.IndexByte(line, '\t') < 0 {
		return false // no space or tab anywhere (a quick scan)
	}
	if isSp(line[0]) || isSp(line[len(line)-1]) {
		return true
	}
	if len(line) > 1 && line[0] == '"' && isSp(line[1]) {
		return true
	}
	if len(line) > 1 && line[len(line)-1] == '"' && isSp(line[len(line)-2]) {
		return true
	}
	for i := 0; ; {
		j := bytes.IndexByte(line[i:], delim)
		if j < 0 {
			return false
		}
		p := i + j
		// Neighbours of the delimiter, and of a quote next to it.
		if p > 0 && (isSp(line[p-1]) || (line[p-1] == '"' && p > 1 && isSp(line[p-2]))) {
			return true
		}
		if p+1 < len(line) && (isSp(line[p+1]) || (line[p+1] == '"' && p+2 < len(line) && isSp(line[p+2]))) {
			return true
		}
		i = p + 1
	}
}

// appendCSVField appends s as a quoted CSV field.
func appendCSVField(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
