package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
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

// runSQL: qiandun sql --lake DIR [--format table|csv|json] [--output FILE]
// "SELECT ..." or qiandun sql --lake DIR --tables.
//
// The query is read-only over the lake's tables: it must be one SELECT
// (COPY, ATTACH, INSTALL/LOAD, SET, PRAGMA, CREATE ... are refused before
// they run), and once the views exist DuckDB may read only the tables'
// directories (allowed_directories with enable_external_access off) and
// its configuration is locked, so no query reaches the key file, the
// manifests or any path outside the lake. The quarantine is readable only
// with --quarantine. A result is written to a file only by qiandun itself
// (--output, atomically), never by DuckDB.
func runSQL(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sql", `--lake DIR [--format table|csv|json] [--output FILE] [--quarantine] "SELECT ..." | --lake DIR --tables`)
	lakeDir := fs.String("lake", "", "lake root `DIR`")
	format := fs.String("format", "table", "output format: table, csv or json (JSON lines)")
	tables := fs.Bool("tables", false, "list the lake's tables (views) instead of running a query")
	quarantine := fs.Bool("quarantine", false, "also expose the quarantined rows, as views quarantine_<table> (raw text: may hold PII)")
	output := fs.String("output", "", "write the result to `FILE` (atomically, mode 0600) instead of standard output; never inside the lake")
	mem := fs.String("memory-limit", "1GB", "DuckDB memory_limit; it spills to <lake>/_tmp/duckdb beyond")
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
	if *quarantine {
		q, err := quarantineViews(lk)
		if err != nil {
			return err
		}
		views = append(views, q...)
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
	query := fs.Arg(0)
	if *output != "" {
		if err := outsideLake(*output, *lakeDir); err != nil {
			return err
		}
	}
	db, err := lk.OpenDB(ctx, lake.DBOptions{MemoryLimit: *mem})
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("duckdb: %w", err)
	}
	defer conn.Close()
	var dirs []string
	for _, v := range views {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE TEMP VIEW %s AS SELECT * FROM %s", lake.Ident(v.Name), v.Expr)); err != nil {
			return fmt.Errorf("view %s: %w", v.Name, err)
		}
		dirs = append(dirs, filepath.Join(*lakeDir, filepath.FromSlash(v.Dir)))
	}
	if err := lockDown(ctx, conn, dirs); err != nil {
		return err
	}
	if err := readOnlyQuery(ctx, conn, query); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("query: %s", firstLine(err))
	}
	defer rows.Close()
	if *output == "" {
		return printRows(e.stdout, rows, *format)
	}
	return writeAtomic(*output, func(w io.Writer) error { return printRows(w, rows, *format) })
}

// quarantineViews returns a view per quarantined table: its CSV files
// read as text.
func quarantineViews(lk lake.Lake) ([]lake.View, error) {
	ents, err := os.ReadDir(filepath.Join(lk.Root, lake.QuarantineDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	var out []lake.View
	for _, e := range ents {
		dir := filepath.Join(lk.Root, lake.QuarantineDir, e.Name())
		if m, _ := filepath.Glob(filepath.Join(dir, "*.csv")); !e.IsDir() || len(m) == 0 {
			continue
		}
		out = append(out, lake.View{
			Name: "quarantine_" + e.Name(),
			Dir:  lake.QuarantineDir + "/" + e.Name(),
			Expr: fmt.Sprintf("read_csv(%s, all_varchar = true, header = true)", lake.Quote(filepath.Join(dir, "*.csv"))),
		})
	}
	return out, nil
}

// lockDown restricts DuckDB to reading dirs and locks its configuration:
// no file outside them can be read or written, no database attached, no
// extension installed or loaded, and no SET or PRAGMA undoes it.
func lockDown(ctx context.Context, conn *sql.Conn, dirs []string) error {
	list := make([]string, len(dirs))
	for i, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("lake: %w", err)
		}
		list[i] = lake.Quote(abs + string(filepath.Separator))
	}
	for _, q := range []string{
		"SET allowed_directories = [" + strings.Join(list, ", ") + "]",
		"SET enable_external_access = false",
		"SET autoinstall_known_extensions = false",
		"SET autoload_known_extensions = false",
		"SET lock_configuration = true",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("duckdb %s: %s", q, firstLine(err))
		}
	}
	return nil
}

// readOnlyQuery refuses anything but a single SELECT (DESCRIBE, SHOW,
// SUMMARIZE, FROM-first and VALUES queries are SELECTs too): COPY, ATTACH,
// INSTALL, LOAD, SET, PRAGMA, CALL, EXPLAIN (whose ANALYZE form runs its
// statement) and every DDL or DML are refused before they run.
func readOnlyQuery(ctx context.Context, conn *sql.Conn, query string) error {
	kw := "the statement"
	if f := strings.Fields(query); len(f) > 0 {
		kw = strings.ToUpper(strings.Trim(f[0], "(;"))
	}
	refused := fmt.Errorf("query refused: %s is not a read-only query (qiandun sql runs one SELECT over the lake's tables; write a result with --output FILE)", kw)
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("query: unexpected driver connection %T", dc)
		}
		st, err := c.Prepare(query) // refuses more than one statement
		if err != nil {
			if strings.Contains(err.Error(), "multi-statement") {
				return fmt.Errorf("query refused: give exactly one SELECT statement")
			}
			if strings.Contains(err.Error(), "Permission Error") {
				return fmt.Errorf("query refused: %s (qiandun sql reads only the lake's tables and writes nothing; write a result with --output FILE)", strings.TrimPrefix(firstLine(err), "Permission Error: "))
			}
			return fmt.Errorf("query: %s", firstLine(err))
		}
		defer st.Close()
		ds, ok := st.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("query: unexpected driver statement %T", st)
		}
		typ, err := ds.StatementType()
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		if typ != duckdb.STATEMENT_TYPE_SELECT {
			return refused
		}
		return nil
	})
}

// firstLine is a DuckDB error without its multi-line query context.
func firstLine(err error) string {
	s, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	return strings.TrimSpace(s)
}

// outsideLake refuses an output path inside the lake: query results are
// never written among its tables, keys or quarantine.
func outsideLake(out, lakeDir string) error {
	root, err := filepath.Abs(lakeDir)
	if err != nil {
		return err
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	dir := filepath.Dir(abs)
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	p := filepath.Join(dir, filepath.Base(abs))
	if rel, err := filepath.Rel(root, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("--output %s: refused: inside the lake %s (write query results elsewhere)", out, lakeDir)
	}
	return nil
}

// writeAtomic writes path through a temporary file in its directory,
// synced and renamed over it: a reader sees the old file or the whole
// new one. The file is 0600 (a query result may hold what the lake
// guards).
func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	done = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
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
