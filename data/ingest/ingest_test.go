package ingest

import (
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/ingest/pii"
	"qiandun/data/lake"
	"qiandun/data/schema"
)

func TestCleanBook(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	writeRaw(t, raw, bookFiles(cleanBook()))
	res := run(t, testOptions(raw, lk))
	wantRows := map[string]int64{"applications": 3, "loans": 2, "repayment_schedule": 3, "repayments": 2,
		"bureau_inquiries": 3, "bureau_reports": 2, "collection_events": 2}
	for table, n := range wantRows {
		tr := tableResult(t, res, table)
		if tr.Read != n || tr.Accepted != n || tr.Quarantined != 0 || tr.LakeRows != n {
			t.Errorf("%s: %+v, want %d rows all accepted", table, tr, n)
		}
	}
	// Normalisations: applications "1,000.00" (thousands), 2018/5/3 (date
	// form), 女 and 通过 (Chinese); loans 20180505, 等额本金, 车, 结清.
	norm := func(table, kind string) int64 { return tableResult(t, res, table).Normalised[kind] }
	for _, c := range []struct {
		table, kind string
		want        int64
	}{
		{"applications", schema.NormThousands, 1}, {"applications", schema.NormDateForm, 1}, {"applications", schema.NormChinese, 2},
		{"loans", schema.NormDateForm, 1}, {"loans", schema.NormChinese, 3}, {"loans", schema.NormThousands, 0},
		{"bureau_inquiries", schema.NormChinese, 3}, {"bureau_reports", schema.NormThousands, 1}, {"collection_events", schema.NormChinese, 2},
	} {
		if got := norm(c.table, c.kind); got != c.want {
			t.Errorf("%s %s = %d, want %d", c.table, c.kind, got, c.want)
		}
	}

	db := openDB(t)
	l := lake.New(lk)
	for _, tab := range schema.Tables() {
		scan, err := l.Scan(tab.Name)
		if err != nil {
			t.Fatal(err)
		}
		got := query(t, db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+scan+")")
		var cols []string
		for _, c := range schema.LakeColumns(tab) {
			cols = append(cols, c.Name+"|"+c.Type)
		}
		if strings.Join(got, ",") != strings.Join(cols, ",") {
			t.Errorf("%s columns:\n got %v\nwant %v", tab.Name, got, cols)
		}
	}
	scan, _ := l.Scan("applications")
	key := []byte("test-key-0123456789abcdef")
	got := query(t, db, "SELECT application_id, apply_time, requested_amount, gender, decision, age, id_gender, birth_province, id_checksum_ok, name_token FROM "+scan+" ORDER BY 1")
	want := []string{
		"A1|2018-05-01 10:00:00|5000.00|male|approved|28|male|北京|true|" + pii.Token(key, "张三"),
		"A2|2018-05-02 11:30:00|1000.00|female|approved|32|female|广东|true|" + pii.Token(key, "李四"),
		"A3|2018-05-03 09:00:00|3000.00|male|rejected|NULL|NULL|NULL|false|" + pii.Token(key, "王五"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("applications:\n got %q\nwant %q", got, want)
	}
	scan, _ = l.Scan("loans")
	got = query(t, db, "SELECT loan_id, issue_date, principal, annual_rate, repay_method, collateral_type, collateral_value, status FROM "+scan)
	want = []string{"L1|2018-05-03|5000.00|0.180000|equal_installment|none|NULL|active", "L2|2018-05-05|1000.00|0.200000|equal_principal|car|50000.00|settled"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("loans:\n got %q\nwant %q", got, want)
	}
	m, err := l.ReadManifest(Stage)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 9 || m.Counts["repayments.read"] != 2 {
		t.Errorf("manifest inputs %d, counts %v", len(m.Inputs), m.Counts)
	}
	_ = filepath.Join
}
