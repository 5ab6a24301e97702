package disclose

import "strings"

// Masking of published identities (DESIGN.md "Raw exports"): what a
// project page or projects.jsonl shows of a borrower. Each function
// returns a masked form that never equals the clear value; a value too
// short to keep anything of is masked whole.

// MaskName keeps the family name — the first character — and replaces
// every other character by '*': 张三丰 → 张**, 李四 → 李*. A compound
// family name (欧阳) keeps only its first character: the mask may hide
// more, never less. A one-character name is masked whole.
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	if len(r) <= 1 {
		return strings.Repeat("*", len(r))
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// MaskID keeps the first 3 and the last 4 characters of an ID number and
// replaces the rest by '*': 110101199003071234 → 110***********1234. A
// value of 7 characters or fewer keeps nothing.
func MaskID(id string) string { return keepEnds(strings.TrimSpace(id), 3, 4) }

// MaskPhone keeps the first 3 and the last 4 digits of a phone number:
// 13812345678 → 138****5678. A value of 7 characters or fewer keeps
// nothing.
func MaskPhone(phone string) string { return keepEnds(strings.TrimSpace(phone), 3, 4) }

// MaskAccount masks a custody sub-account number as an ID number is
// masked (first 3 and last 4 characters kept): enough for a lender to
// recognise the account, not to use it. DESIGN.md names no rule for
// account numbers; this is the ID number's.
func MaskAccount(acct string) string { return keepEnds(strings.TrimSpace(acct), 3, 4) }

// keepEnds keeps the first head and last tail characters of s and stars
// the middle; when that would leave nothing hidden, everything is starred.
func keepEnds(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}
