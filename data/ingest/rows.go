package ingest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/data/ingest/normalize"
	"qiandun/data/ingest/pii"
	"qiandun/data/schema"
	"qiandun/internal/civil"
)

// Row validation. Each raw value is trimmed (empty means missing), parsed
// by the rules of package normalize and checked; a row that fails is
// rejected with the reason of the first failing check in this order:
// missing_value, parse errors (bad_date, bad_amount, bad_number, in column
// order), bad_enum, negative_amount, out_of_range. Every value of a row is
// parsed whatever happens to the row, so the normalisation counts
// (thousands separators, other date forms, Chinese enum words) count each
// value that was normalised, also in rows rejected for another reason.
// Accepted rows are appended to Arrow builders in the typed lake columns,
// PII replaced by its tokens; raw PII goes no further than this file.

// ranges are the plausibility checks beyond sign: a parsed value (an
// integer, or a rate in millionths) must lie in [lo, hi].
var ranges = map[string][2]int64{
	"term_months":    {1, 120},
	"annual_rate":    {math.MinInt64, 1_000_000},
	"installment_no": {1, 120},
}

// rule is how one raw column is read.
type rule struct {
	name     string
	kind     schema.Kind
	required bool
	nonNeg   bool
	enum     []string
	aliases  map[string]string // Chinese word -> English value, this column's values only
	rng      *[2]int64
}

// Normalisation counters, by position in rowParser.norm.
const (
	normThousands = iota
	normDateForm
	normChinese
)

var normNames = [3]string{schema.NormThousands, schema.NormDateForm, schema.NormChinese}

// value is one parsed raw value of the current row.
type value struct {
	s    []byte // trimmed raw text
	n    int64  // fen, integer, rate millionths, days since 1970, microseconds since 1970 or enum value index
	null bool   // missing or unparseable
}

// rules returns the reading rules of t's raw columns, in contract order.
func rules(t schema.Table) []rule {
	aliases := schema.ChineseAliases()
	out := make([]rule, len(t.Columns))
	for i, c := range t.Columns {
		r := rule{name: c.Name, kind: c.Kind, required: !c.Nullable, nonNeg: c.NonNeg, enum: c.Enum}
		if c.Kind == schema.Enum {
			r.aliases = map[string]string{}
			for cn, en := range aliases {
				for _, v := range c.Enum {
					if v == en {
						r.aliases[cn] = en
					}
				}
			}
		}
		if rg, ok := ranges[c.Name]; ok {
			r.rng = &rg
		}
		out[i] = r
	}
	return out
}

// enumType is the Arrow type of an enum column: indices into the
// column's values (DuckDB takes it as an ENUM, cast to VARCHAR in the
// stage and written as strings, with their dictionary, to Parquet).
var enumType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}

// lakeSchema is the Arrow schema of a table's staged rows: the source
// file id and physical line, then the typed lake columns.
func lakeSchema(t schema.Table) (*arrow.Schema, error) {
	fields := []arrow.Field{
		{Name: "qd_fid", Type: arrow.PrimitiveTypes.Int32},
		{Name: "qd_line", Type: arrow.PrimitiveTypes.Int64},
	}
	for _, c := range schema.LakeColumns(t) {
		var dt arrow.DataType
		switch rc, _ := t.Column(c.Name); {
		case rc.Kind == schema.Enum && len(rc.Enum) < 128:
			dt = enumType
		case c.Type == "VARCHAR":
			dt = arrow.BinaryTypes.String
		case c.Type == "DATE":
			dt = arrow.FixedWidthTypes.Date32
		case c.Type == "TIMESTAMP":
			dt = &arrow.TimestampType{Unit: arrow.Microsecond}
		case c.Type == "DECIMAL(18,2)":
			dt = &arrow.Decimal128Type{Precision: 18, Scale: 2}
		case c.Type == "DECIMAL(9,6)":
			dt = &arrow.Decimal128Type{Precision: 9, Scale: 6}
		case c.Type == "INTEGER":
			dt = arrow.PrimitiveTypes.Int32
		case c.Type == "BOOLEAN":
			dt = arrow.FixedWidthTypes.Boolean
		default:
			return nil, fmt.Errorf("ingest: no Arrow type for lake type %s of %s.%s", c.Type, t.Name, c.Name)
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: dt, Nullable: true})
	}
	return arrow.NewSchema(fields, nil), nil
}

