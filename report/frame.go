package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
)

// Frame is a small query result held in Go: aggregates such as vintage
// curves or roll-rate matrices, a few thousand rows at most. Numeric
// columns are float64 (NaN for NULL); the rest are strings.
type Frame struct {
	Cols []string
	Num  []bool
	F    [][]float64 // F[col][row], numeric columns
	S    [][]string  // S[col][row], all columns as text
	N    int
}

// Col returns the index of the first of names present, or -1.
func (f *Frame) Col(names ...string) int {
	for _, n := range names {
		for i, c := range f.Cols {
			if strings.EqualFold(c, n) {
				return i
			}
		}
	}
	return -1
}

// ColLike returns the index of the first numeric column whose name
// contains every one of parts, or -1.
func (f *Frame) ColLike(parts ...string) int {
outer:
	for i, c := range f.Cols {
		if !f.Num[i] {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(strings.ToLower(c), p) {
				continue outer
			}
		}
		return i
	}
	return -1
}

// query runs q (a small aggregate) and returns its rows. DECIMAL and
// integer columns come back as float64, dates and other types as text:
// the query is wrapped so that DuckDB does the casts.
func query(ctx context.Context, db *sql.DB, q string) (*Frame, error) {
	desc, err := db.QueryContext(ctx, "DESCRIBE "+q)
	if err != nil {
		return nil, err
	}
	f := &Frame{}
	var sel []string
	for desc.Next() {
		var name, typ string
		var null, key, def, extra sql.NullString
		if err := desc.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
			desc.Close()
			return nil, err
		}
		num := isNumericType(typ)
		f.Cols = append(f.Cols, name)
		f.Num = append(f.Num, num)
		id := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
		if num {
			sel = append(sel, "CAST("+id+" AS DOUBLE)")
		} else {
			sel = append(sel, "CAST("+id+" AS VARCHAR)")
		}
	}
	desc.Close()
	if err := desc.Err(); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM ("+q+") AS t")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	f.F = make([][]float64, len(f.Cols))
	f.S = make([][]string, len(f.Cols))
	dst := make([]any, len(f.Cols))
	nf := make([]sql.NullFloat64, len(f.Cols))
	ns := make([]sql.NullString, len(f.Cols))
	for i := range dst {
		if f.Num[i] {
			dst[i] = &nf[i]
		} else {
			dst[i] = &ns[i]
		}
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		for i := range f.Cols {
			if f.Num[i] {
				v := math.NaN()
				if nf[i].Valid {
					v = nf[i].Float64
				}
				f.F[i] = append(f.F[i], v)
				f.S[i] = append(f.S[i], fmtNum(v))
			} else {
				f.S[i] = append(f.S[i], ns[i].String)
			}
		}
		f.N++
		if f.N > 200000 {
			return nil, fmt.Errorf("query returned more than 200000 rows; report queries must aggregate")
		}
	}
	return f, rows.Err()
}

func isNumericType(t string) bool {
	t = strings.ToUpper(t)
	for _, p := range []string{"DECIMAL", "DOUBLE", "FLOAT", "REAL", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "NUMERIC"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return ""
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) < 1:
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// table renders a frame as a report table.
func (f *Frame) table(caption string) Table {
	t := Table{Caption: caption, Head: f.Cols}
	for r := 0; r < f.N; r++ {
		row := make([]Cell, len(f.Cols))
		for c := range f.Cols {
			row[c] = Cell{Text: f.S[c][r], Num: f.Num[c]}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
