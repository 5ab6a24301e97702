// Package duckdbtest opens DuckDB connections for tests: one call in
// place of opening the database and its connection and closing both.
package duckdbtest

import (
	"context"
	"database/sql"
	"testing"

	"qiandun/data/lake"
)

// Conn returns a connection to a new in-memory DuckDB opened with o
// (lake.OpenDuckDB), closed when the test ends.
func Conn(t testing.TB, o lake.DBOptions) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	db, err := lake.OpenDuckDB(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
