package gen

// fenOf parses a plain amount like 1234.56 into fen; -1 if it is not one.
func fenOf(b []byte) int64 {
	if len(b) < 4 || b[len(b)-3] != '.' {
		return -1
	}
	var v int64
	for i, c := range b {
		if i == len(b)-3 {
			continue
		}
		if c < '0' || c > '9' {
			return -1
		}
		v = v*10 + int64(c-'0')
	}
	return v
}

// intOf parses a non-negative integer; -1 if it is not one.
func intOf(b []byte) int64 {
	if len(b) == 0 {
		return -1
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		v = v*10 + int64(c-'0')
	}
	return v
}

// parseISODate parses YYYY-MM-DD.
func parseISODate(b []byte) (y, m, d int, ok bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, 0, 0, false
	}
	n := func(s []byte) int {
		v := 0
		for _, c := range s {
			v = v*10 + int(c-'0')
		}
		return v
	}
	return n(b[:4]), n(b[5:7]), n(b[8:10]), true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
