package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/lake"
)

const bureauHeader = "borrower_id,report_date,open_accounts,total_outstanding,overdue_accounts,worst_status_24m\n"

// TestBureauStatusCodes ingests one bureau report per repayment-status
// code of the bureaus' code set, and some codes outside it: every code of
// the set lands in the lake as sent with its overdue band (0 for N, 1..7
// for the overdue codes, NULL for the rest), and every unknown code is
// quarantined as bad_enum naming worst_status_24m. On the direct path
// (one file in key order) and the staged one (two files).
func TestBureauStatusCodes(t *testing.T) {
	// want band per code, written down from the code set's definition.
	codes := []struct {
		code string
		band string
	}{
		{"N", "0"}, {"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"5", "5"}, {"6", "6"}, {"7", "7"},
		{"*", "NULL"}, {"#", "NULL"}, {"/", "NULL"}, {"A", "NULL"}, {"B", "NULL"}, {"C", "NULL"},
		{"D", "NULL"}, {"G", "NULL"}, {"M", "NULL"}, {"Z", "NULL"},
	}
	unknown := []string{"0", "8", "n", "X", "NN", "-1", "正常"}
	var b strings.Builder
	b.WriteString(bureauHeader)
	want := map[string]string{}
	for i, c := range codes {
		id := fmt.Sprintf("B%03d", i)
		fmt.Fprintf(&b, "%s,2018-04-30,2,100.00,0,%s\n", id, c.code)
		want[id] = c.code + "|" + c.band
	}
	for i, c := range unknown {
		fmt.Fprintf(&b, "U%03d,2018-04-30,2,100.00,0,%s\n", i, c)
	}
	for _, files := range []map[string]string{
		{"bureau_reports.csv": b.String()},
		{"bureau_reports.csv": b.String(), "bureau_reports-0.csv": bureauHeader + "A1,2018-04-30,1,1.00,0,N\n"},
	} {
		raw, lk := t.TempDir(), t.TempDir()
		writeRaw(t, raw, files)
		res := run(t, testOptions(raw, lk))
		tr := tableResult(t, res, "bureau_reports")
		if tr.Read != tr.Accepted+tr.Quarantined || tr.Quarantined != int64(len(unknown)) ||
			tr.Reasons["bad_enum"] != int64(len(unknown)) {
			t.Errorf("%d files: %+v", len(files), tr)
		}
		rows := query(t, openDB(t), fmt.Sprintf(
			"SELECT borrower_id, worst_status_24m, worst_overdue_band, typeof(worst_status_24m), typeof(worst_overdue_band) FROM read_parquet(%s) WHERE borrower_id LIKE 'B%%' ORDER BY borrower_id",
			lake.Quote(lake.New(lk).Glob("bureau_reports"))))
		if len(rows) != len(codes) {
			t.Fatalf("%d files: %d code rows in the lake, want %d: %v", len(files), len(rows), len(codes), rows)
		}
		for _, r := range rows {
			f := strings.Split(r, "|")
			if got := f[1] + "|" + f[2]; got != want[f[0]] {
				t.Errorf("%d files: %s code|band %s, want %s", len(files), f[0], got, want[f[0]])
			}
			if f[3] != "VARCHAR" || f[4] != "INTEGER" {
				t.Errorf("%d files: types %s, %s; want VARCHAR, INTEGER", len(files), f[3], f[4])
			}
		}
		q := readQuarantine(t, lk, "bureau_reports")
		got := map[string]bool{}
		for _, r := range q {
			if r[2] != "bad_enum" || r[3] != "worst_status_24m" {
				t.Errorf("quarantined %v: want bad_enum on worst_status_24m", r)
			}
			got[r[5][strings.LastIndexByte(r[5], ',')+1:]] = true
		}
		for _, c := range unknown {
			if !got[c] {
				t.Errorf("%d files: unknown code %q not quarantined (%v)", len(files), c, q)
			}
		}
	}
}

// TestBureauExportWithNormalLosesNothing ingests a real-style bureau
// export (gzip, BOM, CRLF, thousands separators, 2018/5/1 dates) in which
// most borrowers are normal ('N'): every row is accepted, none is lost,
// and the normal ones carry band 0.
func TestBureauExportWithNormalLosesNothing(t *testing.T) {
	var b strings.Builder
	b.WriteString("\ufeff" + strings.ReplaceAll(bureauHeader, "\n", "\r\n"))
	cycle := []string{"N", "N", "N", "N", "1", "N", "*", "N", "2", "C", "N", "#", "7", "N", "/"}
	normal := 0
	for i := range 3000 {
		code := cycle[i%len(cycle)]
		if code == "N" {
			normal++
		}
		fmt.Fprintf(&b, "P%05d,2019/%d/%d,%d,\"%d,%03d.50\",%d,%s\r\n", i, 1+i%12, 1+i%28, i%9, 1+i%50, i%1000, i%3, code)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(b.String()))
	w.Close()
	raw, lk := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(raw, "bureau_reports.csv.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := tableResult(t, run(t, testOptions(raw, lk)), "bureau_reports")
	if tr.Read != 3000 || tr.Accepted != 3000 || tr.Quarantined != 0 || tr.LakeRows != 3000 {
		t.Fatalf("export with N lost rows: %+v", tr)
	}
	got := query(t, openDB(t), fmt.Sprintf(
		"SELECT count(*) FILTER (worst_status_24m = 'N'), count(*) FILTER (worst_status_24m = 'N' AND worst_overdue_band = 0), count(*) FILTER (worst_overdue_band IS NULL) FROM read_parquet(%s)",
		lake.Quote(lake.New(lk).Glob("bureau_reports"))))
	// Non-band codes in the cycle: *, C, #, / (4 of 15).
	if want := fmt.Sprintf("%d|%d|%d", normal, normal, 3000*4/15); got[0] != want {
		t.Errorf("normal, normal with band 0, no band: %s, want %s", got[0], want)
	}
}
