package ingest

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"
	"text/template"

	"qiandun/data/lake"
	"qiandun/data/schema"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var sqlTemplates = template.Must(template.ParseFS(sqlFS, "sql/*.sql"))

func render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := sqlTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}

// parentCols are the columns of a parent table its children check
// against: the key and, for loans, the issue date for date order.
var parentCols = map[string][]string{
	"applications": {"application_id"},
	"loans":        {"loan_id", "issue_date"},
}

// dateOrder is the date-order condition of a child row s against its
// parent p, and the child column it names.
var dateOrder = map[string][2]string{
	"repayments":         {"CAST(s.paid_at AS DATE) >= p.issue_date", "paid_at"},
	"repayment_schedule": {"s.due_date > p.issue_date", "due_date"},
}

func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = lake.Ident(n)
	}
	return strings.Join(q, ", ")
}

func lakeColNames(t schema.Table) []string {
	var out []string
	for _, c := range schema.LakeColumns(t) {
		out = append(out, c.Name)
	}
	return out
}

// dedupSQL finds duplicates; cands says the candidates are in the temp
// table qd_cand (qd_fid, qd_line) rather than found by hashing keys.
func dedupSQL(t schema.Table, lakeScan string, cands bool) (string, error) {
	cols := lakeColNames(t)
	key := t.Key
	if len(key) == 0 {
		key = cols
	}
	return render("dedup.sql", map[string]any{
		"Cols": identList(cols), "Key": identList(key), "KeyName": strings.Join(t.Key, "+"), "LakeScan": lakeScan,
		"Cands": cands,
	})
}

func parentsSQL(t schema.Table, ref schema.Ref) (string, error) {
	pt, _ := schema.Lookup(ref.Table)
	d := map[string]string{
		"Keys": "keys_" + ref.Table, "ParentKey": lake.Ident(pt.Key[0]), "Col": ref.Columns[0],
	}
	if do, ok := dateOrder[t.Name]; ok {
		d["DateOrder"], d["DateCol"] = do[0], do[1]
	}
	return render("parents.sql", d)
}

// writeSQL writes the table's new contents, the rows where the condition
// where holds (all rows when it is empty), to out, sorted unless presorted
// (the stage's insertion order is already the sort order).
//
// A table without a key (bureau inquiries, collection events) can hold
// rows that tie on its sort columns; the rest of its columns break the
// tie, so the file's row order, and its bytes, do not depend on how
// DuckDB's parallel sort met them (dedup.sql leaves no two rows equal in
// every column).
func writeSQL(t schema.Table, lakeScan, out string, presorted bool, where string) (string, error) {
	order := t.SortBy
	if len(t.Key) == 0 {
		order = append([]string(nil), t.SortBy...)
		for _, c := range lakeColNames(t) {
			if !slices.Contains(t.SortBy, c) {
				order = append(order, c)
			}
		}
	}
	sortBy := identList(order)
	if presorted {
		sortBy = ""
	}
	return render("write.sql", map[string]string{
		"Cols": identList(lakeColNames(t)), "Sort": sortBy, "LakeScan": lakeScan, "Out": lake.Quote(out), "Where": where,
	})
}
