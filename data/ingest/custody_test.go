package ingest

import (
	"strings"
	"sync"
	"testing"

	"qiandun/data/ingest/pii"
	"qiandun/data/lake"
)

// TestLenderPII: lenders' ID numbers, names and phones are replaced by
// the same keyed tokens as borrowers' (a lender who is also a borrower
// has the borrower's token; a lower-case x is the upper-case X's), and
// their clear values go to the vault with those tokens.
func TestLenderPII(t *testing.T) {
	raw, lk := t.TempDir(), t.TempDir()
	writeRaw(t, raw, bookFiles(cleanBook()))
	o := testOptions(raw, lk)
	var mu sync.Mutex
	vault := map[string]string{} // clear -> token
	o.Vault = func(column string, token, clear []byte) {
		mu.Lock()
		vault[column+"="+string(clear)] = string(token)
		mu.Unlock()
	}
	res := run(t, o)
	if tr := tableResult(t, res, "investments"); tr.Accepted != 2 || tr.Normalised["thousands_separator"] != 1 {
		t.Errorf("investments: %+v", tr)
	}
	if tr := tableResult(t, res, "custody_transactions"); tr.Accepted != 3 || tr.Normalised["chinese_enum"] != 3 {
		t.Errorf("custody_transactions: %+v", tr)
	}
	db := openDB(t)
	l := lake.New(lk)
	inv, _ := l.Scan("investments")
	apps, _ := l.Scan("applications")
	got := query(t, db, "SELECT i.investment_id, i.lender_id_number_token = a.id_number_token, i.lender_name_token = a.name_token, "+
		"i.lender_phone_token = a.phone_token FROM "+inv+" i LEFT JOIN "+apps+" a ON a.borrower_id = 'B1' ORDER BY 1")
	if strings.Join(got, ";") != "I1|true|true|true;I2|false|false|false" {
		t.Errorf("lender tokens against borrower B1's: %v", got)
	}
	key := o.Key
	want := map[string]string{
		"lender_id_number=" + strings.ToUpper(lenderID): pii.Token(key, strings.ToUpper(lenderID)),
		"lender_name=孙七":                                pii.Token(key, "孙七"),
		"lender_phone=13500135000":                      pii.Token(key, "13500135000"),
	}
	for k, tok := range want {
		if vault[k] != tok {
			t.Errorf("vault %s: token %q, want %q", k, vault[k], tok)
		}
	}
	got = query(t, db, "SELECT lender_id_number_token, lender_name_token, lender_phone_token FROM "+inv+" WHERE investment_id = 'I2'")
	if len(got) != 1 || got[0] != want["lender_id_number="+strings.ToUpper(lenderID)]+"|"+want["lender_name=孙七"]+"|"+want["lender_phone=13500135000"] {
		t.Errorf("I2 tokens %v", got)
	}
	ct, _ := l.Scan("custody_transactions")
	got = query(t, db, "SELECT bank_txn_id, owner_type, direction, txn_type, amount, coalesce(loan_id, '-'), balance_after FROM "+ct+" ORDER BY 1")
	if strings.Join(got, ";") != "GZ1|lender|in|recharge|5000.00|-|5000.00;GZ2|lender|out|investment|5000.00|L1|0.00;GZ3|borrower|in|disbursement|5000.00|L1|5000.00" {
		t.Errorf("custody lines %v", got)
	}
}
