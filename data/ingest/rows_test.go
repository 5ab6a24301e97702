package ingest

import (
	"encoding/csv"
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"qiandun/data/ingest/normalize"
	"qiandun/data/ingest/pii"
	"qiandun/data/schema"
	"qiandun/internal/civil"
)

// TestParseDaysMicros checks the fast paths for canonical dates and
// times against package normalize (the reference) and the time package,
// over every day from 1899-12-20 to 2100-01-10 and a set of other forms.
func TestParseDaysMicros(t *testing.T) {
	check := func(s string) {
		t.Helper()
		days, other, ok := parseDays([]byte(s))
		d, wantOther, err := normalize.ParseDate(s)
		if ok != (err == nil) || other != wantOther {
			t.Fatalf("parseDays(%q) ok %v other %v; normalize: err %v other %v", s, ok, other, err, wantOther)
		}
		if ok {
			want := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400
			if days != want {
				t.Fatalf("parseDays(%q) = %d, want %d", s, days, want)
			}
			if y, m, dd := civil.Date(int(days)); y != d.Year || m != int(d.Month) || dd != d.Day {
				t.Fatalf("civil.Date(%d) = %d-%d-%d, want %v", days, y, m, dd, d)
			}
		}
		for _, ts := range []string{s + " 23:59:59", s + " 00:00:00", s + " 24:00:00", s + " 7:05", s + "T07:05:09", s} {
			us, other, ok := parseMicros([]byte(ts))
			tm, wantOther, err := normalize.ParseTimestamp(ts)
			if ok != (err == nil) || other != wantOther || (ok && us != tm.UnixMicro()) {
				t.Fatalf("parseMicros(%q) = %d ok %v other %v; normalize: %v err %v other %v", ts, us, ok, other, tm, err, wantOther)
			}
		}
	}
	for d := time.Date(1899, 12, 20, 0, 0, 0, 0, time.UTC); d.Year() < 2100 || d.Day() < 10; d = d.AddDate(0, 0, 1) {
		check(d.Format("2006-01-02"))
	}
	for _, s := range []string{"2018-02-29", "2016-02-29", "2000-02-29", "1900-02-29", "2018-13-01", "2018-00-10",
		"2018-1-5", "2018/1/5", "20180105", "2018-01-5 ", "2018-01-0a", "+018-01-05", "２018-01-05", ""} {
		check(s)
	}
}

// TestParseFen checks the money fast path against normalize.ParseAmount
// on hand-picked and random values.
func TestParseFen(t *testing.T) {
	check := func(v string) {
		t.Helper()
		fen, th, ok := parseFen([]byte(v))
		wfen, wth, err := normalize.ParseAmount(v)
		if ok != (err == nil) || (ok && (fen != wfen || th != wth)) {
			t.Fatalf("parseFen(%q) = %d %v %v; ParseAmount: %d %v %v", v, fen, th, ok, wfen, wth, err)
		}
	}
	for _, v := range []string{"0", "-0", "1", "1.", ".5", "1.5", "1.50", "1.505", "-12.3", "--1", "-", "", "1,000.00",
		"1234567890123456", "12345678901234567", "1234567890123456.99", "9,999,999,999,999,999.99", "1.2.3", "1a", "00.01"} {
		check(v)
	}
	r := rand.New(rand.NewSource(1))
	const alphabet = "0123456789.,-"
	for range 200000 {
		b := make([]byte, r.Intn(22))
		for i := range b {
			if r.Intn(3) == 0 {
				b[i] = alphabet[r.Intn(len(alphabet))]
			} else {
				b[i] = alphabet[r.Intn(10)]
			}
		}
		check(string(b))
	}
}

