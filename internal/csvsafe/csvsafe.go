// Package csvsafe neutralises spreadsheet formulas in the text cells of
// CSV files (OWASP "CSV injection"): a cell that starts with '=', '+',
// '-', '@', a TAB or a CR is read by Excel, LibreOffice and Google Sheets
// as a formula, so `=cmd|' /C calc'!A0` in a name would run when a
// risk analyst opens the file. Such a cell gets a leading single quote,
// which spreadsheets show as text and do not display. A cell that is a
// plain decimal number ("-12.5", "+3", "1e-3") stays as it is: a negative
// number is not text.
//
// Every CSV file the project writes for people or other systems goes
// through Cell (or Field, AppendField, Record, SQL); readers of those
// files that must see the original text use Unquote.
package csvsafe

import "strings"

// Risky reports whether a text cell starting with byte c is read as a
// formula by spreadsheets.
func Risky(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// Needs reports whether Cell changes s.
func Needs(s string) bool {
	return s != "" && Risky(s[0]) && !isNumber(s)
}

// Cell returns s with a leading ' when a spreadsheet would read it as a
// formula, else s itself.
func Cell(s string) string {
	if Needs(s) {
		return "'" + s
	}
	return s
}

// Unquote undoes Cell: it drops the ' that Cell put in front of a risky
// cell. Other text is returned as it is (so text that itself began with
// a quote and a formula character loses its quote: the one ambiguity).
func Unquote(s string) string {
	if len(s) > 1 && s[0] == '\'' && Needs(s[1:]) {
		return s[1:]
	}
	return s
}

// Field renders s as one CSV field: Cell, then quoted (RFC 4180) when it
// holds a comma, a quote or a line break.
func Field(s string) string {
	s = Cell(s)
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// AppendField appends Field(s) to b.
func AppendField(b []byte, s string) []byte {
	if Needs(s) {
		return append(b, Field(s)...)
	}
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := range len(s) {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// Record applies Cell to every cell of rec, in place, and returns it
// (for encoding/csv.Writer, which quotes).
func Record(rec []string) []string {
	for i, s := range rec {
		rec[i] = Cell(s)
	}
	return rec
}

// SQL wraps the DuckDB VARCHAR expression expr so that it yields Cell of
// its value (NULL stays NULL), for CSV files DuckDB writes.
func SQL(expr string) string {
	return "CASE WHEN regexp_matches(" + expr + `, '^[=+\-@\t\r]') AND NOT regexp_matches(` + expr +
		`, '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$') THEN '''' || ` + expr + " ELSE " + expr + " END"
}

// isNumber reports whether s is a plain decimal number: an optional sign,
// digits with an optional point (or a point and digits), an optional
// exponent.
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}
