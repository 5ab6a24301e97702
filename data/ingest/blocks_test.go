package ingest

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// TestBlockSizesAgree ingests randomly damaged small files twice, read in
// blocks of 1 to 64 bytes (so that rows, runs of keys and duplicates
// cross block edges everywhere) and in one block: the accounting must
// hold and both must accept and reject the same rows for the same
// reasons.
func TestBlockSizesAgree(t *testing.T) {
	const header = "borrower_id,report_date,open_accounts,total_outstanding,overdue_accounts,worst_status_24m\n"
	seeds := [][]byte{
		[]byte(header + "B1,2018-04-30,3,\"12,000.50\",0,0\nB2,2018/4/30,1,0,1,2\n"),
		[]byte(header + "B1,2018-04-30,3,-1,0,0\r\nB1,2018-04-30,3,-1,0,0\r\n\"B2,x\n"),
		[]byte("\ufeff" + header + "B1,20180430,3,1.5,0,9\n\nB1,2018-04-30,4,1.5,0,0"),
		[]byte(header + "B1,2018-04-30,,abc,\"0\"\"\",0\nB3,2018-02-30,1,1,1,1,1\n"),
		[]byte(header + "\xb9\xe3\xd6\xdd,2018-04-30,1,1,1,1\n"),
		[]byte(header + "B1,2018-04-30,1,1,1,1\nB1,2018-04-30,1,1,1,1\nB1,2018-04-30,1,1,1,2\nB2,2018-04-30,1,1,1,1\nB2,2018-05-30,1,1,1,1\nB3,2018-04-30,1,1,1,1\n"),
	}
	r := rand.New(rand.NewSource(3))
	for range 50 {
		d := append([]byte(nil), seeds[r.Intn(len(seeds))]...)
		for k := 0; k < r.Intn(5); k++ {
			p := len(header) + r.Intn(len(d)-len(header))
			switch r.Intn(3) {
			case 0:
				d[p] = "\n,\"0123456789B-/ \r\xb9"[r.Intn(17)]
			case 1:
				d = append(d[:p], d[p+1:]...)
			case 2:
				d = append(d[:p], append([]byte{"\n,\"0123456789B-/ "[r.Intn(16)]}, d[p:]...)...)
			}
		}
		raw, lk := t.TempDir(), t.TempDir()
		os.WriteFile(filepath.Join(raw, "bureau_reports.csv"), d, 0o644)
		o := testOptions(raw, lk)
		o.Log = discardLog()
		o.blockSize = 1 + r.Intn(64)
		res, err := Run(context.Background(), o)
		if err != nil {
			continue // header or encoding errors: FuzzIngestFile's concern
		}
		tr := res.Tables[0]
		if tr.Read != tr.Accepted+tr.Quarantined || tr.LakeRows != tr.Accepted {
			t.Fatalf("%q: %+v", d, tr)
		}
		// Same result with one big block.
		lk2 := t.TempDir()
		o2 := testOptions(raw, lk2)
		o2.Log = discardLog()
		res2, err := Run(context.Background(), o2)
		if err != nil {
			t.Fatalf("%q: %v", d, err)
		}
		if a, b := res.Tables[0], res2.Tables[0]; a.Accepted != b.Accepted || len(a.Reasons) != len(b.Reasons) {
			t.Fatalf("%q: blocks %+v vs %+v", d, a, b)
		}
		for k, v := range res.Tables[0].Reasons {
			if res2.Tables[0].Reasons[k] != v {
				t.Fatalf("%q: blocks %+v vs %+v", d, res.Tables[0].Reasons, res2.Tables[0].Reasons)
			}
		}
		if q1, q2 := fmt.Sprint(readQuarantine(t, lk, "bureau_reports")), fmt.Sprint(readQuarantine(t, lk2, "bureau_reports")); q1 != q2 {
			t.Fatalf("%q: quarantine\n%s\nvs one block\n%s", d, q1, q2)
		}
	}
}
