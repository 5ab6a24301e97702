package pii

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCheckDigit(t *testing.T) {
	// The GB 11643 sample number and hand-computed ones:
	// 11010519491231002: sum = 167, 167 mod 11 = 2 -> 'X'.
	tests := []struct {
		first17 string
		want    byte
		ok      bool
	}{
		{"11010519491231002", 'X', true},
		{"44030419900101001", 0, true},   // filled in below
		{"00000000000000000", '1', true}, // sum 0 -> '1'
		{"1101051949123100", 0, false},
		{"1101051949123100A", 0, false},
	}
	// Recompute the second case independently so the table documents it.
	sum := 0
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	for i, c := range "44030419900101001" {
		sum += int(c-'0') * w[i]
	}
	tests[1].want = "10X98765432"[sum%11]
	for _, tc := range tests {
		got, ok := CheckDigit(tc.first17)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CheckDigit(%q) = %q, %v; want %q, %v", tc.first17, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		id       string
		ok       bool
		checksum bool
		birth    string
		gender   string
		province string
	}{
		{"11010519491231002X", true, true, "1949-12-31", "female", "北京"},
		{"11010519491231002x", true, true, "1949-12-31", "female", "北京"},
		{"110105194912310021", true, false, "1949-12-31", "female", "北京"},
		{"440304199001010011", true, true, "1990-01-01", "male", "广东"}, // sum 176, mod 11 = 0 -> 1
		{"440304199001010012", true, false, "1990-01-01", "male", "广东"},
		{"990304199002300011", true, false, "", "male", ""}, // no such province, Feb 30
		{"11010519491231002", false, false, "", "", ""},
		{"11010519491231002Y", false, false, "", "", ""},
		{"", false, false, "", "", ""},
	}
	for _, tc := range tests {
		id := ParseID(tc.id)
		birth := ""
		if !id.Birth.IsZero() {
			birth = id.Birth.Format("2006-01-02")
		}
		if id.WellFormed != tc.ok || id.ChecksumOK != tc.checksum || birth != tc.birth || id.Gender != tc.gender || id.Province != tc.province {
			t.Errorf("ParseID(%q) = %+v", tc.id, id)
		}
	}
	if n := len(Provinces()); n != 34 {
		t.Errorf("%d province-level codes, want 34", n)
	}
}

func TestAge(t *testing.T) {
	id := ParseID("11010519800229002X") // a leap-day birth
	at := func(s string) time.Time { t, _ := time.Parse(time.DateTime, s); return t }
	for _, tc := range []struct {
		at   string
		want int
	}{{"2000-02-28 23:59:59", 19}, {"2000-02-29 00:00:00", 20}, {"2001-02-28 12:00:00", 20}, {"2001-03-01 00:00:00", 21}} {
		if got, _ := id.Age(at(tc.at)); got != tc.want {
			t.Errorf("age at %s = %d, want %d", tc.at, got, tc.want)
		}
	}
}

// TestTokenRFC4231 checks Token against RFC 4231 test cases 2 (a short
// key) and 6 (a key longer than SHA-256's block, hashed first).
func TestTokenRFC4231(t *testing.T) {
	tests := []struct {
		key, v, want string
	}{
		{"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{strings.Repeat("\xaa", 131), "Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	}
	for _, tc := range tests {
		if got := Token([]byte(tc.key), tc.v); got != tc.want {
			t.Errorf("Token(key of %d bytes) = %s, want %s", len(tc.key), got, tc.want)
		}
	}
}

func ExampleCheckDigit() {
	c, _ := CheckDigit("11010519491231002")
	fmt.Println(string(c))
	// Output: X
}
