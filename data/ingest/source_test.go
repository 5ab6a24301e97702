package ingest

import "testing"

func TestCountFieldsAndEdgeSpace(t *testing.T) {
	tests := []struct {
		line  string
		n     int
		ok    bool
		space bool
	}{
		{"a,b,c", 3, true, false},
		{"a,2018-05-01 10:00:00,c", 3, true, false},
		{"a, b,c", 3, true, true},
		{"a,b ,c", 3, true, true},
		{" a,b,c", 3, true, true},
		{"a,b,c\t", 3, true, true},
		{`a,"1,000.00",c`, 3, true, false},
		{`a," 1,000.00",c`, 3, true, true},
		{`a,"1,000.00 ",c`, 3, true, true},
		{`" a",b`, 2, true, true},
		{`a,"b "`, 2, true, true},
		{`a,"b""c",d`, 3, true, false},
		{`a,"b"c,d`, 2, false, false},
		{`a,b"c,d`, 2, false, false},
		{`a,"bc`, 2, false, false},
		{`a,`, 2, true, false},
		{`,`, 2, true, false},
		{`"a",`, 2, true, false},
	}
	for _, tc := range tests {
		n, ok := countFields([]byte(tc.line), ',')
		if ok != tc.ok || (ok && n != tc.n) {
			t.Errorf("countFields(%q) = %d, %v; want %d, %v", tc.line, n, ok, tc.n, tc.ok)
		}
		if ok {
			if sp := edgeSpace([]byte(tc.line), ','); sp != tc.space {
				t.Errorf("edgeSpace(%q) = %v, want %v", tc.line, sp, tc.space)
			}
		}
	}
}
