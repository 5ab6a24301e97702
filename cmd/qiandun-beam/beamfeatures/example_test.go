//go:build duckdb_arrow

package beamfeatures_test

import (
	"fmt"
	"time"

	"qiandun/cmd/qiandun-beam/beamfeatures"
)

// A loan of 1,000.00 issued 2024-01-15 in two installments of 500.00 +
// 10.00; the first is paid five days late, the second is not paid by the
// month end 2024-03-31.
func ExampleSnapshots() {
	day := func(s string) int32 {
		t, _ := time.Parse(time.DateOnly, s)
		return int32(t.Unix() / 86400)
	}
	at := func(s string) int64 {
		t, _ := time.Parse(time.DateTime, s)
		return t.UnixMicro()
	}
	loan := beamfeatures.Loan{ID: "L1", Borrower: "B1", App: "A1", Issue: day("2024-01-15"), Principal: 100000, Status: "active"}
	insts := []beamfeatures.Inst{
		{No: 1, Due: day("2024-02-15"), Principal: 50000, Interest: 1000},
		{No: 2, Due: day("2024-03-15"), Principal: 50000, Interest: 1000},
	}
	pays := []beamfeatures.Pay{{No: 1, Txn: "T1", At: at("2024-02-20 09:00:00"), Principal: 50000, Interest: 1000}}
	for _, r := range beamfeatures.Snapshots(loan, insts, pays, nil, []int32{day("2024-01-31"), day("2024-03-31")}) {
		fmt.Printf("as of %s: dpd %d, max 3m %d, late %d, paid/due 3m %.2f, principal paid %.2f, outstanding %d fen, on book %d months\n",
			time.Unix(int64(r.AsOf)*86400, 0).UTC().Format(time.DateOnly), r.DPD, r.Max3, r.NLate, r.PaidToDue3, r.PrincipalShare, r.Outstanding, r.MOB)
	}
	// Output:
	// as of 2024-01-31: dpd 0, max 3m 0, late 0, paid/due 3m 0.00, principal paid 0.00, outstanding 100000 fen, on book 0 months
	// as of 2024-03-31: dpd 16, max 3m 16, late 2, paid/due 3m 0.50, principal paid 0.50, outstanding 50000 fen, on book 2 months
}
