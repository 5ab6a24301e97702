package normalize

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in        string
		fen       int64
		thousands bool
		ok        bool
	}{
		{"0", 0, false, true},
		{"12", 1200, false, true},
		{"12.5", 1250, false, true},
		{"12.05", 1205, false, true},
		{"-3.10", -310, false, true},
		{"1,000.00", 100000, true, true},
		{"12,345,678.9", 1234567890, true, true},
		{"1,000", 100000, true, true},
		{"9999999999999999.99", 999999999999999999, false, true},
		{"1,000,000,000,000,000", 100000000000000000, true, true},
		{"10,000,000,000,000,000", 0, false, false}, // 17 integer digits
		{"99999999999999999", 0, false, false},
		{"1,00.00", 0, false, false},
		{"1000,000", 0, false, false},
		{",100", 0, false, false},
		{"12.345", 0, false, false},
		{"12.", 0, false, false},
		{".5", 0, false, false},
		{"1e3", 0, false, false},
		{"+5", 0, false, false},
		{"-", 0, false, false},
		{"", 0, false, false},
		{"abc", 0, false, false},
		{"１２", 0, false, false}, // full-width digits
	}
	for _, tc := range tests {
		fen, th, err := ParseAmount(tc.in)
		if (err == nil) != tc.ok || fen != tc.fen || th != tc.thousands {
			t.Errorf("ParseAmount(%q) = %d, %v, %v; want %d, %v, ok=%v", tc.in, fen, th, err, tc.fen, tc.thousands, tc.ok)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		other bool
		ok    bool
	}{
		{"2018-05-01", "2018-05-01", false, true},
		{"2018-5-1", "2018-05-01", true, true},
		{"2018/5/1", "2018-05-01", true, true},
		{"2018/05/01", "2018-05-01", true, true},
		{"20180501", "2018-05-01", true, true},
		{"2020-02-29", "2020-02-29", false, true},
		{"2019-02-29", "", false, false},
		{"2018-13-01", "", false, false},
		{"2018-00-10", "", false, false},
		{"1899-12-31", "", false, false},
		{"2100-01-01", "", false, false},
		{"2018/5-1", "", false, false},
		{"18-05-01", "", false, false},
		{"2018-05-01 10:00:00", "", false, false},
		{"201805011", "", false, false},
		{"", "", false, false},
		{"not a date", "", false, false},
	}
	for _, tc := range tests {
		d, other, err := ParseDate(tc.in)
		got := ""
		if err == nil {
			got = d.String()
		}
		if (err == nil) != tc.ok || got != tc.want || other != tc.other {
			t.Errorf("ParseDate(%q) = %s, %v, %v; want %s, %v, ok=%v", tc.in, got, other, err, tc.want, tc.other, tc.ok)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		other bool
		ok    bool
	}{
		{"2018-05-01 10:11:12", "2018-05-01 10:11:12", false, true},
		{"2018-05-01T10:11:12", "2018-05-01 10:11:12", true, true},
		{"2018/5/1 9:05", "2018-05-01 09:05:00", true, true},
		{"2018-05-01", "2018-05-01 00:00:00", true, true},
		{"20180501 23:59:59", "2018-05-01 23:59:59", true, true},
		{"2018-05-01 24:00:00", "", false, false},
		{"2018-05-01 10:60:00", "", false, false},
		{"2018-05-01 10:00:60", "", false, false},
		{"2018-05-01 10", "", false, false},
		{"2018-05-01 ", "", false, false},
		{"2018-05-01 10:00:00.5", "", false, false},
		{"2018-02-30 10:00:00", "", false, false},
	}
	for _, tc := range tests {
		ts, other, err := ParseTimestamp(tc.in)
		got := ""
		if err == nil {
			got = ts.Format(time.DateTime)
		}
		if (err == nil) != tc.ok || got != tc.want || other != tc.other {
			t.Errorf("ParseTimestamp(%q) = %s, %v, %v; want %s, %v, ok=%v", tc.in, got, other, err, tc.want, tc.other, tc.ok)
		}
	}
}

func TestParseIntRateEnum(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"0", 0, true}, {"-12", -12, true}, {"007", 7, true}, {"123456789", 123456789, true}, {"1234567890", 0, false}, {"1.0", 0, false}, {"", 0, false}, {"+1", 0, false}} {
		v, err := ParseInt(tc.in)
		if (err == nil) != tc.ok || v != tc.want {
			t.Errorf("ParseInt(%q) = %d, %v", tc.in, v, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"0.1234", 123400, true}, {"1", 1000000, true}, {"-0.5", -500000, true}, {"999.999999", 999999999, true}, {"1000", 0, false}, {"0.1234567", 0, false}, {"1.", 0, false}, {".5", 0, false}} {
		v, err := ParseRate(tc.in)
		if (err == nil) != tc.ok || v != tc.want {
			t.Errorf("ParseRate(%q) = %d, %v", tc.in, v, err)
		}
	}
	al := map[string]string{"结清": "settled", "男": "male"}
	allowed := []string{"active", "settled"}
	for _, tc := range []struct {
		in, want    string
		chinese, ok bool
	}{{"settled", "settled", false, true}, {"结清", "settled", true, true}, {"男", "", false, false}, {"Settled", "", false, false}} {
		v, cn, err := Enum(tc.in, allowed, al)
		if (err == nil) != tc.ok || v != tc.want || cn != tc.chinese {
			t.Errorf("Enum(%q) = %q, %v, %v", tc.in, v, cn, err)
		}
	}
}

