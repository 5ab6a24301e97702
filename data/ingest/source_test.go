package ingest

import "testing"

func TestCountFields(t *testing.T) {
	tests := []struct {
		line string
		n    int
		ok   bool
	}{
		{"a,b,c", 3, true},
		{"a,2018-05-01 10:00:00,c", 3, true},
		{"a, b,c", 3, true},
		{"a,b ,c", 3, true},
		{" a,b,c", 3, true},
		{"a,b,c\t", 3, true},
		{`a,"1,000.00",c`, 3, true},
		{`a," 1,000.00",c`, 3, true},
		{`a,"1,000.00 ",c`, 3, true},
		{`" a",b`, 2, true},
		{`a,"b "`, 2, true},
		{`a,"b""c",d`, 3, true},
		{`a,"b"c,d`, 2, false},
		{`a,b"c,d`, 2, false},
		{`a,"bc`, 2, false},
		{`a,`, 2, true},
		{`,`, 2, true},
		{`"a",`, 2, true},
	}
	for _, tc := range tests {
		n, ok := countFields([]byte(tc.line), ',')
		if ok != tc.ok || (ok && n != tc.n) {
			t.Errorf("countFields(%q) = %d, %v; want %d, %v", tc.line, n, ok, tc.n, tc.ok)
		}
	}
}
