//go:build duckdb_arrow

package warn

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"qiandun/data/lake"
	"qiandun/internal/duckdbtest"
)

// TestCSVNeutralised: the query ews.csv is written from leaves the
// Parquet columns alone and, in the CSV, puts a quote before text cells
// that start with a formula character; numbers (negative ones too) and
// NULLs stay as they are.
func TestCSVNeutralised(t *testing.T) {
	ctx := context.Background()
	conn := duckdbtest.Conn(t, lake.DBOptions{MemoryLimit: "256MB", Threads: 1, TempDir: t.TempDir()})
	sel := `SELECT * FROM (VALUES (1, '=cmd|'' /C calc''!A0', -5, CAST(-1.25 AS DECIMAL(18,2)), '-3', NULL::VARCHAR), (2, 'L2', 7, 0.50, '@x', '+y')) t(rank, loan_id, dpd, ltv, reasons, queue)`
	csvSel, err := neutralised(ctx, conn, sel)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "ews.csv")
	if _, err := conn.ExecContext(ctx, "COPY ("+csvSel+") TO "+lake.Quote(out)+" (FORMAT csv, HEADER)"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "rank,loan_id,dpd,ltv,reasons,queue\n1,'=cmd|' /C calc'!A0,-5,-1.25,-3,\n2,L2,7,0.50,'@x,'+y\n"
	if string(got) != want {
		t.Errorf("ews.csv:\n%s\nwant\n%s", got, want)
	}
}
