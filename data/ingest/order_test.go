package ingest

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qiandun/data/gen"
	"qiandun/data/lake"
	"qiandun/data/schema"
)

func TestKeyOrder(t *testing.T) {
	sched, _ := schema.Lookup("repayment_schedule") // key = sort = (loan_id, installment_no)
	repay, _ := schema.Lookup("repayments")         // key txn_id; sort (loan_id, paid_at, txn_id)
	inq, _ := schema.Lookup("bureau_inquiries")     // no key; sort (borrower_id, query_date)
	tests := []struct {
		name                string
		table               schema.Table
		lines               []string // data lines, numbered from 2
		ok, sorted, grouped bool
		cands               []int64
	}{
		{"sorted, unique", sched, []string{"L1,1,2018-06-03,1,1", "L1,2,2018-07-03,1,1", "L2,1,2018-06-05,1,1"},
			true, true, true, nil},
		{"integers by value, not text", sched, []string{"L1,9,2018-06-03,1,1", "L1,10,2018-07-03,1,1"},
			true, true, true, nil},
		{"equal keys are candidates", sched, []string{"L1,1,x,1,1", "L1,1,y,2,2", "L1,1,z,3,3", "L1,2,x,1,1", "L2,1,x,1,1", "L2,1,x,1,1"},
			true, true, true, []int64{2, 3, 4, 6, 7}},
		{"out of order", sched, []string{"L2,1,x,1,1", "L1,1,x,1,1"}, true, false, false, nil},
		{"leading zero is not canonical", sched, []string{"L1,01,x,1,1"}, false, false, false, nil},
		{"quoted value is not watched", sched, []string{`"L1",1,x,1,1`}, false, false, false, nil},
		{"empty key", sched, []string{",1,x,1,1"}, false, false, false, nil},
		{"negative integer", sched, []string{"L1,-1,x,1,1"}, false, false, false, nil},
		{"sorted by sort key, grouped by txn", repay, []string{
			"T1,L1,1,2018-06-03 08:00:00,1,1,0", "T2,L1,2,2018-07-03 08:00:00,1,1,0", "T0,L2,1,2018-06-03 08:00:00,1,1,0"},
			true, true, false, nil},
		{"grouped by txn, not sorted", repay, []string{
			"T1,L2,1,2018-06-03 08:00:00,1,1,0", "T2,L1,2,2018-07-03 08:00:00,1,1,0", "T2,L1,2,2018-07-03 08:00:00,1,1,0"},
			true, false, true, []int64{3, 4}},
		{"timestamp in another form", repay, []string{"T1,L1,1,2018-06-03 8:00:00,1,1,0"}, false, false, false, nil},
		{"no key: runs of the sort prefix", inq, []string{
			"B1,2018-04-20,bank,a", "B1,2018-04-20,bank,b", "B1,2018-04-25,bank,a", "B2,2018-04-20,bank,a"},
			true, true, true, []int64{2, 3}},
		{"date in another form", inq, []string{"B1,2018/04/20,bank,a"}, false, false, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newKeyOrder(tc.table, tc.table.Names())
			var buf []byte
			for i, l := range tc.lines {
				buf = append(buf[:0], l...) // the framer reuses its line buffer
				addLine(o, buf, int64(i+2), ',')
			}
			if got := o.known(false); got != tc.ok {
				t.Fatalf("known = %v, want %v", got, tc.ok)
			}
			if !tc.ok {
				return
			}
			if o.sorted != tc.sorted || o.grouped != tc.grouped {
				t.Errorf("sorted, grouped = %v, %v, want %v, %v", o.sorted, o.grouped, tc.sorted, tc.grouped)
			}
			if tc.grouped && !slices.Equal(o.cands, tc.cands) {
				t.Errorf("candidates %v, want %v", o.cands, tc.cands)
			}
		})
	}
	if o := newKeyOrder(sched, sched.Names()); o.known(true) {
		t.Error("values padded with spaces: order reported known")
	}
}