// rowParser validates the rows of one table and builds Arrow record
// batches of the accepted ones. It is not safe for concurrent use: each
// worker has its own.
type rowParser struct {
	t      schema.Table
	rules  []rule
	vals   []value
	schema *arrow.Schema
	// bschema is schema with enum columns as their indices (int8); dicts
	// holds, by field, an enum column's values.
	bschema *arrow.Schema
	dicts   []arrow.Array
	b       *array.RecordBuilder
	mac     hash.Hash
	prov    map[string]string
	norm    [3]int64
	tok     [2 * sha256.Size]byte
	sum     [sha256.Size]byte
	// applications: the positions of the ID number and the apply time.
	idCol, applyCol int
	// bureau_reports: the position of worst_status_24m, whose overdue
	// band (schema.OverdueBand) is appended as worst_overdue_band.
	bandCol int
	// vault, when set, receives the clear name, ID number and phone of
	// each accepted row with its token (Options.Vault).
	vault func(column string, token, clear []byte)
	// ref, when set, checks each accepted row's parent; late lists the
	// rows of the batch that fail it.
	ref     *refCheck
	late    []lateMark
	lastRef struct {
		key          []byte
		issue        int32
		at           int // position of the last key found in the parent's keys
		found, valid bool
	}
	// alloc holds the batches' buffers (C memory: the batches are big,
	// short-lived and handed to DuckDB, so they stay out of Go's heap).
	alloc memory.Allocator
	// The batch's builders: fid and line, the raw columns'; n rows
	// appended, room for room (fixed-width values are appended unchecked).
	fid     *array.Int32Builder
	line    *array.Int64Builder
	cols    []colBuilder
	n, room int
}

// refCheck is a table's reference to its parent table, checked in Go
// while reading (parents.sql is the same check in SQL): the parent's keys
// with, for loans, their issue dates.
type refCheck struct {
	col      int          // the referencing column (rule index)
	keys     *parentIndex // the parent's keys and issue dates
	dateCol  int          // the child's date compared with the issue date, -1 if none
	after    bool         // the date must be after the issue date (else on or after it)
	colName  string
	dateName string
}

// parentIndex is a parent table's keys, sorted (byte order), with their
// issue dates (days since 1970; 0 for parents without one).
type parentIndex struct {
	keys  []string
	dates []int32
}

// find returns the position of key and whether it is there. Rows of one
// file come in key order, so the key is usually at or just after the
// position of the last one found (from); else it is searched.
func (x *parentIndex) find(key string, from int) (int, bool) {
	for i := from; i < len(x.keys) && i <= from+1; i++ {
		if x.keys[i] == key {
			return i, true
		}
	}
	i := sort.SearchStrings(x.keys, key)
	return i, i < len(x.keys) && x.keys[i] == key
}

func (x *parentIndex) Len() int           { return len(x.keys) }
func (x *parentIndex) Less(i, j int) bool { return x.keys[i] < x.keys[j] }
func (x *parentIndex) Swap(i, j int) {
	x.keys[i], x.keys[j] = x.keys[j], x.keys[i]
	x.dates[i], x.dates[j] = x.dates[j], x.dates[i]
}

// lateMark is an accepted row that fails its reference check: an orphan
// or a date before its parent's.
type lateMark struct {
	row    int // in the batch
	reason string
	column string
}

