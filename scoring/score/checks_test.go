//go:build duckdb_arrow

package score_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/lake"
	"qiandun/scoring/publish"
	"qiandun/scoring/score"
	"qiandun/training/scorecard"
)

// TestInputRefusals: inputs that cannot be scored as they stand are
// refused with a message naming the file and what is wrong (not a type
// mismatch), and nothing is published; the flags that allow an empty
// batch and duplicate ids publish them.
func TestInputRefusals(t *testing.T) {
	modelDir, data := trainGerman(t)
	m, err := scorecard.Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	var numeric, categorical string
	for _, c := range m.Chars {
		if c.Kind == "numeric" && numeric == "" {
			numeric = c.Name
		}
		if c.Kind == "categorical" && categorical == "" {
			categorical = c.Name
		}
	}
	if numeric == "" || categorical == "" {
		t.Fatalf("the German card needs a numeric and a categorical characteristic")
	}
	db := openDB(t)
	dir := t.TempDir()
	src := "read_csv(" + lake.Quote(data) + ", header = true)"
	mk := func(name, q string) string {
		p := filepath.Join(dir, name)
		opts := "(HEADER)"
		if strings.HasSuffix(name, ".parquet") {
			opts = "(FORMAT parquet)"
		}
		if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO %s %s", q, lake.Quote(p), opts)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	headerLine := strings.SplitAfter(string(header), "\n")[0]
	// Duplicates out of order: G0002 twice (its first occurrence is the
	// earliest of the duplicated ids), G0500 three times.
	unordered := mk("dup_unordered.csv", "SELECT * FROM (SELECT * FROM "+src+" UNION ALL SELECT * FROM "+src+
		" WHERE id IN ('G0500', 'G0002') UNION ALL SELECT * FROM "+src+" WHERE id = 'G0500') ORDER BY CASE WHEN id = 'G0999' THEN 0 ELSE 1 END, id")
	// Duplicates in id order (the no-memory check must not miss them).
	ordered := mk("dup_ordered.parquet", "SELECT * FROM (SELECT * FROM "+src+" UNION ALL SELECT * FROM "+src+" WHERE id = 'G0700') ORDER BY id")
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"empty csv", write("empty.csv", ""), []string{"empty.csv is empty", "no header line"}},
		{"blank csv", write("blank.csv", "\xef\xbb\xbf\r\n\n"), []string{"blank.csv is empty"}},
		{"header-only csv", write("header.csv", headerLine), []string{"header.csv has a header line but no data rows", "nothing is published"}},
		{"empty parquet", mk("none.parquet", "SELECT * FROM "+src+" LIMIT 0"), []string{"none.parquet has no rows", "--allow-empty"}},
		{"all-NULL numeric csv", mk("nullnum.csv", "SELECT * REPLACE (NULL AS "+lake.Ident(numeric)+") FROM "+src),
			[]string{"nullnum.csv: column(s) " + numeric + " empty (NULL) in all 1000 rows"}},
		{"all-NULL categorical parquet", mk("nullcat.parquet", "SELECT * REPLACE (CAST(NULL AS VARCHAR) AS "+lake.Ident(categorical)+") FROM "+src),
			[]string{"nullcat.parquet: characteristic(s) " + categorical + " NULL in all 1000 rows"}},
		{"duplicate ids", unordered, []string{"dup_unordered.csv", `duplicate entity id "G0002" appears 2 times (2 ids appear more than once)`}},
		{"duplicate ids in order", ordered, []string{"dup_ordered.parquet", `duplicate entity id "G0700" appears 2 times (1 ids`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			_, _, err := score.Run(context.Background(), score.Options{Data: tc.data, ID: "id", Models: []string{modelDir}, Out: out, AsOf: "2024-01-31"})
			if err == nil {
				t.Fatal("scored; want a refusal")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "type mismatch") {
				t.Errorf("error %q blames the type", err)
			}
			if _, err := os.Stat(filepath.Join(out, "2024-01-31")); err == nil {
				t.Fatal("a refused run published its output")
			}
			if vers, _ := os.ReadDir(filepath.Join(out, "_v", "2024-01-31")); len(vers) > 0 {
				t.Fatalf("a refused run left %d versions or staging directories", len(vers))
			}
		})
	}
	t.Run("allow empty", func(t *testing.T) {
		man, dir := run(t, score.Options{Data: filepath.Join(dir, "none.parquet"), ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31", AllowEmpty: true})
		if man.Rows != 0 {
			t.Fatalf("%d rows", man.Rows)
		}
		if _, err := publish.Verify(dir); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("allow duplicate ids", func(t *testing.T) {
		man, dir := run(t, score.Options{Data: unordered, ID: "id", Models: []string{modelDir}, Out: t.TempDir(), AsOf: "2024-01-31", AllowDuplicateIDs: true})
		if man.Rows != 1003 {
			t.Fatalf("%d rows, want 1003 (every input row)", man.Rows)
		}
		_, ids := readScores(t, dir)
		n := 0
		for _, id := range ids {
			if id == "G0500" {
				n++
			}
		}
		if n != 3 {
			t.Fatalf("G0500 scored %d times, want 3", n)
		}
	})
}
