package disclose

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/lake"
)

// lakeTokens returns every value of every *_token column of the lake's
// tables.
func lakeTokens(t *testing.T, lk string) []string {
	t.Helper()
	ctx := context.Background()
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: "200MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []string
	for _, tbl := range tables {
		scan, err := lake.New(lk).Scan(tbl)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM "+scan+") WHERE column_name LIKE '%\\_token' ESCAPE '\\'")
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var c string
			rows.Scan(&c)
			cols = append(cols, c)
		}
		rows.Close()
		for _, c := range cols {
			vals, err := db.QueryContext(ctx, fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s IS NOT NULL", lake.Ident(c), scan, lake.Ident(c)))
			if err != nil {
				t.Fatal(err)
			}
			for vals.Next() {
				var v string
				vals.Scan(&v)
				out = append(out, v)
			}
			vals.Close()
		}
	}
	return out
}

// TestNoIdentityNoToken publishes May and June and reads every byte
// written under the output root (pages, CSV, JSON Lines, manifests, the
// commit's versions): no clear name, ID number, phone or sub-account of a
// borrower or lender, and no token of the lake (nor its first 16
// characters) appears. The masked forms do, so the sweep reads the right
// files.
func TestNoIdentityNoToken(t *testing.T) {
	f := handLake(t)
	out := t.TempDir()
	for _, m := range []string{"2024-05", "2024-06"} {
		run(t, opts(t, f.lake, out, m, nil))
	}
	var forbidden []string
	for i := range handBook {
		forbidden = append(forbidden, names[i], idNumber(i+1), phone(i+1), subAccount(i+1))
	}
	for n := 1; n <= 7; n++ {
		forbidden = append(forbidden, lenderName(n), lenderID(n), lenderPhone(n))
	}
	toks := lakeTokens(t, f.lake)
	if len(toks) < 3*len(handBook)+3*7 {
		t.Fatalf("only %d tokens in the lake", len(toks))
	}
	for _, tok := range toks {
		forbidden = append(forbidden, tok, tok[:16])
	}
	var all strings.Builder
	files := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		s := string(b)
		all.WriteString(s)
		for _, x := range forbidden {
			if strings.Contains(s, x) {
				t.Errorf("%s contains %q", p, x)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, masked := range []string{"李*", MaskID(idNumber(2)), MaskPhone(phone(8)), MaskAccount(subAccount(3)), "周*"} {
		if !strings.Contains(all.String(), masked) {
			t.Errorf("masked %q not published", masked)
		}
	}
	if files < 10 {
		t.Errorf("swept %d files", files)
	}
}