// newRefCheck returns the check of t's reference to its parent, whose
// keys (and issue dates) are given.
func newRefCheck(t schema.Table, keys *parentIndex) *refCheck {
	if len(t.Parents) != 1 {
		return nil
	}
	rc := &refCheck{keys: keys, dateCol: -1, colName: t.Parents[0].Columns[0]}
	for i, c := range t.Columns {
		if c.Name == rc.colName {
			rc.col = i
		}
	}
	if do, ok := dateOrder[t.Name]; ok {
		rc.dateName = do[1]
		rc.after = t.Name == "repayment_schedule"
		for i, c := range t.Columns {
			if c.Name == rc.dateName {
				rc.dateCol = i
			}
		}
	}
	return rc
}

// checkRef checks the parent of the row just appended as row i. (Rows of
// one parent usually come together: the last lookup is kept.)
func (p *rowParser) checkRef(i int) {
	rc := p.ref
	key := p.vals[rc.col].s
	if !p.lastRef.valid || string(key) != string(p.lastRef.key) {
		var at int
		at, p.lastRef.found = rc.keys.find(bstr(key), p.lastRef.at)
		if p.lastRef.found {
			p.lastRef.issue, p.lastRef.at = rc.keys.dates[at], at
		}
		p.lastRef.key = append(p.lastRef.key[:0], key...)
		p.lastRef.valid = true
	}
	issue, ok := p.lastRef.issue, p.lastRef.found
	if !ok {
		p.late = append(p.late, lateMark{row: i, reason: schema.ReasonOrphan, column: rc.colName})
		return
	}
	if rc.dateCol < 0 {
		return
	}
	d := p.vals[rc.dateCol].n
	if p.rules[rc.dateCol].kind == schema.Timestamp {
		d = floorDiv(d, 86_400_000_000)
	}
	if d < int64(issue) || (rc.after && d == int64(issue)) {
		p.late = append(p.late, lateMark{row: i, reason: schema.ReasonDateOrder, column: rc.dateName})
	}
}

func newRowParser(t schema.Table, sch *arrow.Schema, key []byte, alloc memory.Allocator) *rowParser {
	p := &rowParser{t: t, rules: rules(t), schema: sch, idCol: -1, applyCol: -1, bandCol: -1, alloc: alloc,
		mac: hmac.New(sha256.New, key), prov: pii.Provinces()}
	p.vals = make([]value, len(p.rules))
	fields := append([]arrow.Field(nil), sch.Fields()...)
	p.dicts = make([]arrow.Array, len(fields))
	for i, f := range fields {
		if f.Type == enumType {
			values := array.NewStringBuilder(memory.DefaultAllocator)
			values.AppendValues(p.rules[i-2].enum, nil)
			p.dicts[i] = values.NewArray()
			values.Release()
			fields[i].Type = arrow.PrimitiveTypes.Int8
		}
	}
	p.bschema = arrow.NewSchema(fields, nil)
	if t.Name == "bureau_reports" {
		for i, r := range p.rules {
			if r.name == "worst_status_24m" {
				p.bandCol = i
			}
		}
	}
	if t.Name == "applications" {
		for i, r := range p.rules {
			switch r.name {
			case "id_number":
				p.idCol = i
			case "apply_time":
				p.applyCol = i
			}
		}
	}
	return p
}

// colBuilder is one raw column's builder, typed once per batch.
type colBuilder struct {
	i8  *array.Int8Builder // an enum's value index
	i32 *array.Int32Builder
	d32 *array.Date32Builder
	ts  *array.TimestampBuilder
	dec *array.Decimal128Builder
	str *array.StringBuilder
	any array.Builder
}

// start begins a new record batch, with room for about n rows.
func (p *rowParser) start(n int) {
	p.b = array.NewRecordBuilder(p.alloc, p.bschema)
	p.n, p.room = 0, max(n, 16)
	p.b.Reserve(p.room)
	p.fid, p.line = p.b.Field(0).(*array.Int32Builder), p.b.Field(1).(*array.Int64Builder)
	p.cols = p.cols[:0]
	for i := range p.rules {
		fb := p.b.Field(2 + i)
		c := colBuilder{any: fb}
		switch x := fb.(type) {
		case *array.Int32Builder:
			c.i32 = x
		case *array.Int8Builder:
			c.i8 = x
		case *array.Date32Builder:
			c.d32 = x
		case *array.TimestampBuilder:
			c.ts = x
		case *array.Decimal128Builder:
			c.dec = x
		case *array.StringBuilder:
			c.str = x
		}
		p.cols = append(p.cols, c)
	}
}

