package gen

import "qiandun/internal/civil"

// Dates are carried as day numbers (days since 1970-01-01) and times as
// seconds since 1970-01-01 00:00:00, both in Beijing local time with no
// zone: the book never needs a time zone, and integer arithmetic keeps the
// hot path free of time.Time.

// addMonths returns the day n months after day, keeping the day of month
// and clamping it to the end of shorter months (Jan 31 + 1 month = Feb 28).
func addMonths(day, n int) int {
	y, m, d := civil.Date(day)
	return addMonthsFrom(y, m, d, n)
}

// addMonthsFrom is addMonths for an anchor given as y-m-d: due dates are
// computed from the issue day each time, so a clamp in February does not
// shorten every later installment.
func addMonthsFrom(y, m, d, n int) int {
	mi := y*12 + (m - 1) + n
	ny, nm := mi/12, mi%12+1
	if dd := civil.DaysIn(ny, nm); d > dd {
		d = dd
	}
	return civil.Days(ny, nm, d)
}

// monthEnd returns the last day of the month containing day.
func monthEnd(day int) int {
	y, m, _ := civil.Date(day)
	return civil.Days(y, m, civil.DaysIn(y, m))
}

const secondsPerDay = 86400

// appendDate appends day as YYYY-MM-DD.
func appendDate(b []byte, day int) []byte {
	y, m, d := civil.Date(day)
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// appendTime appends sec as YYYY-MM-DD HH:MM:SS.
func appendTime(b []byte, sec int64) []byte {
	day := int(sec / secondsPerDay)
	s := int(sec % secondsPerDay)
	b = appendDate(b, day)
	h, mi, ss := s/3600, s/60%60, s%60
	return append(b, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+ss/10), byte('0'+ss%10))
}

// appendFen appends an amount in fen as yuan with two decimals: 123456 -> 1234.56.
func appendFen(b []byte, fen int64) []byte {
	if fen < 0 {
		b = append(b, '-')
		fen = -fen
	}
	b = appendUint(b, uint64(fen/100))
	c := fen % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// appendFenThousands appends fen as yuan with thousands separators: 1,234.56.
func appendFenThousands(b []byte, fen int64) []byte {
	y := fen / 100
	var digits [24]byte
	n := 0
	for {
		digits[n] = byte('0' + y%10)
		n++
		y /= 10
		if y == 0 {
			break
		}
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, digits[i])
		if i > 0 && i%3 == 0 {
			b = append(b, ',')
		}
	}
	c := fen % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// appendUint appends v in decimal.
func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// appendPadded appends v zero-padded to width digits.
func appendPadded(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	for i := width - 1; i >= 0; i-- {
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, tmp[:width]...)
}

// appendMicro appends a rate held in millionths with six decimals: 183600 -> 0.183600.
func appendMicro(b []byte, micro int64) []byte {
	b = appendUint(b, uint64(micro/1_000_000))
	b = append(b, '.')
	return appendPadded(b, uint64(micro%1_000_000), 6)
}

// Day returns the day number (days since 1970-01-01) of y-m-d, the form
// Schedule takes issue and due dates in.
func Day(y, m, d int) int { return civil.Days(y, m, d) }

// FormatDay formats a day number as YYYY-MM-DD.
func FormatDay(day int) string { return string(appendDate(nil, day)) }
