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
// fallback bin's points, as Score does.
func (c *Characteristic) CaseSQL() string {
	var b strings.Builder
	col := sqlIdent(c.Name)
	fb := sqlPoints(c.Bins[c.Fallback].Points)
	b.WriteString("CASE")
	if c.Kind == "categorical" {
		v := "CAST(" + col + " AS VARCHAR)"
		missing := fb
		for _, bin := range c.Bins {
			if bin.Missing {
				missing = sqlPoints(bin.Points)
			}
		}
		fmt.Fprintf(&b, "\n    WHEN %s IS NULL OR %s = '' THEN %s", col, v, missing)
		for _, bin := range c.Bins {
			if len(bin.Values) == 0 {
				continue
			}
			vals := make([]string, len(bin.Values))
			for i, x := range bin.Values {
				vals[i] = sqlString(x)
			}
			fmt.Fprintf(&b, "\n    WHEN %s IN (%s) THEN %s", v, strings.Join(vals, ", "), sqlPoints(bin.Points))
		}
		fmt.Fprintf(&b, "\n    ELSE %s\n  END", fb)
		return b.String()
	}
	missing := fb
	for _, bin := range c.Bins {
		if bin.Missing {
			missing = sqlPoints(bin.Points)
		}
	}
	fmt.Fprintf(&b, "\n    WHEN %s IS NULL OR isnan(CAST(%s AS DOUBLE)) THEN %s", col, col, missing)
	for _, bin := range c.Bins {
		if len(bin.Specials) == 0 {
			continue
		}
		vals := make([]string, len(bin.Specials))
		for i, x := range bin.Specials {
			vals[i] = sqlNum(x)
		}
		fmt.Fprintf(&b, "\n    WHEN %s IN (%s) THEN %s", col, strings.Join(vals, ", "), sqlPoints(bin.Points))
	}
	// Interval bins are in break order; the last is unbounded above.
	last := ""
	for _, bin := range c.Bins {
		if !bin.Interval {
			continue
		}
		if bin.Upper == nil {
			last = sqlPoints(bin.Points)
			continue
		}
		fmt.Fprintf(&b, "\n    WHEN %s < %s THEN %s", col, sqlNum(*bin.Upper), sqlPoints(bin.Points))
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
