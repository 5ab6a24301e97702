package disclose

import (
	"testing"
	"unicode/utf8"
)

// TestMask: DESIGN.md's masks, and for every value: the mask differs from
// the clear value, has its length, and shows only the kept characters.
func TestMask(t *testing.T) {
	for _, c := range []struct {
		f          func(string) string
		in, want   string
		head, tail int
	}{
		{MaskName, "张三丰", "张**", 1, 0},
		{MaskName, "李四", "李*", 1, 0},
		{MaskName, "欧阳娜娜", "欧***", 1, 0},
		{MaskName, " 王五 ", "王*", 1, 0},
		{MaskName, "单", "*", 0, 0},
		{MaskID, "11010519491231002X", "110***********002X", 3, 4},
		{MaskID, "110105491231002", "110********1002", 3, 4}, // a 15-digit first-generation ID
		{MaskID, "1234567", "*******", 0, 0},
		{MaskPhone, "13812345678", "138****5678", 3, 4},
		{MaskPhone, "+8613812345678", "+86*******5678", 3, 4},
		{MaskPhone, "1234", "****", 0, 0},
		{MaskAccount, "6222020000007002", "622*********7002", 3, 4},
	} {
		got := c.f(c.in)
		if got != c.want {
			t.Errorf("%q -> %q, want %q", c.in, got, c.want)
		}
		in := []rune(trim(c.in))
		if got == trim(c.in) || utf8.RuneCountInString(got) != len(in) {
			t.Errorf("%q -> %q: not a mask of the value", c.in, got)
		}
		g := []rune(got)
		for i := range g {
			kept := i < c.head || i >= len(g)-c.tail
			if kept && g[i] != in[i] || !kept && g[i] != '*' {
				t.Errorf("%q -> %q: character %d", c.in, got, i)
			}
		}
	}
	for _, f := range []func(string) string{MaskName, MaskID, MaskPhone, MaskAccount} {
		if f("") != "" {
			t.Error("empty value masked to something")
		}
	}
}

func trim(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}
