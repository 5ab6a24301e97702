package ingest

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"qiandun/data/lake"
)

// The hostile-input corpus: each case replaces files of a small clean
// book (cleanBook) by the files of testdata/hostile/<case>/ (small ones,
// committed) or by files the test writes (binary garbage, 10 MB and 50 MB
// lines: never committed), and runs ingest. Each must end in a clear
// one-line error naming the file and the reason, or in quarantined rows
// with their reason and every row accounted for (accepted + quarantined
// = read); never a panic, never a raw PII value in the error, the log or
// the manifest.

// hostilePII are raw PII values of the book and the corpus files: none
// may appear in an error, a log line or a manifest.
func hostilePII() []string {
	return []string{
		validID("11010519900307123"), validID("44030419851231002"), "ID-NOT-VALID-42",
		"张三", "李四", "王五", "13800138000", "13900139000", "13700137000",
		"DEV-7f3a9c", "DEV-8e2b1d", "DEV-9d1c0e", "203.0.113.77", "203.0.113.78", "203.0.113.79",
		"=cmd|",
	}
}

// writeLongLine writes loans.csv: the header, L1, a line of n bytes (a
// row whose purpose is n bytes of 'x'), L2; streamed, never held whole.
func writeLongLine(t *testing.T, dir string, n int) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "loans.csv"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	lines := strings.SplitAfter(cleanBook()["loans"], "\n")
	w.WriteString(lines[0] + lines[1])
	head := "L9,A1,B1,cash,2018-05-03,5000.00,0.18,12,equal_installment,"
	w.WriteString(head)
	chunk := bytes.Repeat([]byte{'x'}, 1<<16)
	for left := n - len(head); left > 0; left -= len(chunk) {
		w.Write(chunk[:min(left, len(chunk))])
	}
	w.WriteString(",none,,北京,active\n" + lines[2])
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

type hostileCase struct {
	name string
	// setup writes the case's files into raw (over the clean book); nil
	// copies testdata/hostile/<name>/.
	setup func(t *testing.T, raw string)
	// drop lists clean-book files the case's files replace.
	drop []string
	// err: the run fails with an error saying each of these.
	err []string
	// reasons: table -> reason -> rows quarantined (only the tables
	// named; the others must quarantine nothing but orphans of them).
	reasons map[string]map[string]int64
	// read: table -> rows read, where it matters.
	read map[string]int64
	// check runs after a successful run.
	check func(t *testing.T, lk string)
}

func hostileCases() []hostileCase {
	return []hostileCase{
		{name: "binary_garbage", drop: []string{"loans.csv"},
			setup: func(t *testing.T, raw string) {
				r := rand.New(rand.NewPCG(1, 2))
				b := make([]byte, 256<<10)
				for i := range b {
					b[i] = byte(r.Uint32())
				}
				os.WriteFile(filepath.Join(raw, "loans.csv"), b, 0o644)
			},
			err: []string{"loans.csv", "not a text csv file"}},
		{name: "line_10mb", drop: []string{"loans.csv"},
			setup:   func(t *testing.T, raw string) { writeLongLine(t, raw, 10<<20) },
			reasons: map[string]map[string]int64{"loans": {"line_too_long": 1}},
			read:    map[string]int64{"loans": 3}},
		{name: "line_50mb", drop: []string{"loans.csv"},
			setup:   func(t *testing.T, raw string) { writeLongLine(t, raw, 50<<20) },
			reasons: map[string]map[string]int64{"loans": {"line_too_long": 1}},
			read:    map[string]int64{"loans": 3}},
		{name: "nul_bytes", drop: []string{"loans.csv"},
			reasons: map[string]map[string]int64{"loans": {"bad_char": 1}},
			read:    map[string]int64{"loans": 2},
			check: func(t *testing.T, lk string) {
				db := openDB(t)
				scan, _ := lake.New(lk).Scan("loans")
				if got := query(t, db, "SELECT count(*) FROM "+scan+" WHERE contains(loan_id, chr(0))"); got[0] != "0" {
					t.Errorf("%s loan ids hold a NUL byte", got[0])
				}
			}},
		{name: "header_only", drop: []string{"loans.csv"},
			reasons: map[string]map[string]int64{"loans": {}},
			read:    map[string]int64{"loans": 0}},
		{name: "empty_file", drop: []string{"loans.csv"},
			err: []string{"loans.csv", "empty file"}},
		{name: "mixed_encodings", drop: []string{"applications.csv"},
			reasons: map[string]map[string]int64{"applications": {}},
			read:    map[string]int64{"applications": 3},
			check: func(t *testing.T, lk string) {
				// The same rows, all in UTF-8, give the same lake table.
				b, _ := os.ReadFile(filepath.Join("testdata", "hostile", "mixed_encodings", "applications.csv"))
				lines := bytes.SplitAfter(b, []byte("\n"))
				utf := append([]byte(nil), bytes.Join(lines[:2], nil)...)
				rest, err := simplifiedchinese.GBK.NewDecoder().Bytes(bytes.Join(lines[2:], nil))
				if err != nil {
					t.Fatal(err)
				}
				raw, ref := t.TempDir(), t.TempDir()
				files := bookFiles(cleanBook())
				files["applications.csv"] = string(append(utf, rest...))
				writeRaw(t, raw, files)
				run(t, testOptions(raw, ref))
				if got, want := lakeRows(t, lk)["applications"], lakeRows(t, ref)["applications"]; strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("applications:\n got %v\nwant %v", got, want)
				}
			}},
		{name: "bad_encoding", drop: []string{"loans.csv"},
			reasons: map[string]map[string]int64{"loans": {"bad_encoding": 1}},
			read:    map[string]int64{"loans": 2}},
		{name: "truncated_gzip", drop: []string{"loans.csv"},
			err: []string{"loans.csv.gz", "truncated gzip", "unexpected EOF"}},
		{name: "crc_gzip", drop: []string{"loans.csv"},
			err: []string{"loans.csv.gz", "corrupt gzip"}},
		{name: "multiline", drop: []string{"loans.csv"},
			reasons: map[string]map[string]int64{"loans": {}, "repayment_schedule": {}, "repayments": {}, "collection_events": {}},
			read:    map[string]int64{"loans": 2},
			check: func(t *testing.T, lk string) {
				db := openDB(t)
				scan, _ := lake.New(lk).Scan("loans")
				got := query(t, db, "SELECT loan_id, purpose FROM "+scan+" ORDER BY loan_id")
				want := []string{"L1|买车\n装修, 家具", "L2|他说\"好\"\r\n第二行"}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("loans:\n got %q\nwant %q", got, want)
				}
			}},
		{name: "formula", drop: []string{"applications.csv"},
			reasons: map[string]map[string]int64{"applications": {}},
			check: func(t *testing.T, lk string) {
				for tb, rows := range lakeRows(t, lk) {
					for _, r := range rows {
						if strings.Contains(r, "cmd|") {
							t.Errorf("%s holds the formula in clear: %s", tb, r)
						}
					}
				}
			}},
		{name: "bom_crlf", drop: []string{"loans.csv"},
			reasons: map[string]map[string]int64{"loans": {}},
			read:    map[string]int64{"loans": 2}},
		{name: "headerless", drop: []string{"applications.csv"},
			err: []string{"applications.csv", "missing columns application_id", "looks like data", "19 fields"}},
	}
}

