package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"qiandun/data/lake"
	"qiandun/data/schema"
	"qiandun/internal/durable"
)

func TestHeaderMismatch(t *testing.T) {
	raw := t.TempDir()
	book := cleanBook()
	book["loans"] = strings.Replace(book["loans"], ",status\n", ",foo\n", 1)
	writeRaw(t, raw, bookFiles(book))
	_, err := Run(context.Background(), testOptions(raw, t.TempDir()))
	if err == nil {
		t.Fatal("no error for a header with a wrong column")
	}
	for _, want := range []string{"loans.csv:1", "missing columns status", "unexpected columns foo"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestDiscover(t *testing.T) {
	if _, err := Discover(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing dir: %v", err)
	}
	tests := []struct {
		files   []string
		want    []string // table:rel
		wantErr string
	}{
		{files: []string{"loans.csv", "loans-2019.csv.gz", "loans/a.tsv", "loans/b.jsonl.gz", "_truth/x.csv", ".DS_Store", "repayments.jsonl"},
			want: []string{"loans:loans-2019.csv.gz", "loans:loans.csv", "loans:loans/a.tsv", "loans:loans/b.jsonl.gz", "repayments:repayments.jsonl"}},
		{files: []string{"loans.csv", "borrowers.csv", "notes/x.csv"}, wantErr: "unknown table name(s) borrowers.csv, notes/"},
		{files: []string{"loansx.csv"}, wantErr: "unknown table name(s) loansx.csv"},
		{files: []string{"loans.xlsx"}, wantErr: "loans.xlsx: not a CSV, TSV or JSONL file"},
		{files: []string{"loans/readme.txt"}, wantErr: "loans/readme.txt: not a CSV, TSV or JSONL file"},
		{files: []string{"_truth/dirty.json"}, wantErr: "no raw files"},
	}
	for _, tc := range tests {
		dir := t.TempDir()
		m := map[string]string{}
		for _, f := range tc.files {
			m[f] = ""
		}
		writeRaw(t, dir, m)
		srcs, err := Discover(dir)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want %q", tc.files, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.files, err)
		}
		var got []string
		for _, s := range srcs {
			got = append(got, s.Table+":"+s.Rel)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%v:\n got %v\nwant %v", tc.files, got, tc.want)
		}
	}
}

func TestNotText(t *testing.T) {
	raw := t.TempDir()
	writeRaw(t, raw, map[string]string{"loans.csv": "\x00\x01\x02binary"})
	_, err := Run(context.Background(), testOptions(raw, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "loans.csv: not a text csv file") {
		t.Fatalf("error %v", err)
	}
}

// readQuarantine returns the rows of a table's quarantine files.
func readQuarantine(t *testing.T, lk, table string) [][]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(lk, lake.QuarantineDir, table, "*.csv"))
	var out [][]string
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, st.Mode().Perm())
		}
		b, _ := os.ReadFile(f)
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != strings.Join(QuarantineColumns, ",") {
			t.Errorf("quarantine header %v", recs[0])
		}
		out = append(out, recs[1:]...)
	}
	return out
}