// TestOrderPathsAgree ingests a generated book with adjacent duplicate
// rows and keys added, once as one file per table (framing finds the rows
// sorted and grouped: no sort, candidate-only duplicate search) and once
// with each table split in two files (the general path: hashed duplicate
// search and a full sort). Both must quarantine the same lines for the
// same reasons and publish the same rows, and the first lake's files
// must be in sort order.
func TestOrderPathsAgree(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Seed = 300, 11
	src, _ := genBook(t, cfg)
	one, two := t.TempDir(), t.TempDir()
	dupLines := map[string]int{}
	for _, tab := range schema.Tables() {
		b, err := os.ReadFile(filepath.Join(src, tab.Name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(b), "\n")
		lines = lines[:len(lines)-1] // the empty string after the last \n
		// An exact duplicate of row 5 and, for keyed tables, a row with
		// row 9's key and another last column, both right after them.
		var out []string
		for i, l := range lines {
			out = append(out, l)
			switch {
			case i == 5:
				out = append(out, l)
				dupLines[tab.Name]++
			case i == 9 && len(tab.Key) > 0:
				f := strings.Split(strings.TrimSuffix(l, "\n"), ",")
				f[len(f)-1] = "999.00"
				if tab.Name == "applications" {
					f[len(f)-1] = "approved"
					if strings.HasSuffix(l, "approved\n") {
						f[len(f)-1] = "rejected"
					}
				}
				if tab.Name == "loans" {
					f[len(f)-1] = "settled"
					if strings.HasSuffix(l, "settled\n") {
						f[len(f)-1] = "active"
					}
				}
				if tab.Name == "bureau_reports" {
					f[len(f)-1] = "7"
					if strings.HasSuffix(l, ",7\n") {
						f[len(f)-1] = "6"
					}
				}
				out = append(out, strings.Join(f, ",")+"\n")
				dupLines[tab.Name]++
			}
		}
		whole := strings.Join(out, "")
		writeRaw(t, one, map[string]string{tab.Name + ".csv": whole})
		half := len(out) / 2
		writeRaw(t, two, map[string]string{
			tab.Name + ".csv":   strings.Join(out[:half], ""),
			tab.Name + "-2.csv": out[0] + strings.Join(out[half:], ""),
		})
	}

	var logs bytes.Buffer
	o1 := testOptions(one, filepath.Join(t.TempDir(), "lake"))
	o1.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r1 := run(t, o1)
	o2 := testOptions(two, filepath.Join(t.TempDir(), "lake"))
	r2 := run(t, o2)

	for _, want := range []string{"table=repayment_schedule known=true sorted=true grouped=true candidates=4",
		"table=bureau_inquiries known=true sorted=true grouped=true"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("fast path not taken: log has no %q", want)
		}
	}
	db := openDB(t)
	for _, tab := range schema.Tables() {
		a, b := tableResult(t, r1, tab.Name), tableResult(t, r2, tab.Name)
		if a.Quarantined != int64(dupLines[tab.Name]) {
			t.Errorf("%s: quarantined %d (%v), added %d duplicates", tab.Name, a.Quarantined, a.Reasons, dupLines[tab.Name])
		}
		if fmt.Sprint(a.Reasons) != fmt.Sprint(b.Reasons) || a.LakeRows != b.LakeRows {
			t.Errorf("%s: one file: %v, %d rows; two files: %v, %d rows", tab.Name, a.Reasons, a.LakeRows, b.Reasons, b.LakeRows)
		}
		s1, s2 := lake.New(o1.Lake).Glob(tab.Name), lake.New(o2.Lake).Glob(tab.Name)
		q := fmt.Sprintf("SELECT count(*) FROM ((FROM read_parquet(%s) EXCEPT ALL FROM read_parquet(%s)) UNION ALL (FROM read_parquet(%s) EXCEPT ALL FROM read_parquet(%s)))",
			lake.Quote(s1), lake.Quote(s2), lake.Quote(s2), lake.Quote(s1))
		if got := query(t, db, q); got[0] != "0" {
			t.Errorf("%s: %s rows differ between the two lakes", tab.Name, got[0])
		}
		// File order is sort order: no row is above its predecessor.
		var cur, prev []string
		for _, c := range tab.SortBy {
			cur = append(cur, fmt.Sprintf("'%s': %s", c, lake.Ident(c)))
			prev = append(prev, fmt.Sprintf("'%s': lag(%s) OVER (ORDER BY file_row_number)", c, lake.Ident(c)))
		}
		q = fmt.Sprintf("SELECT count(*) FROM (SELECT file_row_number AS n, {%s} AS cur, {%s} AS prev FROM read_parquet(%s, file_row_number=true)) WHERE n > 0 AND prev > cur",
			strings.Join(cur, ", "), strings.Join(prev, ", "), lake.Quote(s1))
		if got := query(t, db, q); got[0] != "0" {
			t.Errorf("%s: %s rows out of sort order", tab.Name, got[0])
		}
	}
}

// addLine cuts an unquoted test line at delim and watches it as the
// readers do (addFields, fields in a reused buffer).
func addLine(o *keyOrder, line []byte, n int64, delim byte) {
	o.addFields(bytes.Split(line, []byte{delim}), bytes.IndexByte(line, '"') >= 0, n, false)
}
