// Package normalize defines how ingestion reads the text values of raw
// exports: money, dates, timestamps, integers, rates and enum words, one
// Go function per rule, which ingestion applies to every value as it
// parses (there is no SQL twin).
//
// Accepted forms:
//
//	money      -123.45, 1000, 1,000.00 (thousands separator; counted as
//	           a normalisation), at most 2 decimals and 16 integer digits
//	date       2018-05-01 (canonical), 2018-5-1, 2018/5/1, 20180501
//	           (other forms, counted), years 1900..2099
//	timestamp  a date in any accepted form, optionally followed by a space
//	           or T and HH:MM or HH:MM:SS; anything but
//	           "YYYY-MM-DD HH:MM:SS" counts as another date form
//	int        -?[0-9]{1,9}
//	rate       -?[0-9]{1,3}(.[0-9]{1,6})?
//	enum       the contract's English value, or a Chinese alias (counted)
//
// Values are trimmed of spaces and tabs first; an empty value is missing.
package normalize

import (
	"errors"
	"strings"
	"time"

	"qiandun/internal/civil"
)

// ErrSyntax is returned for a value that no accepted form parses.
var ErrSyntax = errors.New("invalid syntax")

// Trim removes the spaces and tabs around a raw value.
func Trim(s string) string { return strings.Trim(s, " \t") }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseAmount parses a money value into fen (hundredths of a yuan). It
// reports whether the value used thousands separators.
func ParseAmount(s string) (fen int64, thousands bool, err error) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if hasDot && (len(frac) < 1 || len(frac) > 2 || !isDigits(frac)) {
		return 0, false, ErrSyntax
	}
	if strings.Contains(intPart, ",") {
		groups := strings.Split(intPart, ",")
		if len(groups[0]) < 1 || len(groups[0]) > 3 || !isDigits(groups[0]) || len(groups) > 6 {
			return 0, false, ErrSyntax
		}
		for _, g := range groups[1:] {
			if len(g) != 3 || !isDigits(g) {
				return 0, false, ErrSyntax
			}
		}
		intPart, thousands = strings.Join(groups, ""), true
	}
	if !isDigits(intPart) || len(intPart) > 16 {
		return 0, false, ErrSyntax
	}
	var v int64
	for i := 0; i < len(intPart); i++ {
		v = v*10 + int64(intPart[i]-'0')
	}
	f := int64(0)
	if hasDot {
		f = int64(frac[0]-'0') * 10
		if len(frac) == 2 {
			f += int64(frac[1] - '0')
		}
	}
	v = v*100 + f
	if neg {
		v = -v
	}
	return v, thousands, nil
}

// FormatFen formats an amount in fen as a decimal with two places.
func FormatFen(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	d := fen % 100
	return sign + itoa(fen/100) + "." + string([]byte{byte('0' + d/10), byte('0' + d%10)})
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// Date is a calendar date without a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d Date) String() string {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

// ParseDate parses a date in any accepted form. other reports a form other
// than the canonical YYYY-MM-DD.
func ParseDate(s string) (d Date, other bool, err error) {
	var y, m, dd string
	switch {
	case len(s) == 8 && isDigits(s):
		y, m, dd, other = s[:4], s[4:6], s[6:], true
	case strings.Count(s, "-") == 2 || strings.Count(s, "/") == 2:
		sep := "-"
		if strings.Contains(s, "/") {
			sep = "/"
		}
		p := strings.Split(s, sep)
		if len(p) != 3 || len(p[0]) != 4 || len(p[1]) < 1 || len(p[1]) > 2 || len(p[2]) < 1 || len(p[2]) > 2 {
			return Date{}, false, ErrSyntax
		}
		y, m, dd = p[0], p[1], p[2]
		other = sep == "/" || len(m) != 2 || len(dd) != 2
	default:
		return Date{}, false, ErrSyntax
	}
	if !isDigits(y) || !isDigits(m) || !isDigits(dd) {
		return Date{}, false, ErrSyntax
	}
	yi, mi, di := atoi(y), atoi(m), atoi(dd)
	if yi < 1900 || yi > 2099 || mi < 1 || mi > 12 || di < 1 || di > civil.DaysIn(yi, mi) {
		return Date{}, false, ErrSyntax
	}
	return Date{yi, time.Month(mi), di}, other, nil
}

func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// ParseTimestamp parses a local date and time. other reports a form other
// than the canonical "YYYY-MM-DD HH:MM:SS". The result is in UTC and
// stands for Beijing wall-clock time.
func ParseTimestamp(s string) (t time.Time, other bool, err error) {
	datePart, timePart, hasTime := s, "", false
	if i := strings.IndexAny(s, " T"); i >= 0 {
		datePart, timePart, hasTime = s[:i], s[i+1:], true
	}
	d, other, err := ParseDate(datePart)
	if err != nil {
		return time.Time{}, false, err
	}
	h, mi, sec := 0, 0, 0
	if hasTime {
		p := strings.Split(timePart, ":")
		if len(p) < 2 || len(p) > 3 || len(p[0]) < 1 || len(p[0]) > 2 || len(p[1]) != 2 || (len(p) == 3 && len(p[2]) != 2) {
			return time.Time{}, false, ErrSyntax
		}
		for _, x := range p {
			if !isDigits(x) {
				return time.Time{}, false, ErrSyntax
			}
		}
		h, mi = atoi(p[0]), atoi(p[1])
		if len(p) == 3 {
			sec = atoi(p[2])
		}
		if h > 23 || mi > 59 || sec > 59 {
			return time.Time{}, false, ErrSyntax
		}
		if s[len(datePart)] != ' ' || len(p) != 3 || len(p[0]) != 2 {
			other = true
		}
	} else {
		other = true
	}
	return time.Date(d.Year, d.Month, d.Day, h, mi, sec, 0, time.UTC), other, nil
}

// ParseInt parses an integer of at most 9 digits.
func ParseInt(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if !isDigits(s) || len(s) > 9 {
		return 0, ErrSyntax
	}
	v := int64(atoi(s))
	if neg {
		v = -v
	}
	return v, nil
}

// ParseRate parses a rate with at most 3 integer digits and 6 decimals
// into millionths.
func ParseRate(s string) (micros int64, err error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	ip, frac, hasDot := strings.Cut(s, ".")
	if !isDigits(ip) || len(ip) > 3 || (hasDot && (!isDigits(frac) || len(frac) > 6)) {
		return 0, ErrSyntax
	}
	v := int64(atoi(ip)) * 1_000_000
	if hasDot {
		f := int64(atoi(frac))
		for i := len(frac); i < 6; i++ {
			f *= 10
		}
		v += f
	}
	if neg {
		v = -v
	}
	return v, nil
}

// Enum maps a raw value to one of allowed: the English value itself, or
// a Chinese alias of it from aliases (chinese is then true).
func Enum(s string, allowed []string, aliases map[string]string) (v string, chinese bool, err error) {
	for _, a := range allowed {
		if s == a {
			return s, false, nil
		}
	}
	if en, ok := aliases[s]; ok {
		for _, a := range allowed {
			if en == a {
				return en, true, nil
			}
		}
	}
	return "", false, ErrSyntax
}
