package csvsafe_test

import (
	"context"
	"database/sql"
	"testing"

	"qiandun/data/lake"
	"qiandun/internal/csvsafe"
)

// TestSQLMatchesCell: the DuckDB expression of SQL gives Cell's result for
// every case Cell's test knows, and NULL for NULL.
func TestSQLMatchesCell(t *testing.T) {
	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "256MB", Threads: 1, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{"", "plain", "张三", "=cmd|' /C calc'!A0", "+86 138", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "-inf",
		"-.", "-1e", "a=b", "-12.5", "+3", "-.5", "-5.", "-1e-3", "+2.5E+10", "12", "-1\n"} {
		var got string
		if err := db.QueryRow("SELECT "+csvsafe.SQL("$1::VARCHAR"), s).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := csvsafe.Cell(s); got != want {
			t.Errorf("SQL(%q) = %q, Cell gives %q", s, got, want)
		}
	}
	var null sql.NullString
	if err := db.QueryRow("SELECT " + csvsafe.SQL("CAST(NULL AS VARCHAR)")).Scan(&null); err != nil || null.Valid {
		t.Errorf("NULL gave %v (%v)", null, err)
	}
}
