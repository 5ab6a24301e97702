// Package pii handles the personal data in loan applications: it parses
// mainland Chinese resident ID numbers (GB 11643-1999: region code, birth
// date, sequence with gender parity, mod-11 check digit) and replaces
// personal values by keyed HMAC-SHA256 tokens, so the lake can join and
// count on them without holding them in clear. Ingestion applies these Go
// functions to every row as it parses (there is no SQL twin).
package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// weights of the first 17 digits in the GB 11643 check sum.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps the check sum mod 11 to the check character.
const checkChars = "10X98765432"

// CheckDigit returns the GB 11643 check character for the first 17
// digits of an ID number, and false if first17 is not 17 ASCII digits.
func CheckDigit(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * weights[i]
	}
	return checkChars[sum%11], true
}

// Provinces maps the first two digits of an ID number (the province-level
// division) to the province's short name: the 34 province-level divisions.
func Provinces() map[string]string {
	return map[string]string{
		"11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
		"21": "辽宁", "22": "吉林", "23": "黑龙江",
		"31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
		"41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
		"50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
		"61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
		"71": "台湾", "81": "香港", "82": "澳门",
	}
}

// ID is what an ID number says about its holder.
type ID struct {
	// WellFormed: 18 characters, 17 digits then a digit or X.
	WellFormed bool
	// ChecksumOK: well formed and the check character matches.
	ChecksumOK bool
	// Birth is the birth date (zero when the digits are not a real date).
	Birth time.Time
	// Gender is "male" (odd 17th digit) or "female"; empty when malformed.
	Gender string
	// Province is the birth province's short name; empty when unknown.
	Province string
}

// ParseID parses an 18-character ID number; a lower-case x is read as X.
// Attributes are derived from every well-formed ID, valid check digit or
// not (a wrong check digit is itself a fraud signal).
func ParseID(s string) ID {
	var id ID
	if len(s) != 18 {
		return id
	}
	s = strings.ToUpper(s)
	want, ok := CheckDigit(s[:17])
	if !ok || (s[17] != 'X' && (s[17] < '0' || s[17] > '9')) {
		return id
	}
	id.WellFormed = true
	id.ChecksumOK = want == s[17]
	if (s[16]-'0')%2 == 1 {
		id.Gender = "male"
	} else {
		id.Gender = "female"
	}
	id.Province = Provinces()[s[:2]]
	if b, err := time.Parse("20060102", s[6:14]); err == nil && b.Year() >= 1900 {
		id.Birth = b
	}
	return id
}

// Age returns the holder's age in whole years at time t (wall clock), and
// false when the birth date is unknown.
func (id ID) Age(t time.Time) (int, bool) {
	if id.Birth.IsZero() {
		return 0, false
	}
	b := id.Birth
	age := t.Year() - b.Year()
	if t.Month() < b.Month() || (t.Month() == b.Month() && t.Day() < b.Day()) {
		age--
	}
	return age, true
}

// Token returns the keyed HMAC-SHA256 of v, hex-encoded.
func Token(key []byte, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}