// TestQuarantineLines checks physical line numbers (header = 1, blank
// lines counted, BOM and CRLF tolerated), raw text and one reason per
// rejected row, in the documented precedence.
func TestQuarantineLines(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	files := bookFiles(cleanBook())
	body := "\ufeff" + strings.ReplaceAll(
		"txn_id,loan_id,installment_no,paid_at,principal_paid,interest_paid,penalty_paid\n"+
			"T1,L1,1,2018-06-03 08:00:00,400.00,75.00,0\n"+ // 2 ok
			"\n"+ // 3 blank: not a row
			"T2,L1,2,2018-07-03 08:00:00,406.00\n"+ // 4 malformed (5 fields)
			"T3,L1,2,2018-07-33 08:00:00,406.00,69.00,0\n"+ // 5 bad date
			"T4,L1,2,2018-07-03 08:00:00,-406.00,69.00,0\n"+ // 6 negative
			"T5,L9,2,2018-07-03 08:00:00,406.00,69.00,0\n"+ // 7 orphan
			"T6,L1,2,2018-05-01 08:00:00,406.00,69.00,0\n"+ // 8 date order (issued 2018-05-03)
			"T1,L1,1,2018-06-03 08:00:00,400.00,75.00,0\n"+ // 9 duplicate row
			"T1,L1,1,2018-06-03 08:00:00,400.00,75.01,0\n"+ // 10 duplicate key
			"T7,,2,2018-07-03 08:00:00,abc,69.00,0\n"+ // 11 missing beats bad amount
			"T8,L1,0,2018-07-03 08:00:00,\"1,406.00\",69.00,0\n"+ // 12 out of range (installment 0)
			"\"T9,L1,2,2018-07-03 08:00:00,406.00,69.00,0\n"+ // 13 broken quoting
			"T10,L1,2,2018-07-03 08:00:00,\"1,406.00\",69.00,0", // 14 ok, no final newline
		"\n", "\r\n")
	files["repayments.csv"] = body
	writeRaw(t, raw, files)
	res := run(t, testOptions(raw, lk))
	tr := tableResult(t, res, "repayments")
	if tr.Read != 12 || tr.Accepted != 2 || tr.Quarantined != 10 || tr.BlankLines != 1 {
		t.Errorf("read %d accepted %d quarantined %d blank %d", tr.Read, tr.Accepted, tr.Quarantined, tr.BlankLines)
	}
	lines := strings.Split(strings.TrimPrefix(body, "\ufeff"), "\r\n")
	want := map[string]string{
		"4": schema.ReasonMalformed, "5": schema.ReasonBadDate, "6": schema.ReasonNegative, "7": schema.ReasonOrphan,
		"8": schema.ReasonDateOrder, "9": schema.ReasonDuplicate, "10": schema.ReasonDuplicateKey, "11": schema.ReasonMissing,
		"12": schema.ReasonOutOfRange, "13": schema.ReasonMalformed,
	}
	got := readQuarantine(t, lk, "repayments")
	if len(got) != len(want) {
		t.Fatalf("%d quarantined rows, want %d: %v", len(got), len(want), got)
	}
	for _, r := range got {
		if r[0] != "repayments.csv" || want[r[1]] != r[2] {
			t.Errorf("row %v: want reason %q", r, want[r[1]])
		}
		var n int
		for _, c := range r[1] {
			n = n*10 + int(c-'0')
		}
		if r[5] != lines[n-1] {
			t.Errorf("line %d raw %q, want %q", n, r[5], lines[n-1])
		}
	}
	// Count of normalisations: the two accepted "1,406.00" is one (line 14);
	// line 12's was normalised too before its row failed the range check.
	if n := tr.Normalised[schema.NormThousands]; n != 2 {
		t.Errorf("thousands normalised %d, want 2", n)
	}
	if tr.Reasons[schema.ReasonMalformed] != 2 {
		t.Errorf("reasons %v", tr.Reasons)
	}
}

func TestRejectRateFails(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	files := bookFiles(cleanBook())
	files["loans.csv"] += "L3,A404,B9,cash,2018-05-03,100.00,0.1,12,equal_installment,,none,,北京,active\n"
	writeRaw(t, raw, files)
	o := testOptions(raw, lk)
	o.MaxRejectRate = 0.01
	_, err := Run(context.Background(), o)
	var rre *RejectRateError
	if !errors.As(err, &rre) {
		t.Fatalf("error %v, want a RejectRateError", err)
	}
	for _, want := range []string{"loans: 1 of 3 rows", "orphan 1", filepath.Join(lk, "_quarantine", "loans")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if q := readQuarantine(t, lk, "loans"); len(q) != 1 || q[0][2] != schema.ReasonOrphan || q[0][1] != "4" {
		t.Errorf("quarantine %v", q)
	}
	for _, tab := range schema.Tables() {
		if lake.New(lk).Exists(tab.Name) {
			t.Errorf("table %s was published despite the failure", tab.Name)
		}
	}
	if _, err := lake.New(lk).ReadManifest(Stage); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("manifest written despite the failure: %v", err)
	}
}