// finish returns the batch of the rows appended since start (nil if none).
func (p *rowParser) finish() arrow.RecordBatch {
	defer func() { p.b.Release(); p.b = nil }()
	if p.b.Field(0).Len() == 0 {
		return nil
	}
	rec := p.b.NewRecordBatch()
	defer rec.Release()
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		if p.dicts[i] != nil {
			cols[i] = array.NewDictionaryArray(enumType, rec.Column(i), p.dicts[i])
			defer cols[i].Release()
		} else {
			cols[i] = rec.Column(i)
		}
	}
	return array.NewRecordBatch(p.schema, cols, rec.NumRows())
}

// bstr views b as a string without copying; the string must not outlive
// b's current contents (it is only parsed or looked up).
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// row validates one row, given its fields in contract order (untrimmed),
// and appends it to the batch if it passes. It returns the reason and
// column of a rejected row ("" if accepted).
func (p *rowParser) row(fid int32, line int64, fields [][]byte) (reason, column string) {
	missing, bad, enum, neg, rng := -1, -1, -1, -1, -1
	for i := range p.rules {
		r, v := &p.rules[i], &p.vals[i]
		v.s = trimSpace(fields[i])
		v.null = len(v.s) == 0
		if v.null {
			if r.required && missing < 0 {
				missing = i
			}
			continue
		}
		var ok bool
		switch r.kind {
		case schema.Date:
			var other bool
			v.n, other, ok = parseDays(v.s)
			if ok && other {
				p.norm[normDateForm]++
			}
		case schema.Timestamp:
			var other bool
			v.n, other, ok = parseMicros(v.s)
			if ok && other {
				p.norm[normDateForm]++
			}
		case schema.Money:
			var thousands bool
			v.n, thousands, ok = parseFen(v.s)
			if ok && thousands {
				p.norm[normThousands]++
			}
		case schema.Int:
			n, err := normalize.ParseInt(bstr(v.s))
			v.n, ok = n, err == nil
		case schema.Rate:
			n, err := normalize.ParseRate(bstr(v.s))
			v.n, ok = n, err == nil
		case schema.Enum:
			s := bstr(v.s)
			ok = false
			for k, e := range r.enum {
				if s == e {
					v.n, ok = int64(k), true
					break
				}
			}
			if !ok {
				if en, found := r.aliases[s]; found {
					v.n, ok = int64(slices.Index(r.enum, en)), true
					p.norm[normChinese]++
				}
			}
			if !ok && enum < 0 {
				enum = i
			}
			v.null = !ok
			continue
		default: // String, ID, PII
			continue
		}
		if !ok {
			v.null = true
			if bad < 0 {
				bad = i
			}
			continue
		}
		if r.nonNeg && v.n < 0 && neg < 0 {
			neg = i
		}
		if r.rng != nil && (v.n < r.rng[0] || v.n > r.rng[1]) && rng < 0 {
			rng = i
		}
	}
	switch {
	case missing >= 0:
		return schema.ReasonMissing, p.rules[missing].name
	case bad >= 0:
		switch p.rules[bad].kind {
		case schema.Date, schema.Timestamp:
			return schema.ReasonBadDate, p.rules[bad].name
		case schema.Money:
			return schema.ReasonBadAmount, p.rules[bad].name
		default:
			return schema.ReasonBadNumber, p.rules[bad].name
		}
	case enum >= 0:
		return schema.ReasonBadEnum, p.rules[enum].name
	case neg >= 0:
		return schema.ReasonNegative, p.rules[neg].name
	case rng >= 0:
		return schema.ReasonOutOfRange, p.rules[rng].name
	}
	p.appendRow(fid, line)
	return "", ""
}

