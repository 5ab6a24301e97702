package perf

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"qiandun/data/lake"
	"qiandun/data/schema"
)

// A book is a small hand-made or generated set of raw lake rows. Money is
// in fen (int64) so the test arithmetic is exact; dates are time.Time at
// midnight UTC standing for Beijing local dates.
type book struct {
	loans []bLoan
	insts []bInst
	pays  []bPay
}

type bLoan struct {
	id, borrower string
	issue        time.Time
	principal    int64
	status       string
	collateral   string
}

type bInst struct {
	loan                string
	no                  int
	due                 time.Time
	principal, interest int64
}

type bPay struct {
	txn, loan                    string
	no                           int
	paid                         time.Time
	principal, interest, penalty int64
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func fen(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// writeLake writes b as the raw lake tables loans, repayment_schedule and
// repayments of a new lake under t.TempDir(), with exactly the column
// types ingestion writes (schema.LakeDDL).
func writeLake(t testing.TB, b book) lake.Lake {
	t.Helper()
	root := t.TempDir()
	lk := lake.New(root)
	ctx := context.Background()
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{TempDir: filepath.Join(root, "_tmp")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables := map[string][][]string{}
	for _, l := range b.loans {
		coll := l.collateral
		if coll == "" {
			coll = "none"
		}
		tables["loans"] = append(tables["loans"], []string{l.id, "A" + l.id, l.borrower, "cash", l.issue.Format(time.DateOnly),
			fen(l.principal), "0.180000", "12", "equal_installment", "", coll, "", "", l.status})
	}
	for _, i := range b.insts {
		tables["repayment_schedule"] = append(tables["repayment_schedule"], []string{i.loan, fmt.Sprint(i.no), i.due.Format(time.DateOnly), fen(i.principal), fen(i.interest)})
	}
	for _, p := range b.pays {
		tables["repayments"] = append(tables["repayments"], []string{p.txn, p.loan, fmt.Sprint(p.no), p.paid.Format(time.DateOnly) + " 10:00:00", fen(p.principal), fen(p.interest), fen(p.penalty)})
	}
	for _, name := range []string{"loans", "repayment_schedule", "repayments"} {
		tab, _ := schema.Lookup(name)
		csvPath := filepath.Join(root, name+".csv")
		f, err := os.Create(csvPath)
		if err != nil {
			t.Fatal(err)
		}
		w := csv.NewWriter(f)
		w.Write(tab.Names())
		w.WriteAll(tables[name])
		f.Close()
		dir := lk.TableDir(name)
		os.MkdirAll(dir, 0o755)
		stmts := []string{
			schema.LakeDDL(tab, name),
			fmt.Sprintf("INSERT INTO %s SELECT * FROM read_csv(%s, header = true, all_varchar = true)", name, lake.Quote(csvPath)),
			fmt.Sprintf("COPY %s TO %s (FORMAT parquet)", name, lake.Quote(filepath.Join(dir, "part-0.parquet"))),
		}
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		os.Remove(csvPath)
	}
	return lk
}

// panelRow is one row of perf/panel with money in fen.
type panelRow struct {
	loan                            string
	monthEnd                        time.Time
	mob                             int
	status                          string
	dpd, worst                      int
	bucket                          string
	outstanding, overdueP, overdueI int64
	dueInMonth, paidInMonth         int64
	settled, writtenOff             bool
}

func (r panelRow) key() string { return r.loan + "/" + r.monthEnd.Format(time.DateOnly) }

// readPanel reads every row of the panel Parquet files in dir.
func readPanel(t testing.TB, db *sql.DB, dir string) []panelRow {
	t.Helper()
	rows, err := db.Query(`SELECT loan_id, month_end, mob, status, dpd, worst_dpd, bucket,
		CAST(outstanding_principal * 100 AS BIGINT), CAST(overdue_principal * 100 AS BIGINT),
		CAST(overdue_interest * 100 AS BIGINT), CAST(due_in_month * 100 AS BIGINT),
		CAST(paid_in_month * 100 AS BIGINT), settled, written_off
		FROM read_parquet(` + lake.Quote(filepath.Join(dir, "*.parquet")) + `) ORDER BY loan_id, month_end`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []panelRow
	for rows.Next() {
		var r panelRow
		if err := rows.Scan(&r.loan, &r.monthEnd, &r.mob, &r.status, &r.dpd, &r.worst, &r.bucket,
			&r.outstanding, &r.overdueP, &r.overdueI, &r.dueInMonth, &r.paidInMonth, &r.settled, &r.writtenOff); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// openBookDB opens DuckDB with the input views of lk defined.
func openBookDB(t testing.TB, lk lake.Lake) *sql.DB {
	t.Helper()
	db, err := lk.OpenDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := createInputViews(context.Background(), db, lk, &lake.Manifest{}); err != nil {
		t.Fatal(err)
	}
	return db
}

// sqlPanel builds the SQL panel of b as of asOf and returns its rows.
func sqlPanel(t testing.TB, b book, asOf time.Time) []panelRow {
	t.Helper()
	lk := writeLake(t, b)
	db := openBookDB(t, lk)
	dir := filepath.Join(lk.Root, "out_panel")
	if _, err := WritePanel(context.Background(), db, asOf, dir); err != nil {
		t.Fatal(err)
	}
	return readPanel(t, db, dir)
}
