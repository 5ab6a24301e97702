package ingest

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qiandun/data/ingest/pii"
	"qiandun/data/lake"
)

// validID returns an 18-digit ID number with a correct check digit.
func validID(first17 string) string {
	c, _ := pii.CheckDigit(first17)
	return first17 + string(c)
}

// cleanBook is a small, fully valid raw book: table name -> CSV text.
func cleanBook() map[string]string {
	id1 := validID("11010519900307123") // male (3), Beijing, born 1990-03-07
	id2 := validID("44030419851231002") // female (0 -> even), Guangdong
	return map[string]string{
		"applications": "application_id,borrower_id,apply_time,product,channel,requested_amount,term_months,id_number,name,phone,gender,education,marital_status,monthly_income,employment_years,city,device_id,ip,decision\n" +
			"A1,B1,2018-05-01 10:00:00,cash,app,5000.00,12," + id1 + ",张三,13800138000,male,本科,已婚,8000.00,3.5,北京,D1,1.2.3.4,approved\n" +
			"A2,B2,2018-05-02 11:30:00,cash,web,\"1,000.00\",6," + id2 + ",李四,13900139000,女,,,,,上海,D2,1.2.3.5,通过\n" +
			"A3,B3,2018/5/3 09:00:00,cash,app,3000,12,ID-NOT-VALID-42,王五,13700137000,male,,,5000,1,广州,D3,1.2.3.6,rejected\n",
		"loans": "loan_id,application_id,borrower_id,product,issue_date,principal,annual_rate,term_months,repay_method,purpose,collateral_type,collateral_value,region,status\n" +
			"L1,A1,B1,cash,2018-05-03,5000.00,0.18,12,equal_installment,消费,none,,北京,active\n" +
			"L2,A2,B2,cash,20180505,1000.00,0.2,6,等额本金,,车,50000,上海,结清\n",
		"repayment_schedule": "loan_id,installment_no,due_date,principal_due,interest_due\n" +
			"L1,1,2018-06-03,400.00,75.00\n" +
			"L1,2,2018-07-03,406.00,69.00\n" +
			"L2,1,2018-06-05,166.67,16.67\n",
		"repayments": "txn_id,loan_id,installment_no,paid_at,principal_paid,interest_paid,penalty_paid\n" +
			"T1,L1,1,2018-06-03 08:00:00,400.00,75.00,0\n" +
			"T2,L2,1,2018-06-04 20:15:00,166.67,16.67,0.00\n",
		"bureau_inquiries": "borrower_id,query_date,institution_type,reason\n" +
			"B1,2018-04-20,bank,loan_approval\n" +
			"B1,2018-04-25,P2P,贷款审批\n" +
			"B2,2018-04-28,消费金融,post_loan\n",
		"bureau_reports": "borrower_id,report_date,open_accounts,total_outstanding,overdue_accounts,worst_status_24m\n" +
			"B1,2018-04-30,3,\"12,000.50\",0,N\n" +
			"B2,2018-04-30,1,0,1,2\n",
		"collection_events": "loan_id,event_time,channel,outcome\n" +
			"L1,2018-07-05 10:00:00,sms,no_answer\n" +
			"L1,2018-07-06 10:00:00,电话,承诺还款\n",
		// Lender P1 is borrower B1 (the same ID number, lower-case x
		// or not, gets the same token); P2 is only a lender.
		"investments": "investment_id,lender_id,loan_id,invest_time,amount,lender_id_number,lender_name,lender_phone\n" +
			"I1,P1,L1,2018-05-02 10:00:00,5000.00," + id1 + ",张三,13800138000\n" +
			"I2,P2,L2,2018-05-04 09:30:00,\"1,000.00\"," + lenderID + ",孙七,13500135000\n",
		"custody_transactions": "bank_txn_id,bank,sub_account,owner_type,owner_id,txn_time,direction,amount,txn_type,loan_id,reference,balance_after\n" +
			"GZ1,贵州银行,81012000000000001,lender,P1,2018-05-02 09:00:00,in,5000.00,recharge,,,5000.00\n" +
			"GZ2,贵州银行,81012000000000001,出借人,P1,2018-05-02 10:00:00,支出,5000.00,出借,L1,I1,0.00\n" +
			"GZ3,贵州银行,81011000000000001,borrower,B1,2018-05-03 10:00:00,in,5000.00,disbursement,L1,L1,5000.00\n",
	}
}

// lenderID is lender P2's ID number (female, Shanghai, born 1980-01-01),
// its check character X written lower-case.
const lenderID = "31010119800101000x"

// writeRaw writes files (relative path -> content) under a new raw dir.
func writeRaw(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func bookFiles(book map[string]string) map[string]string {
	out := map[string]string{}
	for t, body := range book {
		out[t+".csv"] = body
	}
	return out
}

func testOptions(raw, lk string) Options {
	return Options{Raw: raw, Lake: lk, MaxRejectRate: 1, Key: []byte("test-key-0123456789abcdef"),
		DB: lake.DBOptions{MemoryLimit: "500MB", Threads: 2}}
}

func run(t *testing.T, o Options) *Result {
	t.Helper()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// query returns the rows of q as strings joined by "|", one per row.
func query(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query("SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (" + q + ")")
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			if v.Valid {
				parts[i] = v.String
			} else {
				parts[i] = "NULL"
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func tableResult(t *testing.T, res *Result, table string) TableResult {
	t.Helper()
	for _, tr := range res.Tables {
		if tr.Table == table {
			return tr
		}
	}
	t.Fatalf("no result for table %s", table)
	return TableResult{}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