func TestHostileInput(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			raw, lk := t.TempDir(), t.TempDir()
			files := bookFiles(cleanBook())
			for _, f := range tc.drop {
				delete(files, f)
			}
			writeRaw(t, raw, files)
			if tc.setup != nil {
				tc.setup(t, raw)
			} else {
				dir := filepath.Join("testdata", "hostile", tc.name)
				ents, err := os.ReadDir(dir)
				if err != nil || len(ents) == 0 {
					t.Fatalf("no corpus files in %s: %v", dir, err)
				}
				for _, e := range ents {
					b, err := os.ReadFile(filepath.Join(dir, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					writeRaw(t, raw, map[string]string{e.Name(): string(b)})
				}
			}
			var logBuf bytes.Buffer
			o := testOptions(raw, lk)
			o.Log = slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := Run(context.Background(), o)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)

			// Never a raw PII value in the error, the log or a manifest.
			var texts []string
			if err != nil {
				texts = append(texts, err.Error())
			}
			texts = append(texts, logBuf.String())
			filepath.WalkDir(filepath.Join(lk, lake.ManifestDir), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					b, _ := os.ReadFile(p)
					texts = append(texts, string(b))
				}
				return nil
			})
			for _, s := range texts {
				for _, v := range hostilePII() {
					if strings.Contains(s, v) {
						t.Errorf("raw PII value %q in %q", v, s)
					}
				}
			}

			if tc.err != nil {
				if err == nil {
					t.Fatalf("no error; want one saying %q", tc.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error of more than one line: %q", err)
				}
				for _, w := range tc.err {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			for _, tr := range res.Tables {
				if tr.Read != tr.Accepted+tr.Quarantined {
					t.Errorf("%s: read %d != accepted %d + quarantined %d", tr.Table, tr.Read, tr.Accepted, tr.Quarantined)
				}
				if n, ok := tc.read[tr.Table]; ok && tr.Read != n {
					t.Errorf("%s: read %d rows, want %d", tr.Table, tr.Read, n)
				}
				want, named := tc.reasons[tr.Table]
				for r, n := range tr.Reasons {
					if n == 0 {
						continue
					}
					if named && want[r] != n {
						t.Errorf("%s: %d rows quarantined as %s, want %d", tr.Table, n, r, want[r])
					}
					if !named && r != "orphan" {
						t.Errorf("%s: %d rows quarantined as %s", tr.Table, n, r)
					}
				}
				for r, n := range want {
					if tr.Reasons[r] != n {
						t.Errorf("%s: %d rows quarantined as %s, want %d", tr.Table, tr.Reasons[r], r, n)
					}
				}
			}
			for tb, want := range tc.reasons {
				tableResult(t, res, tb)
				for r, n := range want {
					q := 0
					for _, row := range readQuarantine(t, lk, tb) {
						if row[2] == r {
							q++
							if r == "line_too_long" && len(row[5]) > 2048 {
								t.Errorf("quarantined long line kept %d bytes of raw text", len(row[5]))
							}
						}
					}
					if int64(q) != n {
						t.Errorf("%s: quarantine files hold %d rows of %s, want %d", tb, q, r, n)
					}
				}
			}
			t.Logf("the run allocated %d MiB", (after.TotalAlloc-before.TotalAlloc)>>20)
			if tc.name == "line_50mb" {
				// The long line is never held whole: the run allocates
				// less than the line (a run of the small book allocates
				// about 20 MiB; holding the line, 400).
				if got := after.TotalAlloc - before.TotalAlloc; got > 40<<20 {
					t.Errorf("the run allocated %d MiB for a 50 MiB line", got>>20)
				}
			}
			if tc.check != nil {
				tc.check(t, lk)
			}
		})
	}
}
