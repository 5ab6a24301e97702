package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"qiandun/data/schema"
)

// FuzzIngestFile ingests one small bureau_reports file of arbitrary bytes
// and checks the invariants that hold for any input: the stage either
// refuses the file with a clear error (header, not text) or accounts for
// every data record, once, as accepted or quarantined, with the
// quarantined record's raw text equal to its physical line (or lines, for
// a quoted field holding line breaks).
func FuzzIngestFile(f *testing.F) {
	const header = "borrower_id,report_date,open_accounts,total_outstanding,overdue_accounts,worst_status_24m\n"
	f.Add([]byte(header + "B1,2018-04-30,3,\"12,000.50\",0,0\nB2,2018/4/30,1,0,1,2\n"))
	f.Add([]byte(header + "B1,2018-04-30,3,-1,0,0\r\nB1,2018-04-30,3,-1,0,0\r\n\"B2,x\n"))
	f.Add([]byte("\ufeff" + header + "B1,20180430,3,1.5,0,9\n\nB1,2018-04-30,4,1.5,0,0"))
	f.Add([]byte(header + "B1,2018-04-30,,abc,\"0\"\"\",0\nB3,2018-02-30,1,1,1,1,1\n"))
	f.Add([]byte("borrower_id,report_date\nB1,2018-04-30\n"))
	f.Add([]byte(header + "\xb9\xe3\xd6\xdd,2018-04-30,1,1,1,1\n"))
	f.Add([]byte(header + "\"B\r\n1\",2018-04-30,3,1,0,0\r\n\"B\r\n1\",2018-04-30,3,1,0,0\r\nB\x002,2018-04-30,1,0,1,2\n\"B3,2018-04-30,1,0,1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, lk := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(raw, "bureau_reports.csv"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		o := testOptions(raw, lk)
		o.Log = discardLog()
		res, err := Run(context.Background(), o)
		if err != nil {
			var he *headerError
			msg := err.Error()
			if errors.As(err, &he) || strings.Contains(msg, "not a text") || strings.Contains(msg, "empty file") {
				return
			}
			t.Fatalf("Run: %v", err)
		}
		if len(res.Tables) != 1 {
			t.Fatalf("%d tables", len(res.Tables))
		}
		tr := res.Tables[0]
		if tr.Read != tr.Accepted+tr.Quarantined || tr.LakeRows != tr.Accepted {
			t.Fatalf("accounting: %+v", tr)
		}
		q := readQuarantine(t, lk, "bureau_reports")
		if int64(len(q)) != tr.Quarantined {
			t.Fatalf("%d quarantine rows, %d quarantined", len(q), tr.Quarantined)
		}
		if tr.Encodings["bureau_reports.csv"] != EncUTF8 {
			return // GBK-decoded text differs from the bytes
		}
		text := strings.TrimPrefix(string(data), "\ufeff")
		lines := strings.Split(text, "\n")
		seen := map[int]bool{}
		for _, r := range q {
			n, err := strconv.Atoi(r[1])
			// A record whose quoted field holds line breaks spans k lines.
			k := 1 + strings.Count(r[5], "\n")
			if err != nil || n < 2 || n+k-1 > len(lines) || seen[n] {
				t.Fatalf("quarantine line %q of %d lines", r[1], len(lines))
			}
			for i := range k {
				seen[n+i] = true
			}
			want := strings.TrimSuffix(strings.Join(lines[n-1:n-1+k], "\n"), "\r")
			if r[2] == "bad_char" {
				want = escapeRaw([]byte(want))
			}
			want = strings.ReplaceAll(want, "\r\n", "\n") // (encoding/csv reads CR LF in a field as LF)
			if r[5] != want {
				t.Fatalf("line %d raw %q, want %q", n, r[5], want)
			}
		}
	})
}

// FuzzReadRecords reads arbitrary bytes as a bureau_reports file straight
// through the block reader and its workers (no DuckDB, so it runs fast),
// in blocks and with a longest line chosen by the fuzzer, and checks
// that nothing is lost or counted twice: accepted rows plus rejected
// records make the records read, and no line starts two of them.
func FuzzReadRecords(f *testing.F) {
	const header = "borrower_id,report_date,open_accounts,total_outstanding,overdue_accounts,worst_status_24m\n"
	f.Add([]byte(header+"B1,2018-04-30,3,\"12,000.50\",0,0\n\"B\r\n2\",2018/4/30,1,0,1,2\n"), uint8(7), uint16(64))
	f.Add([]byte(header+"\"B1,2018-04-30,3,1,0,0\nB2,2018-04-30,1,0,1,2\n\"x\"\"\ny\",2018-04-30,1,0,1,2"), uint8(1), uint16(40))
	f.Add([]byte(header+"B\x001,2018-04-30,3,1,0,0\n\xe9\xff,2018-04-30,1,0,1,2\n\xb9\xe3\xd6\xdd,2018-04-30,1,1,1,1\n"), uint8(0), uint16(0))
	f.Add([]byte(header+strings.Repeat("x", 300)+"\nB2,2018-04-30,1,0,1,2\n"), uint8(50), uint16(100))
	f.Fuzz(func(t *testing.T, data []byte, block uint8, maxLine uint16) {
		p := filepath.Join(t.TempDir(), "bureau_reports.csv")
		if err := os.WriteFile(p, append([]byte(header), data...), 0o644); err != nil {
			t.Fatal(err)
		}
		tab, _ := schema.Lookup("bureau_reports")
		sch, err := lakeSchema(tab)
		if err != nil {
			t.Fatal(err)
		}
		src := Source{Table: tab.Name, Path: p, Rel: "bureau_reports.csv", Format: CSV}
		s, err := openStream(context.Background(), src, 0, EncAuto, streamOptions{t: tab, schema: sch, key: []byte("k"),
			workers: 2, blockSize: int(block), maxLine: int(maxLine)})
		if err != nil {
			return // a clear error for the whole file (header, not text)
		}
		defer s.close()
		starts := map[int64]bool{}
		var accepted int64
		for s.Next() {
			lines := s.RecordBatch().Column(1).(*array.Int64).Int64Values()
			for _, n := range lines {
				if starts[n] {
					t.Fatalf("line %d accepted twice", n)
				}
				starts[n] = true
			}
			accepted += int64(len(lines))
		}
		if err := s.Err(); err != nil {
			t.Fatalf("read: %v", err)
		}
		for _, r := range s.fr.rejects {
			if starts[r.line] || r.line < 2 {
				t.Fatalf("rejected line %d (%s) accepted too or out of range", r.line, r.reason)
			}
			starts[r.line] = true
		}
		if got := accepted + int64(len(s.fr.rejects)); got != s.fr.read {
			t.Fatalf("accepted %d + rejected %d != read %d", accepted, len(s.fr.rejects), s.fr.read)
		}
	})
}