// TestIDAttributes checks the attributes and tokens written for ID
// numbers against package pii (the reference).
func TestIDAttributes(t *testing.T) {
	tab, _ := schema.Lookup("applications")
	sch, err := lakeSchema(tab)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("test-key")
	p := newRowParser(tab, sch, key, memory.DefaultAllocator)
	ids := []string{
		validID("11010519900307123"), validID("44030419851231002"), validID("65010220000229001"),
		validID("11010519900307123")[:17] + "0", // wrong check digit
		validID("11010519900307123")[:17] + "x",
		validID("99010519900307123"), // unknown province
		validID("11010518990307123"), // born before 1900
		validID("11010519900230123"), // no such date
		"11010519900307123", "1101051990030712345", "ID-NOT-VALID-42", "11010519900307123Y",
		strings.ToLower(validID("32010219760412002")),
	}
	apply := time.Date(2018, 3, 7, 10, 0, 0, 0, time.UTC) // a birthday of the first ID
	p.start(4)
	for i, id := range ids {
		fields := make([][]byte, len(tab.Columns))
		for j, c := range tab.Columns {
			v := map[string]string{"application_id": fmt.Sprint("A", i), "borrower_id": "B1", "apply_time": apply.Format("2006-01-02 15:04:05"),
				"product": "cash", "channel": "app", "requested_amount": "100", "term_months": "12", "id_number": id,
				"name": "张三", "phone": "13800138000", "decision": "approved"}[c.Name]
			fields[j] = []byte(v)
		}
		if r, col := p.row(1, int64(i+2), fields); r != "" {
			t.Fatalf("%s: rejected %s:%s", id, r, col)
		}
	}
	rec := p.finish()
	defer rec.Release()
	col := func(name string) arrow.Array {
		for i, f := range rec.Schema().Fields() {
			if f.Name == name {
				return rec.Column(i)
			}
		}
		t.Fatalf("no column %s", name)
		return nil
	}
	age, gender, prov := col("age").(*array.Int32), col("id_gender").(*array.String), col("birth_province").(*array.String)
	sum, tok, name := col("id_checksum_ok").(*array.Boolean), col("id_number_token").(*array.String), col("name_token").(*array.String)
	for i, id := range ids {
		want := pii.ParseID(id)
		wantAge, hasAge := want.Age(apply)
		if age.IsNull(i) == hasAge || (hasAge && int(age.Value(i)) != wantAge) {
			t.Errorf("%s: age %v (null %v), want %d (%v)", id, age.Value(i), age.IsNull(i), wantAge, hasAge)
		}
		if g := gender.Value(i); gender.IsNull(i) != (want.Gender == "") || g != want.Gender {
			t.Errorf("%s: gender %q, want %q", id, g, want.Gender)
		}
		if pv := prov.Value(i); prov.IsNull(i) != (want.Province == "") || pv != want.Province {
			t.Errorf("%s: province %q, want %q", id, pv, want.Province)
		}
		if sum.Value(i) != want.ChecksumOK || sum.IsNull(i) {
			t.Errorf("%s: checksum %v, want %v", id, sum.Value(i), want.ChecksumOK)
		}
		if got, w := tok.Value(i), pii.Token(key, strings.ToUpper(id)); got != w {
			t.Errorf("%s: token %s, want %s", id, got, w)
		}
		if got, w := name.Value(i), pii.Token(key, "张三"); got != w {
			t.Errorf("name token %s, want %s", got, w)
		}
	}
	if age.Value(0) != 28 {
		t.Errorf("age on the 28th birthday: %d", age.Value(0))
	}
}

// TestRowReasons checks the precedence of a row's reasons and the
// normalisation counts, which also count values of rejected rows.
func TestRowReasons(t *testing.T) {
	tab, _ := schema.Lookup("loans")
	sch, _ := lakeSchema(tab)
	p := newRowParser(tab, sch, []byte("k"), memory.DefaultAllocator)
	// loan_id,application_id,borrower_id,product,issue_date,principal,annual_rate,term_months,repay_method,purpose,collateral_type,collateral_value,region,status
	tests := []struct {
		line, reason, column string
	}{
		{"L1,A1,B1,cash,2018-05-03,5000.00,0.18,12,equal_installment,x,none,,north,active", "", ""},
		{"L1, A1 ,B1,cash,2018/5/3,\"5,000.00\",0.18,12,等额本金,,车,1,,结清", "", ""},
		{"L1,,B1,cash,bad,5000.00,0.18,12,equal_installment,x,none,,north,active", schema.ReasonMissing, "application_id"},
		{"L1,A1,B1,cash,bad,x,0.18,12,nope,x,none,,north,active", schema.ReasonBadDate, "issue_date"},
		{"L1,A1,B1,cash,2018-05-03,x,y,12,nope,x,none,,north,active", schema.ReasonBadAmount, "principal"},
		{"L1,A1,B1,cash,2018-05-03,1,0.1234567,12,equal_installment,x,none,,north,active", schema.ReasonBadNumber, "annual_rate"},
		{"L1,A1,B1,cash,2018-05-03,-1,0.18,0,nope,x,none,,north,active", schema.ReasonBadEnum, "repay_method"},
		{"L1,A1,B1,cash,2018-05-03,-1,1.5,0,equal_installment,x,none,-2,north,active", schema.ReasonNegative, "principal"},
		{"L1,A1,B1,cash,2018-05-03,1,1.5,0,equal_installment,x,none,2,north,active", schema.ReasonOutOfRange, "annual_rate"},
		{"L1,A1,B1,cash,2018-05-03,1,1,121,equal_installment,x,none,2,north,active", schema.ReasonOutOfRange, "term_months"},
		{"L1,A1,B1,cash,20180503,\"1,000\",1,120,equal_installment,x,房,2,north,核销", "", ""},
	}
	p.start(4)
	for _, tc := range tests {
		r := csv.NewReader(strings.NewReader(tc.line))
		rec, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		fields := make([][]byte, len(rec))
		for i, v := range rec {
			fields[i] = []byte(v)
		}
		reason, col := p.row(1, 2, fields)
		if reason != tc.reason || col != tc.column {
			t.Errorf("%s: %s:%s, want %s:%s", tc.line, reason, col, tc.reason, tc.column)
		}
	}
	if rec := p.finish(); rec == nil || rec.NumRows() != 3 {
		t.Errorf("accepted batch %v, want 3 rows", rec)
	}
	// Date forms: 2018/5/3, 20180503; thousands: "5,000.00", "1,000";
	// Chinese: 等额本金 车 结清 房 核销.
	if want := [3]int64{2, 2, 5}; p.norm != want {
		t.Errorf("normalisations %v, want %v", p.norm, want)
	}
}

