package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzIngestFile ingests one small bureau_reports file of arbitrary bytes
// and checks the invariants that hold for any input: the stage either
// refuses the file with a clear error (header, not text) or accounts for
// every data line, once, as accepted or quarantined, with the quarantined
// line's raw text equal to that physical line.
func FuzzIngestFile(f *testing.F) {
	const header = "borrower_id,report_date,open_accounts,total_outstanding,overdue_accounts,worst_status_24m\n"
	f.Add([]byte(header + "B1,2018-04-30,3,\"12,000.50\",0,0\nB2,2018/4/30,1,0,1,2\n"))
	f.Add([]byte(header + "B1,2018-04-30,3,-1,0,0\r\nB1,2018-04-30,3,-1,0,0\r\n\"B2,x\n"))
	f.Add([]byte("\ufeff" + header + "B1,20180430,3,1.5,0,9\n\nB1,2018-04-30,4,1.5,0,0"))
	f.Add([]byte(header + "B1,2018-04-30,,abc,\"0\"\"\",0\nB3,2018-02-30,1,1,1,1,1\n"))
	f.Add([]byte("borrower_id,report_date\nB1,2018-04-30\n"))
	f.Add([]byte(header + "\xb9\xe3\xd6\xdd,2018-04-30,1,1,1,1\n"))
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
			if err != nil || n < 2 || n > len(lines) || seen[n] {
				t.Fatalf("quarantine line %q of %d lines", r[1], len(lines))
			}
			seen[n] = true
			if want := strings.TrimSuffix(lines[n-1], "\r"); r[5] != want {
				t.Fatalf("line %d raw %q, want %q", n, r[5], want)
			}
		}
	})
}
