package csvsafe_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"qiandun/internal/csvsafe"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"张三", "张三"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"=1+1", "'=1+1"},
		{"+86 138", "'+86 138"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"-", "'-"},
		{"+", "'+"},
		{"-inf", "'-inf"},
		{"-.", "'-."},
		{"-1e", "'-1e"},
		{"a=b", "a=b"},
		{" =x", " =x"},
		{"'=x", "'=x"},
		// Numbers stay numbers.
		{"-12.5", "-12.5"},
		{"+3", "+3"},
		{"-0.35", "-0.35"},
		{"-.5", "-.5"},
		{"-5.", "-5."},
		{"-1e-3", "-1e-3"},
		{"+2.5E+10", "+2.5E+10"},
		{"12", "12"},
	} {
		if got := csvsafe.Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// Unquote inverts Cell, except for text that already began with
		// a quote and a formula character (ambiguous by nature).
		if got := csvsafe.Unquote(csvsafe.Cell(tc.in)); got != tc.in && !strings.HasPrefix(tc.in, "'") {
			t.Errorf("Unquote(Cell(%q)) = %q", tc.in, got)
		}
	}
}

// TestFieldIsCSV: Field and AppendField give what encoding/csv writes for
// the neutralised cell, and encoding/csv reads the cell back.
func TestFieldIsCSV(t *testing.T) {
	for _, s := range []string{"", "a", "a,b", `say "hi"`, "line\nbreak", "=HYPERLINK(\"http://x\",\"y\")", "-1,5", "-1.5", "\rx", "@a,\"b\""} {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write([]string{csvsafe.Cell(s)})
		w.Flush()
		want := strings.TrimSuffix(buf.String(), "\n")
		if got := csvsafe.Field(s); got != want {
			t.Errorf("Field(%q) = %q, encoding/csv writes %q", s, got, want)
		}
		if got := string(csvsafe.AppendField([]byte("x,"), s)); got != "x,"+want {
			t.Errorf("AppendField(%q) = %q, want %q", s, got, "x,"+want)
		}
		rec, err := csv.NewReader(strings.NewReader(want + "\n")).Read()
		if err != nil && want != "" {
			t.Fatalf("%q: %v", want, err)
		}
		if want != "" && (len(rec) != 1 || csvsafe.Unquote(rec[0]) != s) {
			t.Errorf("%q read back as %q", s, rec)
		}
	}
}

func ExampleCell() {
	for _, s := range []string{"=cmd|' /C calc'!A0", "-12.5", "-2+3", "张**"} {
		fmt.Println(csvsafe.Cell(s))
	}
	// Output:
	// '=cmd|' /C calc'!A0
	// -12.5
	// '-2+3
	// 张**
}

func ExampleField() {
	fmt.Println(csvsafe.Field(`=HYPERLINK("http://evil","click")`))
	// Output:
	// "'=HYPERLINK(""http://evil"",""click"")"
}

func BenchmarkAppendField(b *testing.B) {
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf = csvsafe.AppendField(buf[:0], "A0001234567")
	}
}
