package pii

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"qiandun/data/lake"
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

// TestTokenRFC4231 checks Token against RFC 4231 test case 2.
func TestTokenRFC4231(t *testing.T) {
	const want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got := Token([]byte("Jefe"), "what do ya want for nothing?"); got != want {
		t.Fatalf("Token = %s, want %s", got, want)
	}
}

// TestSQLMatchesGo checks the DuckDB macros against the Go functions and
// the HMAC macro against RFC 4231 (short key) and a key longer than a block.
func TestSQLMatchesGo(t *testing.T) {
	ctx := context.Background()
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, key := range [][]byte{[]byte("Jefe"), []byte(strings.Repeat("k", 131))} {
		if _, err := db.Exec(MacrosSQL(key)); err != nil {
			t.Fatal(err)
		}
		if err := RegisterTokenUDF(ctx, db, key); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"what do ya want for nothing?", "张三", "13800138000", ""} {
			var got, udf string
			if err := db.QueryRow("SELECT qd_token($1), qd_hmac($1)", v).Scan(&got, &udf); err != nil {
				t.Fatal(err)
			}
			if want := Token(key, v); got != want || udf != want {
				t.Errorf("key len %d: qd_token(%q) = %s, qd_hmac = %s, want %s", len(key), v, got, udf, want)
			}
		}
	}
	// Under parallel execution the Go UDF agrees with the SQL macro.
	var bad int
	if err := db.QueryRow("SELECT count(*) FROM (SELECT CAST(range AS VARCHAR) AS v FROM range(200000)) WHERE qd_hmac(v) <> qd_token(v)").Scan(&bad); err != nil || bad != 0 {
		t.Errorf("qd_hmac and qd_token differ on %d of 200000 values (%v)", bad, err)
	}
	ids := []string{"11010519491231002X", "11010519491231002x", "110105194912310021", "440304199001010011",
		"990304199002300011", "11010519491231002", "11010519491231002Y", "", "650102200001010012", "820000189912310015"}
	at := time.Date(2018, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, s := range ids {
		id := ParseID(s)
		var ok, wf bool
		var gender, prov, birth sql.NullString
		var age sql.NullInt64
		err := db.QueryRow(`SELECT qd_id_wellformed($1), qd_id_checksum_ok($1), qd_id_gender($1), qd_id_province($1),
			CAST(qd_id_birth($1) AS VARCHAR), qd_age(qd_id_birth($1), TIMESTAMP '2018-05-01 10:00:00')`, s).
			Scan(&wf, &ok, &gender, &prov, &birth, &age)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		wantBirth := ""
		if !id.Birth.IsZero() {
			wantBirth = id.Birth.Format("2006-01-02")
		}
		wantAge, hasAge := id.Age(at)
		got := fmt.Sprint(wf, ok, gender.String, prov.String, birth.String, age.Valid, age.Int64)
		want := fmt.Sprint(id.WellFormed, id.ChecksumOK, id.Gender, id.Province, wantBirth, hasAge, int64(wantAge)*map[bool]int64{true: 1}[hasAge])
		if got != want {
			t.Errorf("%q: SQL %s, Go %s", s, got, want)
		}
	}
}

func ExampleCheckDigit() {
	c, _ := CheckDigit("11010519491231002")
	fmt.Println(string(c))
	// Output: X
}