// appendRow appends the current (accepted) row to the batch.
func (p *rowParser) appendRow(fid int32, line int64) {
	if p.n == p.room {
		p.b.Reserve(p.room)
		p.room *= 2
	}
	p.n++
	p.fid.UnsafeAppend(fid)
	p.line.UnsafeAppend(line)
	for i := range p.rules {
		r, v, c := &p.rules[i], &p.vals[i], &p.cols[i]
		if v.null {
			if c.str != nil {
				c.str.AppendNull()
			} else {
				c.any.UnsafeAppendBoolToBitmap(false)
			}
			continue
		}
		switch r.kind {
		case schema.Date:
			c.d32.UnsafeAppend(arrow.Date32(v.n))
		case schema.Timestamp:
			c.ts.UnsafeAppend(arrow.Timestamp(v.n))
		case schema.Money, schema.Rate:
			c.dec.UnsafeAppend(decimal128.FromI64(v.n))
		case schema.Int:
			c.i32.UnsafeAppend(int32(v.n))
		case schema.Enum:
			if c.i8 != nil {
				c.i8.UnsafeAppend(int8(v.n))
			} else {
				c.str.Append(r.enum[v.n])
			}
		case schema.PII:
			s := v.s
			if i == p.idCol || r.name == "lender_id_number" {
				s = upperID(s)
			}
			tok := p.token(s)
			c.str.BinaryBuilder.Append(tok)
			if p.vault != nil && vaulted(r.name) {
				p.vault(r.name, tok, s)
			}
		default:
			c.str.BinaryBuilder.Append(v.s)
		}
	}
	if p.idCol >= 0 {
		p.appendIDAttributes(2 + len(p.rules))
	}
	if p.bandCol >= 0 {
		band := p.b.Field(2 + len(p.rules)).(*array.Int32Builder)
		if v := &p.vals[p.bandCol]; v.null {
			band.AppendNull()
		} else if n, ok := schema.OverdueBand(p.rules[p.bandCol].enum[v.n]); ok {
			band.Append(int32(n))
		} else {
			band.AppendNull()
		}
	}
	if p.ref != nil {
		p.checkRef(p.b.Field(0).Len() - 1)
	}
}

// token is the hex HMAC-SHA256 of v under the PII key (pii.Token), in a
// buffer valid until the next call.
func (p *rowParser) token(v []byte) []byte {
	p.mac.Reset()
	p.mac.Write(v)
	hex.Encode(p.tok[:], p.mac.Sum(p.sum[:0]))
	return p.tok[:]
}

// vaulted reports whether column's clear values go to the PII vault:
// the identity that bureau reporting and disclosure need, borrowers' and
// lenders' (not device ids or IPs, which nothing needs back in clear).
func vaulted(column string) bool {
	switch column {
	case "name", "id_number", "phone", "lender_name", "lender_id_number", "lender_phone":
		return true
	}
	return false
}

// upperID upper-cases an ID number as DuckDB's upper() would (the token
// of "…x" and "…X" is the same).
func upperID(b []byte) []byte {
	for _, c := range b {
		if c >= 0x80 || (c >= 'a' && c <= 'z') {
			return []byte(strings.ToUpper(string(b)))
		}
	}
	return b
}

