package features

import (
	"context"
	"fmt"
	"testing"

	"qiandun/data/lake"
	"qiandun/internal/duckdbtest"
)

// TestCompressedGroups: while the groups database is in use, new tables go
// to it and the session's tables are read and dropped by name; a
// checkpoint holds its integer columns compressed; restoring detaches it
// (its tables with it) and returns the session to its database, once.
func TestCompressedGroups(t *testing.T) {
	ctx := context.Background()
	conn := duckdbtest.Conn(t, lake.DBOptions{MemoryLimit: "1GB", Threads: 2})
	b := NewBuilder(lake.New(t.TempDir()), Catalog{}, conn, nil)
	const rows = 4_000_000
	if err := b.exec(ctx, "spine", fmt.Sprintf("CREATE TABLE spine AS SELECT CAST(i AS INTEGER) AS k FROM range(%d) r(i)", rows)); err != nil {
		t.Fatal(err)
	}
	restore, err := b.compressedGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.exec(ctx, "group", "CREATE OR REPLACE TABLE g AS SELECT k, CAST(k % 7 AS INTEGER) AS x, CAST(k % 1000 AS INTEGER) AS y FROM spine"); err != nil {
		t.Fatal(err)
	}
	if err := b.drop(ctx, "spine"); err != nil {
		t.Fatal(err)
	}
	if err := b.exec(ctx, "compress", "CHECKPOINT "+groupsDB); err != nil {
		t.Fatal(err)
	}
	where := map[string]string{}
	rs, err := conn.QueryContext(ctx, "SELECT table_name, database_name FROM duckdb_tables()")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var tbl, dbName string
		if err := rs.Scan(&tbl, &dbName); err != nil {
			t.Fatal(err)
		}
		where[tbl] = dbName
	}
	rs.Close()
	if len(where) != 1 || where["g"] != groupsDB {
		t.Errorf("tables %v: want only g, in %s (the spine dropped by name)", where, groupsDB)
	}
	// Three INTEGER columns are 48 MB as plain vectors.
	var held int64
	if err := conn.QueryRowContext(ctx, "SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'").Scan(&held); err != nil {
		t.Fatal(err)
	}
	if plain := int64(rows * 3 * 4); held > plain/4 {
		t.Errorf("group table holds %d bytes after the checkpoint; plain it is %d", held, plain)
	}
	for range 2 {
		if err := restore(); err != nil {
			t.Fatal(err)
		}
	}
	var home string
	var attached int
	if err := conn.QueryRowContext(ctx, "SELECT current_database(), (SELECT count(*) FROM duckdb_databases() WHERE database_name = '"+groupsDB+"')").Scan(&home, &attached); err != nil {
		t.Fatal(err)
	}
	if home != "memory" || attached != 0 {
		t.Errorf("after restore: database %q, %s attached %d times", home, groupsDB, attached)
	}
	if err := b.exec(ctx, "after", "CREATE TABLE after AS SELECT 1 AS one"); err != nil {
		t.Fatal(err)
	}
}
