package scorecard

import (
	"fmt"
	"strconv"
	"strings"
)

func sqlIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlNum is a DOUBLE literal of v. A bare literal such as
// 0.9797252747252747 is read by DuckDB as a DECIMAL whose conversion to
// DOUBLE can miss v by an ulp, which puts a value equal to a break in the
// wrong bin; a string cast to DOUBLE is correctly rounded to v.
func sqlNum(v float64) string {
	return "CAST('" + strconv.FormatFloat(v, 'g', -1, 64) + "' AS DOUBLE)"
}

// sqlPoints is a points literal as an exact DECIMAL(18,4).
func sqlPoints(v float64) string {
	return "CAST(" + strconv.FormatFloat(v, 'f', 4, 64) + " AS DECIMAL(18,4))"
}

// CaseSQL returns the SQL CASE expression giving characteristic c's points.
// Missing is NULL (or ” for a categorical); unseen values take the
// fallback bin's points, as Score does. A pair's CASE is over its cell,
// the number of its first input's bin (a CASE over that column) times
// the second's bin count plus the second input's bin (a CASE over the
// other column).
func (c *Characteristic) CaseSQL() string {
	points := func(k int) string { return sqlPoints(c.Bins[k].Points) }
	if !c.IsPair() {
		return c.caseSQL(points)
	}
	index := func(k int) string { return strconv.Itoa(k) }
	var b strings.Builder
	fmt.Fprintf(&b, "CASE (%s) * %d + (%s)", c.Inputs[0].caseSQL(index), len(c.Inputs[1].Bins), c.Inputs[1].caseSQL(index))
	for k := range c.Bins {
		fmt.Fprintf(&b, "\n    WHEN %d THEN %s", k, points(k))
	}
	fmt.Fprintf(&b, "\n    ELSE %s\n  END", points(c.Fallback))
	return b.String()
}

// caseSQL is the CASE expression of a one-input characteristic giving
// val(k) for a value in bin k.
func (c *Characteristic) caseSQL(val func(k int) string) string {
	var b strings.Builder
	col := sqlIdent(c.Name)
	fb := val(c.Fallback)
	b.WriteString("CASE")
	if c.Kind == "categorical" {
		v := "CAST(" + col + " AS VARCHAR)"
		missing := fb
		for k, bin := range c.Bins {
			if bin.Missing {
				missing = val(k)
			}
		}
		fmt.Fprintf(&b, "\n    WHEN %s IS NULL OR %s = '' THEN %s", col, v, missing)
		for k, bin := range c.Bins {
			if len(bin.Values) == 0 {
				continue
			}
			vals := make([]string, len(bin.Values))
			for i, x := range bin.Values {
				vals[i] = sqlString(x)
			}
			fmt.Fprintf(&b, "\n    WHEN %s IN (%s) THEN %s", v, strings.Join(vals, ", "), val(k))
		}
		fmt.Fprintf(&b, "\n    ELSE %s\n  END", fb)
		return b.String()
	}
	missing := fb
	for k, bin := range c.Bins {
		if bin.Missing {
			missing = val(k)
		}
	}
	fmt.Fprintf(&b, "\n    WHEN %s IS NULL OR isnan(CAST(%s AS DOUBLE)) THEN %s", col, col, missing)
	for k, bin := range c.Bins {
		if len(bin.Specials) == 0 {
			continue
		}
		vals := make([]string, len(bin.Specials))
		for i, x := range bin.Specials {
			vals[i] = sqlNum(x)
		}
		fmt.Fprintf(&b, "\n    WHEN %s IN (%s) THEN %s", col, strings.Join(vals, ", "), val(k))
	}
	// Interval bins are in break order; the last is unbounded above.
	last := ""
	for k, bin := range c.Bins {
		if !bin.Interval {
			continue
		}
		if bin.Upper == nil {
			last = val(k)
			continue
		}
		fmt.Fprintf(&b, "\n    WHEN %s < %s THEN %s", col, sqlNum(*bin.Upper), val(k))
	}
	if last == "" {
		last = fb
	}
	fmt.Fprintf(&b, "\n    ELSE %s\n  END", last)
	return b.String()
}

// SQL returns the card as one SELECT over table: every input column, one
// column points_<name> per characteristic (a CASE expression), and score,
// their sum plus the base points, as DECIMAL(18,4). The expressions use
// only standard SQL (CASE, IN, CAST) apart from isnan for numeric NaN.
func (m *Model) SQL(table string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- qiandun scorecard %s %s (%s)\n", m.Name, m.Version, m.Checksum)
	fmt.Fprintf(&b, "-- score = base points + sum of characteristic points; PD = 1 / (1 + exp((score - %s) / %s))\n",
		strconv.FormatFloat(m.Scaling.Offset, 'g', -1, 64), strconv.FormatFloat(m.Scaling.Factor, 'g', -1, 64))
	fmt.Fprintf(&b, "-- replace %s with the table to score\n", table)
	b.WriteString("WITH points AS (\n  SELECT *")
	for j := range m.Chars {
		c := &m.Chars[j]
		fmt.Fprintf(&b, ",\n  %s AS %s", c.CaseSQL(), sqlIdent("points_"+c.Name))
	}
	fmt.Fprintf(&b, "\n  FROM %s\n)\nSELECT *,\n  %s", table, sqlPoints(m.BasePoints))
	for j := range m.Chars {
		fmt.Fprintf(&b, "\n  + %s", sqlIdent("points_"+m.Chars[j].Name))
	}
	b.WriteString(" AS score\nFROM points\n")
	return b.String()
}
