package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"qiandun/data/gen"
	"qiandun/data/lake"
)

// Tests of reading raw files: encodings decided line by line, damaged
// gzip, RFC 4180 multi-line fields, NUL bytes, missing exports.

// smallBook writes a generated clean UTF-8 book of n loans.
func smallBook(t *testing.T, n int) string {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Seed = n, 3
	dir, _ := genBook(t, cfg)
	return dir
}

// copyBook copies a raw book's table files into a new directory.
func copyBook(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, _ := os.ReadDir(src)
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// editLines rewrites the lines (1-based) of a file for which f returns
// new bytes.
func editLines(t *testing.T, file string, f func(n int, line []byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i := range lines {
		lines[i] = f(i+1, lines[i])
	}
	if err := os.WriteFile(file, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
}

// manifestTables returns the per-table results of the lake's ingest manifest.
func manifestTables(t *testing.T, lk string) map[string]map[string]any {
	t.Helper()
	m, err := lake.New(lk).ReadManifest(Stage)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m.Extra["tables"])
	var trs []map[string]any
	json.Unmarshal(b, &trs)
	out := map[string]map[string]any{}
	for _, tr := range trs {
		out[tr["table"].(string)] = tr
	}
	return out
}

// TestEncodingPerLine: one byte that is neither UTF-8 nor GBK costs its
// line (bad_encoding) and nothing else; a file half UTF-8 and half GBK
// reads every Chinese field right. Either way the file is warned about
// with its counts per encoding, which the manifest also holds.
func TestEncodingPerLine(t *testing.T) {
	book := smallBook(t, 400)
	ref := t.TempDir()
	run(t, testOptions(book, ref))
	want := lakeRows(t, ref)

	t.Run("one bad byte", func(t *testing.T) {
		raw, lk := copyBook(t, book), t.TempDir()
		var id string
		editLines(t, filepath.Join(raw, "loans.csv"), func(n int, l []byte) []byte {
			if n == 201 { // sed -i '201s/,/,\xe9\xff/'
				id = string(l[:bytes.IndexByte(l, ',')])
				return bytes.Replace(l, []byte(","), []byte(",\xe9\xff"), 1)
			}
			return l
		})
		var logBuf bytes.Buffer
		o := testOptions(raw, lk)
		o.Log = slog.New(slog.NewTextHandler(&logBuf, nil))
		res := run(t, o)
		tr := tableResult(t, res, "loans")
		if tr.Quarantined != 1 || tr.Reasons["bad_encoding"] != 1 {
			t.Errorf("loans: quarantined %d %v, want 1 bad_encoding", tr.Quarantined, tr.Reasons)
		}
		got := lakeRows(t, lk)["loans"]
		var keep []string
		for _, r := range want["loans"] {
			if !strings.HasPrefix(r, id+"|") {
				keep = append(keep, r)
			}
		}
		if strings.Join(got, "\n") != strings.Join(keep, "\n") {
			t.Errorf("loans differ from the clean book's but for %s (%d rows, want %d)", id, len(got), len(keep))
		}
		q := readQuarantine(t, lk, "loans")
		if len(q) != 1 || q[0][1] != "201" || q[0][2] != "bad_encoding" || !strings.Contains(q[0][5], `\xe9\xff`) {
			t.Errorf("quarantine %q", q)
		}
		if !strings.Contains(logBuf.String(), "level=WARN") || !strings.Contains(logBuf.String(), "file=loans.csv") ||
			!strings.Contains(logBuf.String(), "bad_encoding_lines=1") {
			t.Errorf("no warning about loans.csv's encodings in the log:\n%s", logBuf.String())
		}
		el, _ := json.Marshal(manifestTables(t, lk)["loans"]["encoding_lines"])
		if !strings.Contains(string(el), `"bad_encoding":1`) {
			t.Errorf("manifest encoding_lines %s", el)
		}
	})

	t.Run("half GBK", func(t *testing.T) {
		raw, lk := copyBook(t, book), t.TempDir()
		enc := simplifiedchinese.GBK.NewEncoder()
		half := 0
		for _, f := range []string{"applications.csv", "loans.csv"} {
			b, _ := os.ReadFile(filepath.Join(raw, f))
			half = bytes.Count(b, []byte("\n")) / 2
			editLines(t, filepath.Join(raw, f), func(n int, l []byte) []byte {
				if n <= half {
					return l
				}
				g, err := enc.Bytes(l)
				if err != nil {
					t.Fatal(err)
				}
				return g
			})
		}
		var logBuf bytes.Buffer
		o := testOptions(raw, lk)
		o.Log = slog.New(slog.NewTextHandler(&logBuf, nil))
		res := run(t, o)
		got := lakeRows(t, lk)
		for _, tb := range []string{"applications", "loans"} {
			if tr := tableResult(t, res, tb); tr.Quarantined != 0 {
				t.Errorf("%s: quarantined %v", tb, tr.Reasons)
			}
			if strings.Join(got[tb], "\n") != strings.Join(want[tb], "\n") {
				t.Errorf("%s differs from the all-UTF-8 book's", tb)
			}
			el, _ := json.Marshal(manifestTables(t, lk)[tb]["encoding_lines"])
			var m map[string]map[string]int
			json.Unmarshal(el, &m)
			if c := m[tb+".csv"]; c["gbk"] == 0 || c["utf8"] == 0 || c["gbk"]+c["utf8"] != int(tableResult(t, res, tb).Read) {
				t.Errorf("%s: encoding_lines %s", tb, el)
			}
			if !strings.Contains(logBuf.String(), "file="+tb+".csv") {
				t.Errorf("no warning naming %s.csv", tb)
			}
		}
	})
}

// TestGBKNeighbours: a GBK line that happens to be valid UTF-8 (未知 is
// CE B4 D6 AA in GBK) among GBK lines is read as GBK; a file declared GBK
// reads it as GBK whatever its neighbours.
func TestGBKNeighbours(t *testing.T) {
	book := cleanBook()
	lines := strings.SplitAfter(book["applications"], "\n")
	lines[3] = strings.Replace(strings.Replace(lines[3], "王五", "Wang Wu", 1), "广州", "未知", 1)
	body := toGBK(t, strings.Join(lines, ""))
	if !bytes.Contains([]byte(body), []byte("\xce\xb4\xd6\xaa")) {
		t.Fatal("test data: 未知 not in GBK")
	}
	for _, declared := range []string{"", "gbk"} {
		raw, lk := t.TempDir(), t.TempDir()
		files := bookFiles(book)
		files["applications.csv"] = body
		writeRaw(t, raw, files)
		o := testOptions(raw, lk)
		if declared != "" {
			o.Config = &Config{Files: map[string]FileConfig{"applications.csv": {Encoding: declared}}}
		}
		run(t, o)
		db := openDB(t)
		scan, _ := lake.New(lk).Scan("applications")
		if got := query(t, db, "SELECT city FROM "+scan+" WHERE application_id = 'A3'"); len(got) != 1 || got[0] != "未知" {
			t.Errorf("declared %q: city %q, want 未知", declared, got)
		}
	}
}

// TestTruncatedGzip: a .gz cut short is an error naming the file, not the
// end of the data, and the lake keeps what it had.
func TestTruncatedGzip(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	writeRaw(t, raw, bookFiles(cleanBook()))
	run(t, testOptions(raw, lk))
	before := snapshot(t, lk)

	var more strings.Builder
	more.WriteString("loan_id,application_id,borrower_id,product,issue_date,principal,annual_rate,term_months,repay_method,purpose,collateral_type,collateral_value,region,status\n")
	for i := range 5000 {
		fmt.Fprintf(&more, "M%05d,A1,B1,cash,2018-05-03,5000.00,0.18,12,equal_installment,消费,none,,北京,active\n", i)
	}
	z := gz(t, more.String())
	for name, body := range map[string]string{
		"truncated gzip: unexpected EOF after": z[:len(z)/2],
		"corrupt gzip":                         z[:len(z)-8] + "\x00\x00\x00\x00" + z[len(z)-4:], // CRC-32 zeroed
		"truncated gzip: unexpected EOF":       z[:len(z)-4],                                     // size missing
	} {
		writeRaw(t, raw, map[string]string{"loans-2.csv.gz": body})
		_, err := Run(context.Background(), testOptions(raw, lk))
		if err == nil || !strings.Contains(err.Error(), "loans-2.csv.gz: "+name) {
			t.Errorf("error %v, want one saying %q", err, "loans-2.csv.gz: "+name)
		}
		sameSnapshot(t, before, snapshot(t, lk), "")
	}
}

// TestQuotedMultiline: RFC 4180 fields holding line breaks and doubled
// quotes are one field whatever the block size; line numbers are those
// of the line where a record starts; the children of such rows are not
// orphans; an unterminated quote costs its line only.
func TestQuotedMultiline(t *testing.T) {
	loans := "loan_id,application_id,borrower_id,product,issue_date,principal,annual_rate,term_months,repay_method,purpose,collateral_type,collateral_value,region,status\n" + // 1
		"L1,A1,B1,cash,2018-05-03,5000.00,0.18,12,equal_installment,\"买车\n装修,\n\"\"家具\"\"\",none,,北京,active\n" + // 2-4
		"L2,A2,B2,cash,2018-05-33,1000.00,0.2,6,等额本金,,车,50000,上海,结清\n" + // 5: bad date
		"L3,A2,B2,cash,2018-05-05,1000.00,0.2,6,等额本金,\"a\r\nb\",车,50000,上海,结清\r\n" + // 6-7
		"L4,A1,B1,cash,2018-05-03,5000.00,0.18,12,equal_installment,\"oops,none,,北京,active\n" + // 8: unterminated
		"L5,A1,B1,cash,2018-05-03,5000.00,0.18,12,equal_installment,,none,,北京,active\n" // 9
	sched := "loan_id,installment_no,due_date,principal_due,interest_due\n" +
		"L1,1,2018-06-03,400.00,75.00\nL3,1,2018-06-05,166.67,16.67\nL5,1,2018-06-03,400.00,75.00\n"
	for _, bs := range []int{0, 7, 40, 100} {
		t.Run(fmt.Sprint("block ", bs), func(t *testing.T) {
			raw, lk := t.TempDir(), t.TempDir()
			files := bookFiles(cleanBook())
			files["loans.csv"], files["repayment_schedule.csv"] = loans, sched
			delete(files, "repayments.csv")
			delete(files, "collection_events.csv")
			writeRaw(t, raw, files)
			o := testOptions(raw, lk)
			o.blockSize = bs
			res := run(t, o)
			if tr := tableResult(t, res, "loans"); tr.Read != 5 || tr.Accepted != 3 {
				t.Errorf("loans: read %d, accepted %d, want 5, 3 (%v)", tr.Read, tr.Accepted, tr.Reasons)
			}
			if tr := tableResult(t, res, "repayment_schedule"); tr.Quarantined != 0 {
				t.Errorf("repayment_schedule: %v", tr.Reasons)
			}
			var q []string
			for _, r := range readQuarantine(t, lk, "loans") {
				q = append(q, r[1]+" "+r[2])
			}
			if strings.Join(q, ", ") != "5 bad_date, 8 malformed_row" {
				t.Errorf("quarantine %v, want 5 bad_date, 8 malformed_row", q)
			}
			db := openDB(t)
			scan, _ := lake.New(lk).Scan("loans")
			got := query(t, db, "SELECT loan_id, coalesce(purpose, '') FROM "+scan+" ORDER BY loan_id")
			if w := []string{"L1|买车\n装修,\n\"家具\"", "L3|a\r\nb", "L5|"}; strings.Join(got, "\n") != strings.Join(w, "\n") {
				t.Errorf("loans %q, want %q", got, w)
			}
		})
	}
}

// TestNULByte: a NUL byte deep in a file never reaches the lake: its row
// is quarantined as bad_char.
func TestNULByte(t *testing.T) {
	book := smallBook(t, 1200)
	raw, lk := copyBook(t, book), t.TempDir()
	var n int
	editLines(t, filepath.Join(raw, "loans.csv"), func(i int, l []byte) []byte {
		if i == 1000 {
			n = i
			return append([]byte{l[0], 0}, l[1:]...)
		}
		return l
	})
	if st, _ := os.Stat(filepath.Join(raw, "loans.csv")); st.Size() < 2*64<<10 || n == 0 {
		t.Fatalf("test data: loans.csv of %d bytes", st.Size())
	}
	res := run(t, testOptions(raw, lk))
	if tr := tableResult(t, res, "loans"); tr.Reasons["bad_char"] != 1 {
		t.Errorf("loans: %v, want 1 bad_char", tr.Reasons)
	}
	db := openDB(t)
	for _, tb := range []string{"loans", "repayment_schedule", "repayments"} {
		scan, _ := lake.New(lk).Scan(tb)
		if got := query(t, db, "SELECT count(*) FROM "+scan+" WHERE contains(loan_id, chr(0))"); got[0] != "0" {
			t.Errorf("%s: %s loan ids with a NUL byte", tb, got[0])
		}
	}
}

// TestMissingExport: a table with no export file is warned about and
// listed in the manifest.
func TestMissingExport(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	files := bookFiles(cleanBook())
	delete(files, "collection_events.csv")
	writeRaw(t, raw, files)
	var logBuf bytes.Buffer
	o := testOptions(raw, lk)
	o.Log = slog.New(slog.NewTextHandler(&logBuf, nil))
	run(t, o)
	if !strings.Contains(logBuf.String(), "level=WARN") || !strings.Contains(logBuf.String(), "table=collection_events") {
		t.Errorf("no warning about collection_events:\n%s", logBuf.String())
	}
	m, err := lake.New(lk).ReadManifest(Stage)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m.Extra["missing_exports"])
	if !strings.Contains(string(b), `"collection_events"`) || strings.Contains(string(b), `"loans"`) {
		t.Errorf("manifest missing_exports %s", b)
	}
}

// TestGBKKeyOrder: rows decoded from GBK are compared by their own keys
// when the reading checks whether a file comes in key order: an unsorted
// GBK file with a repeated row is sorted, and the repeat found.
func TestGBKKeyOrder(t *testing.T) {
	loans := "loan_id,application_id,borrower_id,product,issue_date,principal,annual_rate,term_months,repay_method,purpose,collateral_type,collateral_value,region,status\n" +
		"L2,A2,B2,cash,2018-05-05,1000.00,0.2,6,等额本金,装修,车,50000,上海,结清\n" +
		"L1,A1,B1,cash,2018-05-03,5000.00,0.18,12,等额本息,消费,无,,北京,正常\n" +
		"L2,A2,B2,cash,2018-05-05,1000.00,0.2,6,等额本金,装修,车,50000,上海,结清\n"
	raw, lk := t.TempDir(), t.TempDir()
	files := bookFiles(cleanBook())
	files["loans.csv"] = toGBK(t, loans)
	writeRaw(t, raw, files)
	res := run(t, testOptions(raw, lk))
	if tr := tableResult(t, res, "loans"); tr.Accepted != 2 || tr.Reasons["duplicate_row"] != 1 {
		t.Errorf("loans: accepted %d, %v; want 2 and 1 duplicate_row", tr.Accepted, tr.Reasons)
	}
	db := openDB(t)
	scan, _ := lake.New(lk).Scan("loans")
	if got := query(t, db, "SELECT loan_id, purpose FROM "+scan); strings.Join(got, " ") != "L1|消费 L2|装修" {
		t.Errorf("lake loans in file order %v, want L1|消费 L2|装修", got)
	}
}

// BenchmarkRecordCut times the block splitter's scan for a record
// boundary on 1 MiB of lines whose every field is quoted (the worst case:
// a file without quotes is one IndexByte).
func BenchmarkRecordCut(b *testing.B) {
	line := `"L000000123","A0000000456","B0000000789","cash","2022-09-28","3,200.00","0.2613","12","equal_principal","教育","none","","浙江","settled"` + "\n"
	data := bytes.Repeat([]byte(line), (1<<20)/len(line))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if recordCut(data, ',') != len(data) {
			b.Fatal("cut")
		}
	}
}

// TestManyLongLines: lines over the maximum, one after another and
// between good rows, are each quarantined as line_too_long, and the
// reading goes on to the end (their blocks hold no buffer to reuse).
func TestManyLongLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("borrower_id,query_date,institution_type,reason\n")
	long := strings.Repeat("y", 3000)
	for i := range 300 {
		fmt.Fprintf(&b, "B%04d,2018-04-20,bank,loan_approval\n%s\n%s\n", i, long, long)
	}
	for _, bs := range []int{0, 100, 5000} {
		raw, lk := t.TempDir(), t.TempDir()
		writeRaw(t, raw, map[string]string{"bureau_inquiries.csv": b.String()})
		o := testOptions(raw, lk)
		o.MaxLineBytes, o.blockSize = 1024, bs
		res := run(t, o)
		if tr := tableResult(t, res, "bureau_inquiries"); tr.Read != 900 || tr.Accepted != 300 || tr.Reasons["line_too_long"] != 600 {
			t.Errorf("block %d: read %d, accepted %d, %v; want 900, 300, 600 line_too_long", bs, tr.Read, tr.Accepted, tr.Reasons)
		}
	}
}