func TestFormatFen(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", -310: "-3.10", 100000: "1000.00"} {
		if got := FormatFen(fen); got != want {
			t.Errorf("FormatFen(%d) = %q, want %q", fen, got, want)
		}
	}
}

var corpus = []string{
	"", " ", "0", "12", " 12.5\t", "-3.10", "1,000.00", "12,345,678.9", "1,00.00", "12.345", "1e3", "+5", ".5", "12.",
	"99999999999999999", "9999999999999999.99", "10,000,000,000,000,000", "1,000,000,000,000,000", "-0", "-,1",
	"2018-05-01", "2018-5-1", "2018/5/1", "20180501", "2019-02-29", "2020-02-29", "1899-12-31", "2099-12-31", "2100-01-01",
	"2018/5-1", "0000-01-01", "-018-05-01", "2018-05-01 10:11:12", "2018-05-01T10:11:12", "2018/5/1 9:05", "2018-05-01 24:00:00",
	"2018-05-01 10:60:00", "2018-05-01 10:00:60", "2099-12-31 23:59:59", "1900-01-01 00:00:00", "2018-05-01 10", "2018-05-01T", "20180501 235959", "2018-05-01 10:00:00.5", "2018-05-01  10:00:00",
	"123456789", "1234567890", "007", "0.1234", "999.999999", "0.1234567", "abc", "１２", "2018-05-01 1:2:3",
}

func FuzzParseAmount(f *testing.F) {
	for _, in := range corpus {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) {
			return // ingestion hands only UTF-8 text to the normalisers
		}
		fen, _, err := ParseAmount(in)
		if err == nil {
			// Round trip: the canonical form parses to the same amount.
			back, th, err2 := ParseAmount(FormatFen(fen))
			if err2 != nil || back != fen || th {
				t.Fatalf("%q -> %d -> %q -> %d, %v", in, fen, FormatFen(fen), back, err2)
			}
		} else if !errors.Is(err, ErrSyntax) {
			t.Fatalf("%q: unexpected error %v", in, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, in := range corpus {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) {
			return // ingestion hands only UTF-8 text to the normalisers
		}
		if d, _, err := ParseDate(in); err == nil {
			back, other, err2 := ParseDate(d.String())
			if err2 != nil || back != d || other {
				t.Fatalf("%q -> %v -> %v, %v", in, d, back, err2)
			}
		}
		if ts, _, err := ParseTimestamp(in); err == nil {
			back, other, err2 := ParseTimestamp(ts.Format(time.DateTime))
			if err2 != nil || !back.Equal(ts) || other {
				t.Fatalf("%q -> %v -> %v, %v", in, ts, back, err2)
			}
		}
	})
}