// lakeRows returns every table's rows, sorted, as text.
func lakeRows(t *testing.T, lk string) map[string][]string {
	t.Helper()
	db := openDB(t)
	out := map[string][]string{}
	for _, tab := range schema.Tables() {
		scan, err := lake.New(lk).Scan(tab.Name)
		if err != nil {
			t.Fatal(err)
		}
		rows := query(t, db, "SELECT * FROM "+scan)
		sort.Strings(rows)
		out[tab.Name] = rows
	}
	return out
}

func gz(t *testing.T, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func toGBK(t *testing.T, s string) string {
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func toTSV(t *testing.T, s string) string {
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(strings.Join(r, "\t") + "\n")
	}
	return b.String()
}

func toJSONL(t *testing.T, s string) string {
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range recs[1:] {
		m := map[string]any{}
		for i, c := range recs[0] {
			if r[i] != "" {
				m[c] = r[i]
			}
		}
		js, _ := json.Marshal(m)
		b.Write(js)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestFormats ingests the same book as gzip, GBK (detected and declared),
// TSV, JSONL and files in table directories, and checks the lake holds
// exactly what the plain UTF-8 CSV book gives.
func TestFormats(t *testing.T) {
	book := cleanBook()
	ref := t.TempDir()
	refRaw := t.TempDir()
	writeRaw(t, refRaw, bookFiles(book))
	run(t, testOptions(refRaw, ref))
	want := lakeRows(t, ref)
	variants := map[string]func(table, body string) (string, string){
		"gzip":      func(tb, b string) (string, string) { return tb + ".csv.gz", gz(t, b) },
		"gbk":       func(tb, b string) (string, string) { return tb + "-1.csv", toGBK(t, b) },
		"gbk-gzip":  func(tb, b string) (string, string) { return tb + "/part.csv.gz", gz(t, toGBK(t, b)) },
		"tsv":       func(tb, b string) (string, string) { return tb + ".tsv", toTSV(t, b) },
		"jsonl":     func(tb, b string) (string, string) { return tb + ".jsonl", toJSONL(t, b) },
		"jsonl-gbk": func(tb, b string) (string, string) { return tb + ".jsonl.gz", gz(t, toGBK(t, toJSONL(t, b))) },
		"crlf-bom": func(tb, b string) (string, string) {
			return tb + ".csv", "\ufeff" + strings.ReplaceAll(b, "\n", "\r\n")
		},
	}
	for name, conv := range variants {
		t.Run(name, func(t *testing.T) {
			raw, lk := t.TempDir(), t.TempDir()
			files := map[string]string{}
			for tb, body := range book {
				p, b := conv(tb, body)
				files[p] = b
			}
			writeRaw(t, raw, files)
			res := run(t, testOptions(raw, lk))
			for _, tr := range res.Tables {
				if tr.Quarantined != 0 {
					t.Errorf("%s: %d quarantined: %v", tr.Table, tr.Quarantined, tr.Reasons)
				}
				if strings.HasPrefix(name, "gbk") || name == "jsonl-gbk" {
					for f, e := range tr.Encodings {
						if tr.Table == "applications" && e != EncGBK {
							t.Errorf("%s read as %s", f, e)
						}
					}
				}
			}
			got := lakeRows(t, lk)
			for tb, rows := range want {
				if strings.Join(got[tb], "\n") != strings.Join(rows, "\n") {
					t.Errorf("%s:\n got %v\nwant %v", tb, got[tb], rows)
				}
			}
		})
	}
	t.Run("gbk-declared", func(t *testing.T) {
		raw, lk := t.TempDir(), t.TempDir()
		files := bookFiles(book)
		files["applications.csv"] = toGBK(t, book["applications"])
		writeRaw(t, raw, files)
		o := testOptions(raw, lk)
		o.Config = &Config{Files: map[string]FileConfig{"applications*": {Encoding: "gbk"}}}
		run(t, o)
		if got := lakeRows(t, lk)["applications"]; strings.Join(got, "\n") != strings.Join(want["applications"], "\n") {
			t.Errorf("applications:\n got %v\nwant %v", got, want["applications"])
		}
	})
}

func TestJSONLMalformed(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	files := bookFiles(cleanBook())
	delete(files, "collection_events.csv")
	files["collection_events.jsonl"] = `{"loan_id":"L1","event_time":"2018-07-05 10:00:00","channel":"sms","outcome":"no_answer"}
{"loan_id":"L1","event_time":"2018-07-05 10:00:00",
{"loan_id":"L1","event_time":"2018-07-06 10:00:00","channel":"call","outcome":"paid","x":1}
{"loan_id":"L1","event_time":"2018-07-07 10:00:00","channel":"call"}
`
	writeRaw(t, raw, files)
	res := run(t, testOptions(raw, lk))
	tr := tableResult(t, res, "collection_events")
	if tr.Read != 4 || tr.Accepted != 1 || tr.Reasons[schema.ReasonMalformed] != 2 || tr.Reasons[schema.ReasonMissing] != 1 {
		t.Errorf("%+v", tr)
	}
	q := readQuarantine(t, lk, "collection_events")
	if len(q) != 3 || q[0][1] != "2" || q[1][1] != "3" || q[2][1] != "4" || !strings.HasPrefix(q[1][5], `{"loan_id":"L1","event_time":"2018-07-06`) {
		t.Errorf("quarantine %v", q)
	}
}

// snapshot returns the SHA-256 of every file a reader of the lake sees:
// its tables (through their mounted links), quarantine and manifests.
func snapshot(t *testing.T, lk string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, root := range []string{lk, filepath.Join(lk, lake.QuarantineDir), filepath.Join(lk, lake.ManifestDir)} {
		if _, err := os.Stat(root); err != nil {
			continue
		}
		err := durable.WalkFiles(root, func(p string, _ fs.FileInfo) error {
			s, err := durable.SHA256(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(lk, p)
			out[rel] = s
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func sameSnapshot(t *testing.T, before, after map[string]string, skip string) {
	t.Helper()
	for p, s := range before {
		if p != skip && after[p] != s {
			t.Errorf("%s changed", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && p != skip {
			t.Errorf("%s appeared", p)
		}
	}
}

func TestIdempotent(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	writeRaw(t, raw, bookFiles(cleanBook()))
	run(t, testOptions(raw, lk))
	first, err := lake.New(lk).ReadManifest(Stage)
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, lk)
	res := run(t, testOptions(raw, lk))
	if len(res.Tables) != 0 || len(res.Skipped) != 9 {
		t.Errorf("second run: %d tables, %d skipped", len(res.Tables), len(res.Skipped))
	}
	// Nothing new: no commit at all, the manifest included (a retry after
	// a crash past the commit point leaves the lake byte for byte as a
	// clean run does).
	sameSnapshot(t, before, snapshot(t, lk), "")
	m, err := lake.New(lk).ReadManifest(Stage)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 9 {
		t.Errorf("manifest: %d inputs", len(m.Inputs))
	}
	if len(first.Counts) == 0 || first.Counts["loans.read"] == 0 || !reflect.DeepEqual(m.Counts, first.Counts) {
		t.Errorf("counts after re-ingesting the same files: %v, first run %v", m.Counts, first.Counts)
	}
}

func TestIncremental(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	writeRaw(t, raw, bookFiles(cleanBook()))
	run(t, testOptions(raw, lk))
	writeRaw(t, raw, map[string]string{"repayments-2.csv": "txn_id,loan_id,installment_no,paid_at,principal_paid,interest_paid,penalty_paid\n" +
		"T3,L1,2,2018-07-03 09:00:00,406.00,69.00,0\n" + // new
		"T1,L1,1,2018-06-03 08:00:00,400.00,75.00,0\n" + // already in the lake
		"T2,L2,1,2018-06-04 20:15:00,166.67,16.67,9.99\n"}) // same key, other content
	res := run(t, testOptions(raw, lk))
	if len(res.Tables) != 1 || len(res.Skipped) != 9 {
		t.Fatalf("%d tables changed, %d skipped", len(res.Tables), len(res.Skipped))
	}
	tr := res.Tables[0]
	if tr.Table != "repayments" || tr.Read != 3 || tr.Accepted != 1 || tr.LakeRows != 3 ||
		tr.Reasons[schema.ReasonDuplicate] != 1 || tr.Reasons[schema.ReasonDuplicateKey] != 1 {
		t.Errorf("%+v", tr)
	}
	got := lakeRows(t, lk)["repayments"]
	if len(got) != 3 || !strings.HasPrefix(got[2], "T3|L1|2|2018-07-03 09:00:00") {
		t.Errorf("repayments %v", got)
	}
	m, _ := lake.New(lk).ReadManifest(Stage)
	if len(m.Inputs) != 10 || m.Counts["repayments.read"] != 3 || m.Counts["repayments.quarantined.duplicate_row"] != 1 {
		t.Errorf("manifest has %d inputs, counts %v", len(m.Inputs), m.Counts)
	}
}

// TestFailureLeavesLakeIntact fails a run after its first table is staged
// and checks the lake is byte for byte as before.
func TestFailureLeavesLakeIntact(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	writeRaw(t, raw, bookFiles(cleanBook()))
	run(t, testOptions(raw, lk))
	before := snapshot(t, lk)
	more := map[string]string{}
	for tb, body := range cleanBook() {
		head, _, _ := strings.Cut(body, "\n")
		more[tb+"-2.csv"] = head + "\n" + strings.Replace(strings.SplitN(body, "\n", 3)[1], ",", "X,", 1) + "\n"
	}
	writeRaw(t, raw, more)
	o := testOptions(raw, lk)
	boom := errors.New("injected failure")
	o.afterTable = func(table string) error {
		if table == "applications" {
			return boom
		}
		return nil
	}
	if _, err := Run(context.Background(), o); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the injected failure", err)
	}
	sameSnapshot(t, before, snapshot(t, lk), "")
	if left, _ := filepath.Glob(filepath.Join(lk, lake.TmpDir, "ingest-*")); len(left) > 0 {
		t.Errorf("temp dirs left behind: %v", left)
	}
	// The same files then go in on a run that does not fail.
	res := run(t, testOptions(raw, lk))
	if len(res.Tables) != 9 {
		t.Errorf("%d tables after the retry", len(res.Tables))
	}
}

// TestNoRawPII checks that no ID number, name or phone of the raw files
// is in any lake file outside the quarantine and the key, neither in the
// bytes nor in any decoded value, nor in the logs.
func TestNoRawPII(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	book := cleanBook()
	// Make line 2 of applications a rejected row so PII reaches quarantine.
	book["applications"] += "A4,B4,bad-time,cash,app,1,12,11010519491231002X,赵六,13600136000,male,,,,,,,,approved\n"
	writeRaw(t, raw, bookFiles(book))
	var logs bytes.Buffer
	o := testOptions(raw, lk)
	o.Log = slog.New(slog.NewTextHandler(&logs, nil))
	run(t, o)
	recs, _ := csv.NewReader(strings.NewReader(book["applications"])).ReadAll()
	var pii []string
	for _, r := range recs[1:] {
		pii = append(pii, r[7], r[8], r[9])
	}
	recs, _ = csv.NewReader(strings.NewReader(book["investments"])).ReadAll()
	for _, r := range recs[1:] {
		pii = append(pii, r[5], r[6], r[7])
	}
	if strings.Contains(logs.String(), "张三") || strings.Contains(logs.String(), "13800138000") {
		t.Error("PII in the logs")
	}
	filepath.WalkDir(lk, func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() && (d.Name() == lake.QuarantineDir || d.Name() == "_keys") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, v := range pii {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds raw PII %q", p, v)
			}
		}
		return nil
	})
	for tb, rows := range lakeRows(t, lk) {
		for _, r := range rows {
			for _, v := range pii {
				if strings.Contains(r, v) {
					t.Errorf("%s row %q holds raw PII %q", tb, r, v)
				}
			}
		}
	}
	if q := readQuarantine(t, lk, "applications"); len(q) != 1 || !strings.Contains(q[0][5], "赵六") {
		t.Errorf("quarantine %v", q)
	}
}