// TestSplitFields checks the field cutter against encoding/csv.
func TestSplitFields(t *testing.T) {
	for _, line := range []string{`a,b,c`, `a,,c,`, `"a,b",c`, `"a""b",""`, `"",x,"y"`, `x,"1,000.00",""""`, `,`, `a`, `""`} {
		r := csv.NewReader(strings.NewReader(line))
		r.FieldsPerRecord = -1
		want, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := countFields([]byte(line), ','); !ok || n != len(want) {
			t.Fatalf("%s: countFields %d %v, want %d", line, n, ok, len(want))
		}
		got, _ := splitFields([]byte(line), ',', nil, nil)
		var gs []string
		for _, f := range got {
			gs = append(gs, string(f))
		}
		if !slices.Equal(gs, want) {
			t.Errorf("%s: %q, want %q", line, gs, want)
		}
	}
}

// TestKeyOrderMerge checks that watching a file block by block and
// merging gives what watching it whole gives, for every cut point.
func TestKeyOrderMerge(t *testing.T) {
	sched, _ := schema.Lookup("repayment_schedule")
	inq, _ := schema.Lookup("bureau_inquiries")
	cases := []struct {
		table schema.Table
		lines []string
	}{
		{sched, []string{"L1,1,x,1,1", "L1,1,y,2,2", "L1,1,z,3,3", "L1,2,x,1,1", "L2,1,x,1,1", "L2,1,x,1,1", "L3,1,x,1,1"}},
		{sched, []string{"L1,1,x,1,1", "L1,2,x,1,1", "L1,2,x,1,1", "L1,2,x,1,1", "L1,3,x,1,1"}},
		{sched, []string{"L1,1,x,1,1", "L1,2,x,1,1", "L1,1,x,1,1"}},
		{sched, []string{"L2,1,x,1,1", "L1,1,x,1,1"}},
		{sched, []string{"L1,1,x,1,1", "L1,01,x,1,1", "L2,1,x,1,1"}},
		{inq, []string{"B1,2018-04-20,bank,a", "B1,2018-04-20,bank,b", "B1,2018-04-25,bank,a", "B1,2018-04-25,bank,a", "B2,2018-04-20,bank,a"}},
	}
	watch := func(tab schema.Table, lines []string, from int) *keyOrder {
		o := newKeyOrder(tab, tab.Names())
		for i, l := range lines {
			addLine(o, []byte(l), int64(from+i), ',')
		}
		return o
	}
	for ci, tc := range cases {
		whole := watch(tc.table, tc.lines, 2)
		for cut1 := 0; cut1 <= len(tc.lines); cut1++ {
			for cut2 := cut1; cut2 <= len(tc.lines); cut2++ {
				m := newKeyOrder(tc.table, tc.table.Names())
				m.merge(watch(tc.table, tc.lines[:cut1], 2))
				m.merge(watch(tc.table, tc.lines[cut1:cut2], 2+cut1))
				m.merge(watch(tc.table, tc.lines[cut2:], 2+cut2))
				got := fmt.Sprint(m.known(false), m.sorted, m.grouped, m.cands)
				want := fmt.Sprint(whole.known(false), whole.sorted, whole.grouped, whole.cands)
				if !whole.known(false) {
					got, want = fmt.Sprint(m.known(false)), fmt.Sprint(false)
				}
				if got != want {
					t.Errorf("case %d cut %d,%d: %s, want %s", ci, cut1, cut2, got, want)
				}
			}
		}
	}
}

// TestParentIndex checks find against a map, from any starting position.
func TestParentIndex(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	set := map[string]bool{}
	for len(set) < 500 {
		set[fmt.Sprintf("L%d", r.Intn(2000))] = true
	}
	x := &parentIndex{}
	for k := range set {
		x.keys = append(x.keys, k)
		x.dates = append(x.dates, int32(len(k)))
	}
	sort.Sort(x)
	for range 20000 {
		key, from := fmt.Sprintf("L%d", r.Intn(2100)), r.Intn(len(x.keys)+3)
		at, ok := x.find(key, from)
		if ok != set[key] || (ok && x.keys[at] != key) {
			t.Fatalf("find(%q, %d) = %d, %v; in set: %v", key, from, at, ok, set[key])
		}
	}
}
