package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
	"golang.org/x/text/width"

	"qiandun/data/lake"
	"qiandun/internal/csvsafe"
)

// runSQL: qiandun sql --lake DIR [--format table|csv|json] "SELECT ..."
// or qiandun sql --lake DIR --tables.
func runSQL(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sql", `--lake DIR [--format table|csv|json] "SELECT ..." | --lake DIR --tables`)
	lakeDir := fs.String("lake", "", "lake root `DIR`")
	format := fs.String("format", "table", "output format: table, csv or json (JSON lines)")
	tables := fs.Bool("tables", false, "list the lake's tables (views) instead of running a query")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lakeDir == "" {
		fs.Usage()
		return fmt.Errorf("--lake is required")
	}
	if *format != "table" && *format != "csv" && *format != "json" {
		return fmt.Errorf("--format %q: want table, csv or json", *format)
	}
	lk := lake.New(*lakeDir)
	views, err := lk.Views()
	if err != nil {
		return err
	}
	if *tables {
		for _, v := range views {
			fmt.Fprintf(e.stdout, "%-28s %s\n", v.Name, v.Dir)
		}
		return nil
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want exactly one query argument, got %d", fs.NArg())
	}
	db, err := lk.OpenDB(ctx, lake.DBOptions{MemoryLimit: "1GB"})
	if err != nil {
		return err
	}
	defer db.Close()
	for _, v := range views {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TEMP VIEW %s AS SELECT * FROM %s", lake.Ident(v.Name), v.Expr)); err != nil {
			return fmt.Errorf("view %s: %w", v.Name, err)
		}
	}
	rows, err := db.QueryContext(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	return printRows(e.stdout, rows, *format)
}

// printRows writes the result set in the given format.
func printRows(w io.Writer, rows *sql.Rows, format string) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var cw *csv.Writer
	var table [][]string
	numeric := make([]bool, len(cols))
	for i, t := range types {
		numeric[i] = isNumericType(t.DatabaseTypeName())
	}
	switch format {
	case "csv":
		cw = csv.NewWriter(w)
		cw.Write(csvsafe.Record(slices.Clone(cols)))
	case "table":
		table = append(table, cols)
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("query: %w", err)
		}
		n++
		switch format {
		case "json":
			var b strings.Builder
			b.WriteByte('{')
			for i, c := range cols {
				if i > 0 {
					b.WriteByte(',')
				}
				k, _ := json.Marshal(c)
				b.Write(k)
				b.WriteByte(':')
				b.WriteString(jsonValue(vals[i], types[i].DatabaseTypeName()))
			}
			b.WriteString("}\n")
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
		case "csv":
			rec := make([]string, len(cols))
			for i := range cols {
				rec[i] = textValue(vals[i], types[i].DatabaseTypeName(), "")
				if !numeric[i] {
					rec[i] = csvsafe.Cell(rec[i]) // formula-leading text neutralised
				}
			}
			cw.Write(rec)
		default:
			rec := make([]string, len(cols))
			for i := range cols {
				rec[i] = textValue(vals[i], types[i].DatabaseTypeName(), "NULL")
			}
			table = append(table, rec)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	switch format {
	case "csv":
		cw.Flush()
		return cw.Error()
	case "table":
		writeTable(w, table, numeric)
		fmt.Fprintf(w, "(%d row%s)\n", n, map[bool]string{true: "", false: "s"}[n == 1])
	}
	return nil
}

func isNumericType(t string) bool {
	switch {
	case strings.HasPrefix(t, "DECIMAL"), strings.Contains(t, "INT"), t == "FLOAT", t == "DOUBLE", t == "HUGEINT":
		return true
	}
	return false
}

// displayWidth counts East Asian wide characters as two columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

func writeTable(w io.Writer, t [][]string, numeric []bool) {
	if len(t) == 0 {
		return
	}
	widths := make([]int, len(t[0]))
	for _, r := range t {
		for i, c := range r {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	line := func(r []string, header bool) {
		var b strings.Builder
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-displayWidth(c))
			if numeric[i] && !header {
				b.WriteString(pad + c)
			} else if i < len(r)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t[0], true)
	sep := make([]string, len(widths))
	for i, n := range widths {
		sep[i] = strings.Repeat("-", n)
	}
	line(sep, true)
	for _, r := range t[1:] {
		line(r, false)
	}
}

// decimalString formats a DuckDB decimal with its full scale.
func decimalString(d duckdb.Decimal) string {
	v := new(big.Int).Set(d.Value)
	sign := ""
	if v.Sign() < 0 {
		sign = "-"
		v.Neg(v)
	}
	s := v.String()
	sc := int(d.Scale)
	if sc == 0 {
		return sign + s
	}
	if len(s) <= sc {
		s = strings.Repeat("0", sc-len(s)+1) + s
	}
	return sign + s[:len(s)-sc] + "." + s[len(s)-sc:]
}

func textValue(v any, typ, null string) string {
	switch x := v.(type) {
	case nil:
		return null
	case duckdb.Decimal:
		return decimalString(x)
	case time.Time:
		switch typ {
		case "DATE":
			return x.Format(time.DateOnly)
		case "TIME":
			return x.Format(time.TimeOnly)
		}
		if x.Nanosecond() != 0 {
			return x.Format("2006-01-02 15:04:05.999999")
		}
		return x.Format(time.DateTime)
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return fmt.Sprintf("%x", x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func jsonValue(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case duckdb.Decimal:
		return decimalString(x)
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(x)
	case *big.Int:
		return x.String()
	case float64, float32:
		b, err := json.Marshal(x)
		if err != nil {
			return "null" // NaN or Inf
		}
		return string(b)
	case string, time.Time, []byte:
		b, _ := json.Marshal(textValue(x, typ, ""))
		return string(b)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			b, _ = json.Marshal(fmt.Sprint(x))
		}
		return string(b)
	}
}
