package ingest

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"qiandun/data/gen"
	"qiandun/data/lake"
	"qiandun/data/schema"
)

// TestDirectPathAgrees puts orphans, dates before issue, duplicates of
// both and a duplicate key into sorted one-file exports, where they keep
// the files in key order, and ingests them once as they are (the direct
// path: no stage) and once with each table split in two files (the
// staged path, dedup.sql and parents.sql). Both must find the planted
// rows, for the same reasons, and publish the same rows; the direct
// path's quarantine names each row's physical line and raw text.
func TestDirectPathAgrees(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Seed = 300, 11
	src, _ := genBook(t, cfg)
	read := func(table string) []string {
		b, err := os.ReadFile(filepath.Join(src, table+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		return lines
	}
	field := func(line string, i int) string { return strings.Split(line, ",")[i] }
	set := func(line string, i int, v string) string {
		f := strings.Split(line, ",")
		f[i] = v
		return strings.Join(f, ",")
	}
	// lastOf returns the index of the last line whose column 1 (loan_id)
	// or 0 equals the first data line's.
	lastOf := func(lines []string, col int) int {
		i := 1
		for i+1 < len(lines) && field(lines[i+1], col) == field(lines[1], col) {
			i++
		}
		return i
	}
	insert := func(lines []string, at int, add ...string) []string {
		return append(lines[:at:at], append(add, lines[at:]...)...)
	}
	files := map[string][]string{}
	want := map[string]map[string]int64{}

	// repayments (txn_id, loan_id, installment_no, paid_at, ...): an orphan
	// and its copy after the first loan's last row; a payment before the
	// second loan's issue date, and its copy, before that loan's first row.
	rp := read("repayments")
	i := lastOf(rp, 1)
	orphan := set(set(rp[i], 0, field(rp[i], 0)+"x"), 1, field(rp[i], 1)+"x")
	early := set(set(rp[i+1], 0, field(rp[i+1], 0)[:len(field(rp[i+1], 0))-1]+"0"), 3, "2000-01-01 00:00:00")
	files["repayments"] = insert(rp, i+1, orphan, orphan, early, early)
	want["repayments"] = map[string]int64{schema.ReasonOrphan: 1, schema.ReasonDuplicate: 2, schema.ReasonDateOrder: 1}

	// repayment_schedule (loan_id, installment_no, due_date, ...): the first
	// due date moved before issue; after the first loan, an orphan and a
	// row with its key and another amount.
	rs := read("repayment_schedule")
	rs[1] = set(rs[1], 2, "2000-01-01")
	i = lastOf(rs, 0)
	o1 := set(rs[i], 0, field(rs[i], 0)+"x")
	files["repayment_schedule"] = insert(rs, i+1, o1, set(o1, 4, "999.00"))
	want["repayment_schedule"] = map[string]int64{schema.ReasonDateOrder: 1, schema.ReasonOrphan: 1, schema.ReasonDuplicateKey: 1}

	// collection_events (loan_id, event_time, ...; no key): an orphan and
	// its copy.
	ce := read("collection_events")
	i = lastOf(ce, 0)
	o2 := set(ce[i], 0, field(ce[i], 0)+"x")
	files["collection_events"] = insert(ce, i+1, o2, o2)
	want["collection_events"] = map[string]int64{schema.ReasonOrphan: 1, schema.ReasonDuplicate: 1}

	one, two := t.TempDir(), t.TempDir()
	for _, tab := range schema.Tables() {
		lines, ok := files[tab.Name]
		if !ok {
			lines = read(tab.Name)
		}
		writeRaw(t, one, map[string]string{tab.Name + ".csv": strings.Join(lines, "\n") + "\n"})
		half := len(lines) / 2
		writeRaw(t, two, map[string]string{
			tab.Name + ".csv":   strings.Join(lines[:half], "\n") + "\n",
			tab.Name + "-2.csv": lines[0] + "\n" + strings.Join(lines[half:], "\n") + "\n",
		})
	}

	var logs bytes.Buffer
	opt1 := testOptions(one, filepath.Join(t.TempDir(), "lake"))
	opt1.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opt1.blockSize = 2000 // many blocks: runs and references across their edges
	r1 := run(t, opt1)
	opt2 := testOptions(two, filepath.Join(t.TempDir(), "lake"))
	opt2.blockSize = 3000
	r2 := run(t, opt2)
	db := openDB(t)
	for _, tab := range schema.Tables() {
		if !strings.Contains(logs.String(), fmt.Sprintf("file=%s.csv rows=%d direct=true", tab.Name, len(files[tab.Name])-1)) &&
			files[tab.Name] != nil {
			t.Errorf("%s: direct path not taken", tab.Name)
		}
		a, b := tableResult(t, r1, tab.Name), tableResult(t, r2, tab.Name)
		if w := want[tab.Name]; w != nil && fmt.Sprint(a.Reasons) != fmt.Sprint(w) {
			t.Errorf("%s: direct path found %v, planted %v", tab.Name, a.Reasons, w)
		}
		if fmt.Sprint(a.Reasons) != fmt.Sprint(b.Reasons) || a.LakeRows != b.LakeRows || a.Accepted != a.LakeRows {
			t.Errorf("%s: direct: %v, %d rows; staged: %v, %d rows", tab.Name, a.Reasons, a.LakeRows, b.Reasons, b.LakeRows)
		}
		s1, s2 := lake.New(opt1.Lake).Glob(tab.Name), lake.New(opt2.Lake).Glob(tab.Name)
		q := fmt.Sprintf("SELECT count(*) FROM read_parquet(%s)", lake.Quote(s1))
		if got := query(t, db, q); got[0] != strconv.FormatInt(a.LakeRows, 10) {
			t.Errorf("%s: %s rows in the lake file, %d reported", tab.Name, got[0], a.LakeRows)
		}
		q = fmt.Sprintf("SELECT count(*) FROM ((FROM read_parquet(%s) EXCEPT ALL FROM read_parquet(%s)) UNION ALL (FROM read_parquet(%s) EXCEPT ALL FROM read_parquet(%s)))",
			lake.Quote(s1), lake.Quote(s2), lake.Quote(s2), lake.Quote(s1))
		if got := query(t, db, q); got[0] != "0" {
			t.Errorf("%s: %s rows differ between the two lakes", tab.Name, got[0])
		}
		lines := files[tab.Name]
		for _, r := range readQuarantine(t, opt1.Lake, tab.Name) {
			n, _ := strconv.Atoi(r[1])
			if n < 1 || n > len(lines) || r[5] != lines[n-1] {
				t.Errorf("%s: quarantined line %s raw %q, file has %q", tab.Name, r[1], r[5], lines[max(0, min(n-1, len(lines)-1))])
			}
		}
	}
}

// TestLateGBK reads a file that looks like UTF-8 for its first 64 KiB
// and turns out to be GBK further on: it is read again as GBK, on the
// direct path as on the staged one.
func TestLateGBK(t *testing.T) {
	const header = "borrower_id,report_date,open_accounts,total_outstanding,overdue_accounts,worst_status_24m\n"
	var b strings.Builder
	b.WriteString(header)
	for i := range 3000 {
		fmt.Fprintf(&b, "B%06d,2018-04-30,1,100.00,0,N\n", i)
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("B9中,2018-04-30,1,1.00,0,N\n")
	if err != nil {
		t.Fatal(err)
	}
	body := b.String() + gbk
	for _, files := range []map[string]string{
		{"bureau_reports.csv": body}, // one file in order: direct
		{"bureau_reports.csv": body, "bureau_reports-0.csv": header + "A1,2018-04-30,1,1.00,0,N\n"}, // two files: staged
	} {
		raw, lk := t.TempDir(), t.TempDir()
		writeRaw(t, raw, files)
		res := run(t, testOptions(raw, lk))
		tr := tableResult(t, res, "bureau_reports")
		if tr.Encodings["bureau_reports.csv"] != EncGBK || tr.Quarantined != 0 || tr.Accepted != tr.Read {
			t.Errorf("%d files: %+v", len(files), tr)
		}
		got := query(t, openDB(t), fmt.Sprintf("SELECT count(*) FROM read_parquet(%s) WHERE borrower_id = 'B9中'",
			lake.Quote(lake.New(lk).Glob("bureau_reports"))))
		if got[0] != "1" {
			t.Errorf("%d files: the GBK row is not in the lake (%s)", len(files), got[0])
		}
	}
}

// TestKeylessTiesOrdered: bureau inquiries have no key, and two of a
// borrower's inquiries on one day tie on the table's sort columns. Staged
// (two files) in either order, the lake holds them in one order, the
// other columns breaking the tie, so the same rows give the same bytes.
func TestKeylessTiesOrdered(t *testing.T) {
	header := "borrower_id,query_date,institution_type,reason\n"
	a, b := "B1,2018-04-25,P2P,loan_approval\n", "B1,2018-04-25,bank,loan_approval\n"
	var got [][]string
	for i, order := range [][2]string{{a, b}, {b, a}} {
		dir := t.TempDir()
		raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
		files := bookFiles(cleanBook())
		files["bureau_inquiries.csv"] = header + "B1,2018-04-20,bank,loan_approval\n" + order[0]
		files["bureau_inquiries-2.csv"] = header + order[1] + "B2,2018-04-28,消费金融,post_loan\n"
		writeRaw(t, raw, files)
		run(t, testOptions(raw, lk))
		scan, err := lake.New(lk).Scan("bureau_inquiries")
		if err != nil {
			t.Fatal(err)
		}
		rows := query(t, openDB(t), "SELECT * FROM "+scan) // the file's order
		if len(rows) != 4 {
			t.Fatalf("order %d: %d rows, want 4: %v", i, len(rows), rows)
		}
		got = append(got, rows)
	}
	if strings.Join(got[0], "\n") != strings.Join(got[1], "\n") {
		t.Errorf("the tied rows' order follows the input files:\n%s\nagainst\n%s", strings.Join(got[0], "\n"), strings.Join(got[1], "\n"))
	}
}

// TestRangedWrite ingests one generated book (with defects) twice: as
// shipped, each table one sorted file, and with the write split into
// ranges of about 500 rows of each table's range columns. Every table
// gets the same rows in the same order (its files read in name order),
// the same counts and reasons, and the large ones more than one file.
func TestRangedWrite(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Dirty, cfg.Seed = 300, 0.01, 5
	src, _ := genBook(t, cfg)
	one := testOptions(src, filepath.Join(t.TempDir(), "lake"))
	r1 := run(t, one)
	ranged := testOptions(src, filepath.Join(t.TempDir(), "lake"))
	ranged.rangeRows = 500
	r2 := run(t, ranged)
	db := openDB(t)
	split := 0
	for _, tab := range schema.Tables() {
		a, b := tableResult(t, r1, tab.Name), tableResult(t, r2, tab.Name)
		if fmt.Sprint(a.Reasons) != fmt.Sprint(b.Reasons) || a.LakeRows != b.LakeRows || a.Accepted != b.Accepted {
			t.Errorf("%s: one file: %v, %d rows; ranges: %v, %d rows", tab.Name, a.Reasons, a.LakeRows, b.Reasons, b.LakeRows)
		}
		files, _ := filepath.Glob(lake.New(ranged.Lake).Glob(tab.Name))
		if len(files) > 1 {
			split++
			if a.LakeRows/int64(len(files)) > 1000 {
				t.Errorf("%s: %d rows in %d files, want about 500 a file", tab.Name, a.LakeRows, len(files))
			}
		}
		rows := func(glob string) []string {
			return query(t, db, fmt.Sprintf("SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet(%s, filename = true, file_row_number = true) ORDER BY filename, file_row_number", lake.Quote(glob)))
		}
		want, got := rows(lake.New(one.Lake).Glob(tab.Name)), rows(lake.New(ranged.Lake).Glob(tab.Name))
		if len(want) != len(got) {
			t.Errorf("%s: %d rows in ranges, %d in one file", tab.Name, len(got), len(want))
			continue
		}
		for i := range want {
			if want[i] != got[i] {
				t.Errorf("%s: row %d: ranges %q, one file %q", tab.Name, i, got[i], want[i])
				break
			}
		}
	}
	if split < 2 {
		t.Errorf("%d tables written in more than one file, want the large ones", split)
	}
	// The manifest gives each file its own rows.
	m, err := lake.New(ranged.Lake).ReadManifest(Stage)
	if err != nil {
		t.Fatal(err)
	}
	sum := map[string]int64{}
	for _, f := range m.Outputs {
		sum[strings.Split(f.Path, "/")[0]] += f.Rows
	}
	for _, tab := range schema.Tables() {
		if got, want := sum[tab.Name], tableResult(t, r2, tab.Name).LakeRows; got != want {
			t.Errorf("%s: the manifest's files hold %d rows, the table %d", tab.Name, got, want)
		}
	}
	// The ranges, and so the files, are the same bytes run after run.
	again := testOptions(src, filepath.Join(t.TempDir(), "lake"))
	again.rangeRows = 500
	run(t, again)
	for _, tab := range schema.Tables() {
		f1, _ := filepath.Glob(lake.New(ranged.Lake).Glob(tab.Name))
		f2, _ := filepath.Glob(lake.New(again.Lake).Glob(tab.Name))
		if len(f1) != len(f2) {
			t.Errorf("%s: %d files, then %d", tab.Name, len(f1), len(f2))
			continue
		}
		for i := range f1 {
			b1, err1 := os.ReadFile(f1[i])
			b2, err2 := os.ReadFile(f2[i])
			if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) || filepath.Base(f1[i]) != filepath.Base(f2[i]) {
				t.Errorf("%s: %s and %s differ (%v, %v)", tab.Name, f1[i], f2[i], err1, err2)
			}
		}
	}
}

// TestKeyAtLeast: the range condition is the lexicographic order of the
// columns, the first deciding, as DuckDB sorts them.
func TestKeyAtLeast(t *testing.T) {
	db := openDB(t)
	vals := []string{"a", "b", "c"}
	for _, a := range vals {
		for _, b := range vals {
			for _, x := range vals {
				for _, y := range vals {
					q := fmt.Sprintf("SELECT %s FROM (SELECT %s AS k1, %s AS k2)", keyAtLeast([]string{"k1", "k2"}, []string{x, y}), lake.Quote(a), lake.Quote(b))
					want := a > x || (a == x && b >= y)
					if got := query(t, db, q); got[0] != strconv.FormatBool(want) {
						t.Errorf("(%s, %s) >= (%s, %s): %s, want %t", a, b, x, y, got[0], want)
					}
				}
			}
		}
	}
}