// appendIDAttributes appends age, id_gender, birth_province and
// id_checksum_ok, derived from the ID number as pii.ParseID does, to the
// fields from at on.
func (p *rowParser) appendIDAttributes(at int) {
	age, gender, prov, sum := p.b.Field(at).(*array.Int32Builder), p.b.Field(at+1).(*array.StringBuilder),
		p.b.Field(at+2).(*array.StringBuilder), p.b.Field(at+3).(*array.BooleanBuilder)
	s := p.vals[p.idCol].s
	wellFormed := len(s) == 18 && digitsOnly(s[:17]) && (digitsOnly(s[17:]) || s[17] == 'X' || s[17] == 'x')
	if !wellFormed {
		age.AppendNull()
		gender.AppendNull()
		prov.AppendNull()
		sum.Append(false)
		return
	}
	if y, m, d := atoiB(s[6:10]), atoiB(s[10:12]), atoiB(s[12:14]); y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= civil.DaysIn(y, m) {
		ty, tm, td := civil.Date(int(floorDiv(p.vals[p.applyCol].n, 86_400_000_000)))
		a := ty - y
		if tm < m || (tm == m && td < d) {
			a--
		}
		age.Append(int32(a))
	} else {
		age.AppendNull()
	}
	if (s[16]-'0')%2 == 1 {
		gender.Append("male")
	} else {
		gender.Append("female")
	}
	if name, ok := p.prov[bstr(s[:2])]; ok {
		prov.Append(name)
	} else {
		prov.AppendNull()
	}
	want, _ := pii.CheckDigit(bstr(s[:17]))
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	sum.Append(want == last)
}

func digitsOnly(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

func atoiB(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// parseFen parses a money value (normalize.ParseAmount) into fen, with a
// one-pass fast path for the usual form -?digits[.d[d]].
func parseFen(s []byte) (fen int64, thousands, ok bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		i, neg = 1, true
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		fen = fen*10 + int64(s[i]-'0')
		i++
	}
	nd := i - start
	if nd >= 1 && nd <= 16 && (i == len(s) || s[i] == '.') {
		frac, nf := int64(0), 0
		if i < len(s) {
			for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
				frac = frac*10 + int64(s[i]-'0')
				nf++
			}
			if nf == 1 {
				frac *= 10
			}
		}
		if i == len(s) && (nf >= 1 && nf <= 2 || nf == 0 && s[len(s)-1] != '.') {
			fen = fen*100 + frac
			if neg {
				fen = -fen
			}
			return fen, false, true
		}
	}
	fen, thousands, err := normalize.ParseAmount(bstr(s))
	return fen, thousands, err == nil
}

// canonicalDate reads YYYY-MM-DD with a valid date in 1900..2099.
func canonicalDate(s []byte) (int64, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !digitsOnly(s[:4]) || !digitsOnly(s[5:7]) || !digitsOnly(s[8:10]) {
		return 0, false
	}
	y, m, d := atoiB(s[:4]), atoiB(s[5:7]), atoiB(s[8:10])
	if y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1 || d > civil.DaysIn(y, m) {
		return 0, false
	}
	return int64(civil.Days(y, m, d)), true
}

// parseDays parses a date (normalize.ParseDate) into days since
// 1970-01-01; other reports a form other than YYYY-MM-DD.
func parseDays(s []byte) (days int64, other, ok bool) {
	if n, ok := canonicalDate(s); ok {
		return n, false, true
	}
	d, other, err := normalize.ParseDate(string(s))
	if err != nil {
		return 0, false, false
	}
	return int64(civil.Days(d.Year, int(d.Month), d.Day)), other, true
}

// parseMicros parses a timestamp (normalize.ParseTimestamp) into
// microseconds since 1970-01-01 00:00 (wall clock); other reports a form
// other than YYYY-MM-DD HH:MM:SS.
func parseMicros(s []byte) (micros int64, other, ok bool) {
	if len(s) == 19 && s[10] == ' ' && s[13] == ':' && s[16] == ':' &&
		digitsOnly(s[11:13]) && digitsOnly(s[14:16]) && digitsOnly(s[17:19]) {
		if days, ok := canonicalDate(s[:10]); ok {
			h, mi, sec := atoiB(s[11:13]), atoiB(s[14:16]), atoiB(s[17:19])
			if h <= 23 && mi <= 59 && sec <= 59 {
				return days*86_400_000_000 + int64(h*3600+mi*60+sec)*1_000_000, false, true
			}
		}
	}
	t, other, err := normalize.ParseTimestamp(string(s))
	if err != nil {
		return 0, false, false
	}
	return t.UnixMicro(), other, true
}
