package gen

// Dates are carried as day numbers (days since 1970-01-01) and times as
// seconds since 1970-01-01 00:00:00, both in Beijing local time with no
// zone: the book never needs a time zone, and integer arithmetic keeps the
// hot path free of time.Time.

// daysFromCivil returns the day number of y-m-d (proleptic Gregorian).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays returns the y, m, d of a day number.
func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn returns the number of days of month m of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// addMonths returns the day n months after day, keeping the day of month
// and clamping it to the end of shorter months (Jan 31 + 1 month = Feb 28).
func addMonths(day, n int) int {
	y, m, d := civilFromDays(day)
	return addMonthsFrom(y, m, d, n)
}

// addMonthsFrom is addMonths for an anchor given as y-m-d: due dates are
// computed from the issue day each time, so a clamp in February does not
// shorten every later installment.
func addMonthsFrom(y, m, d, n int) int {
	mi := y*12 + (m - 1) + n
	ny, nm := mi/12, mi%12+1
	if dd := daysIn(ny, nm); d > dd {
		d = dd
	}
	return daysFromCivil(ny, nm, d)
}

// monthEnd returns the last day of the month containing day.
func monthEnd(day int) int {
	y, m, _ := civilFromDays(day)
	return daysFromCivil(y, m, daysIn(y, m))
}

const secondsPerDay = 86400

// appendDate appends day as YYYY-MM-DD.
func appendDate(b []byte, day int) []byte {
	y, m, d := civilFromDays(day)
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
func Day(y, m, d int) int { return daysFromCivil(y, m, d) }

// FormatDay formats a day number as YYYY-MM-DD.
func FormatDay(day int) string { return string(appendDate(nil, day)) }
