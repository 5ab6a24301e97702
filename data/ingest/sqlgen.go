package ingest

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"qiandun/data/ingest/pii"
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

// ranges are the plausibility checks beyond sign, as the condition a
// valid (non-NULL) value meets.
var ranges = map[string]string{
	"term_months":      "term_months BETWEEN 1 AND 120",
	"annual_rate":      "annual_rate <= 1",
	"installment_no":   "installment_no BETWEEN 1 AND 120",
	"worst_status_24m": "worst_status_24m <= 7",
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

type colSpec struct {
	Name, Ident, Raw, Parse     string
	Required, Enum, NonNeg      bool
	ParseReason, Range          string
	thousands, dateForm, chines string
}

type lakeExpr struct{ Ident, Expr string }

type fileRead struct {
	ID   int
	Read string
	Trim bool // values need trimming (else empty already reads as NULL)
}

// check is one row check of validate.sql: Cond is a boolean that is never
// NULL; the checks are listed in precedence order.
type check struct {
	Cond, Reason string
}

type validateData struct {
	Files                        []fileRead
	Columns                      []colSpec
	Lake                         []lakeExpr
	Checks                       []check
	Thousands, DateForm, Chinese string
}

// parseFail holds when a present value does not parse (every parser maps
// NULL to NULL). It reads the parsed column of the typed projection, so
// the parse itself runs once.
func parseFail(c colSpec) string {
	return "(" + c.Ident + " IS NULL AND " + c.Raw + " IS NOT NULL)"
}

// presentAnd is 1 when the parsed value is present and cond holds.
func presentAnd(c colSpec, cond string) string {
	return "CAST(" + c.Ident + " IS NOT NULL AS INTEGER) * CAST((" + cond + ") IS TRUE AS INTEGER)"
}

// checks lists a table's row checks in precedence order.
func checks(cols []colSpec) []check {
	var out []check
	add := func(cond, reason string) {
		out = append(out, check{Cond: cond, Reason: reason})
	}
	for _, c := range cols {
		if c.Required {
			add("("+c.Raw+" IS NULL)", schema.ReasonMissing+":"+c.Name)
		}
	}
	for _, c := range cols {
		if c.ParseReason != "" && !c.Enum {
			add(parseFail(c), c.ParseReason+":"+c.Name)
		}
	}
	for _, c := range cols {
		if c.Enum {
			add(parseFail(c), schema.ReasonBadEnum+":"+c.Name)
		}
	}
	for _, c := range cols {
		if c.NonNeg {
			add("(("+c.Ident+" < 0) IS TRUE)", schema.ReasonNegative+":"+c.Name)
		}
	}
	for _, c := range cols {
		if c.Range != "" {
			add("((NOT ("+c.Range+")) IS TRUE)", schema.ReasonOutOfRange+":"+c.Name)
		}
	}
	return out
}

func columnSpecs(t schema.Table) []colSpec {
	aliases := schema.ChineseAliases()
	var out []colSpec
	for _, c := range t.Columns {
		s := colSpec{Name: c.Name, Ident: lake.Ident(c.Name), Raw: lake.Ident("qd_raw_" + c.Name), Required: !c.Nullable}
		switch c.Kind {
		case schema.Date:
			s.Parse, s.ParseReason = "qd_date("+s.Raw+")", schema.ReasonBadDate
			s.dateForm = presentAnd(s, s.Raw+" NOT LIKE '____-__-__'")
		case schema.Timestamp:
			s.Parse, s.ParseReason = "qd_ts("+s.Raw+")", schema.ReasonBadDate
			s.dateForm = presentAnd(s, s.Raw+" NOT LIKE '____-__-__ __:__:__'")
		case schema.Money:
			s.Parse, s.ParseReason, s.NonNeg = "qd_money("+s.Raw+")", schema.ReasonBadAmount, c.NonNeg
			s.thousands = presentAnd(s, s.Raw+" LIKE '%,%'")
		case schema.Int:
			s.Parse, s.ParseReason, s.NonNeg = "qd_int("+s.Raw+")", schema.ReasonBadNumber, c.NonNeg
		case schema.Rate:
			s.Parse, s.ParseReason, s.NonNeg = "qd_rate("+s.Raw+")", schema.ReasonBadNumber, c.NonNeg
		case schema.Enum:
			s.Enum, s.ParseReason = true, schema.ReasonBadEnum
			var b strings.Builder
			fmt.Fprintf(&b, "CASE %s", s.Raw)
			var cn []string
			for _, v := range c.Enum {
				fmt.Fprintf(&b, " WHEN %s THEN %s", lake.Quote(v), lake.Quote(v))
			}
			keys := make([]string, 0, len(aliases))
			for k := range aliases {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, v := range c.Enum {
					if aliases[k] == v {
						fmt.Fprintf(&b, " WHEN %s THEN %s", lake.Quote(k), lake.Quote(v))
						cn = append(cn, lake.Quote(k))
					}
				}
			}
			b.WriteString(" END")
			s.Parse = b.String()
			if len(cn) > 0 {
				s.chines = fmt.Sprintf("CAST((%s IN (%s)) IS TRUE AS INTEGER)", s.Raw, strings.Join(cn, ", "))
			}
		default: // String, ID, PII
			s.Parse = s.Raw
		}
		s.Range = ranges[c.Name]
		out = append(out, s)
	}
	return out
}

func sumFlags(cols []colSpec, get func(colSpec) string) string {
	var parts []string
	for _, c := range cols {
		if e := get(c); e != "" {
			parts = append(parts, e)
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " + ")
}

// lakeExprs returns the expressions of the typed lake columns over the
// parsed columns: PII is tokenised, applications get the ID attributes.
func lakeExprs(t schema.Table) []lakeExpr {
	var out []lakeExpr
	for _, c := range schema.LakeColumns(t) {
		e := lakeExpr{Ident: lake.Ident(c.Name)}
		switch {
		case c.Name == "id_number_token":
			e.Expr = pii.TokenUDF + `(upper("id_number"))`
		case strings.HasSuffix(c.Name, "_token"):
			e.Expr = pii.TokenUDF + "(" + lake.Ident(strings.TrimSuffix(c.Name, "_token")) + ")"
		case c.Name == "age" && t.Name == "applications":
			e.Expr = `qd_age(qd_id_birth("id_number"), "apply_time")`
		case c.Name == "id_gender" && t.Name == "applications":
			e.Expr = `qd_id_gender("id_number")`
		case c.Name == "birth_province" && t.Name == "applications":
			e.Expr = `qd_id_province("id_number")`
		case c.Name == "id_checksum_ok" && t.Name == "applications":
			e.Expr = `qd_id_checksum_ok("id_number")`
		default:
			e.Expr = e.Ident
		}
		out = append(out, e)
	}
	return out
}

// readExpr is DuckDB's read of a framed file: fixed dialect, all VARCHAR,
// unreadable lines kept in the rejects tables.
func readExpr(f *framed) string {
	cols := []string{"'__line': 'BIGINT'"}
	for _, c := range f.columns {
		cols = append(cols, lake.Quote(c)+": 'VARCHAR'")
	}
	return fmt.Sprintf("read_csv(%s, delim=%s, quote='\"', escape='\"', header=false, auto_detect=false, "+
		"columns={%s}, store_rejects=true, rejects_table='qd_rejects', rejects_scan='qd_reject_scans', "+
		"strict_mode=true, null_padding=false, max_line_size=16777216)",
		lake.Quote(f.path), lake.Quote(string(f.delim)), strings.Join(cols, ", "))
}

func validateSQL(t schema.Table, files []*framed) (string, error) {
	cols := columnSpecs(t)
	d := validateData{
		Columns:   cols,
		Lake:      lakeExprs(t),
		Checks:    checks(cols),
		Thousands: sumFlags(cols, func(c colSpec) string { return c.thousands }),
		DateForm:  sumFlags(cols, func(c colSpec) string { return c.dateForm }),
		Chinese:   sumFlags(cols, func(c colSpec) string { return c.chines }),
	}
	for _, f := range files {
		d.Files = append(d.Files, fileRead{ID: f.fid, Read: readExpr(f), Trim: f.trim})
	}
	return render("validate.sql", d)
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

// writeSQL writes the table's new contents to out, sorted unless
// presorted (the stage's insertion order is already the sort order).
func writeSQL(t schema.Table, lakeScan, out string, presorted bool) (string, error) {
	sortBy := identList(t.SortBy)
	if presorted {
		sortBy = ""
	}
	return render("write.sql", map[string]string{
		"Cols": identList(lakeColNames(t)), "Sort": sortBy, "LakeScan": lakeScan, "Out": lake.Quote(out),
	})
}
