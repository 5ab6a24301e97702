package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"qiandun/data/ingest/normalize"
	"qiandun/data/schema"
)

// reject is one quarantined line.
type reject struct {
	line   int64
	reason string
	column string // the column at fault, when there is one
	detail string
	raw    string
}

// framed is a source after the framing pass: its well-formed data lines,
// each prefixed with its physical line number, in a UTF-8 CSV/TSV file
// that DuckDB reads with a fixed dialect.
type framed struct {
	src       Source
	fid       int
	path      string   // the framed file
	delim     byte     // its delimiter
	columns   []string // its columns after __line
	encoding  string   // the encoding the source was read in
	sha256    string
	bytes     int64
	read      int64 // data lines (blank lines excluded)
	trim      bool  // some value may have spaces or tabs around it
	blank     int64
	malformed []reject
	order     *keyOrder // CSV/TSV only: whether rows come sorted, where keys repeat
}

// progressFunc is told about lines framed so far.
type progressFunc func(lines int64)

// frame reads src and writes its framed form to out. Lines that cannot be
// a row of the table (wrong field count, broken quoting, invalid JSON) are
// kept as malformed rejects with their raw text; a header that does not
// match the contract is an error.
func frame(ctx context.Context, src Source, fid int, out string, prog progressFunc) (*framed, error) {
	fr, err := frameEnc(ctx, src, fid, out, src.Encoding, prog)
	if errors.Is(err, errNotUTF8) && src.Encoding == EncAuto {
		fr, err = frameEnc(ctx, src, fid, out, EncGBK, prog)
	}
	return fr, err
}

func frameEnc(ctx context.Context, src Source, fid int, out, enc string, prog progressFunc) (*framed, error) {
	t, _ := schema.Lookup(src.Table)
	l, err := openLines(src, enc)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	fr := &framed{src: src, fid: fid, path: out, delim: ',', encoding: l.enc}
	if src.Format == TSV {
		fr.delim = '\t'
	}
	ncols := len(t.Columns)
	var (
		buf    []byte
		rec    []string
		header = src.Format == JSONL // JSONL has no header line
	)
	if src.Format == JSONL {
		fr.columns = t.Names()
	}
	for {
		line, err := l.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errNotUTF8) {
				return nil, err
			}
			return nil, fmt.Errorf("%s:%d: %w", src.Rel, l.n+1, err)
		}
		if !header {
			header = true
			cols, err := parseHeader(line, rune(fr.delim))
			if err != nil {
				return nil, &headerError{file: src.Rel, table: t.Name, unreadable: err.Error()}
			}
			if err := checkHeader(src.Rel, t, cols); err != nil {
				return nil, err
			}
			fr.columns = cols
			fr.order = newKeyOrder(t, cols)
			continue
		}
		if isBlank(line) {
			fr.blank++
			continue
		}
		fr.read++
		if fr.read%(1<<16) == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if prog != nil {
				prog(1 << 16)
			}
		}
		if l.bad {
			fr.malformed = append(fr.malformed, reject{line: l.n, reason: schema.ReasonMalformed, detail: "invalid UTF-8 in a file declared UTF-8", raw: strings.ToValidUTF8(string(line), "\uFFFD")})
			continue
		}
		buf = strconv.AppendInt(buf[:0], l.n, 10)
		buf = append(buf, fr.delim)
		if src.Format == JSONL {
			if fr.read == 1 {
				keys, err := jsonKeys(line)
				if err == nil {
					if err := checkHeader(src.Rel, t, keys); err != nil {
						var he *headerError
						if errors.As(err, &he) && len(he.extra) > 0 {
							return nil, err
						}
					}
				}
			}
			var jerr error
			rec, jerr = jsonRecord(line, t, rec)
			if jerr != nil {
				fr.malformed = append(fr.malformed, reject{line: l.n, reason: schema.ReasonMalformed, detail: jerr.Error(), raw: string(line)})
				continue
			}
			for i, v := range rec {
				if i > 0 {
					buf = append(buf, ',')
				}
				buf = appendCSVField(buf, normalize.Trim(v))
			}
		} else {
			n, ok := countFields(line, fr.delim)
			if !ok || n != ncols {
				d := fmt.Sprintf("%d fields, want %d", n, ncols)
				if !ok {
					d = "broken quoting"
				}
				fr.malformed = append(fr.malformed, reject{line: l.n, reason: schema.ReasonMalformed, detail: d, raw: string(line)})
				continue
			}
			if !fr.trim && edgeSpace(line, fr.delim) {
				fr.trim = true
			}
			fr.order.add(line, l.n, fr.delim)
			buf = append(buf, line...)
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return nil, err
		}
	}
	if !header {
		return nil, fmt.Errorf("%s: empty file (no header line)", src.Rel)
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := l.drain(); err != nil {
		return nil, err
	}
	fr.sha256, fr.bytes = l.sum()
	if prog != nil {
		prog(fr.read % (1 << 16))
	}
	return fr, f.Close()
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
