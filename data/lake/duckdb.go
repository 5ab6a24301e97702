package lake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/duckdb/duckdb-go/v2"

	_ "qiandun/internal/buildtag" // a build without the duckdb_arrow tag stops here
)

// DBOptions bound the resources an embedded DuckDB may use.
type DBOptions struct {
	// MemoryLimit is DuckDB's memory_limit, e.g. "3GB". Empty means 3GB,
	// which keeps a stage well under 4 GiB RSS on the 24 GiB CI machine
	// while DuckDB spills the rest to TempDir.
	MemoryLimit string
	// TempDir is where DuckDB spills. Empty means <lake>/_tmp/duckdb.
	TempDir string
	// Threads is DuckDB's thread count; 0 means runtime.NumCPU().
	Threads int
}

// OpenDB opens an in-memory DuckDB with the given limits and with views
// for nothing: callers reference lake tables through Lake.Scan. The caller
// closes the returned DB.
func (l Lake) OpenDB(ctx context.Context, o DBOptions) (*sql.DB, error) {
	if o.MemoryLimit == "" {
		o.MemoryLimit = "3GB"
	}
	if o.TempDir == "" {
		o.TempDir = filepath.Join(l.Root, TmpDir, "duckdb")
	}
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	if err := os.MkdirAll(o.TempDir, 0o755); err != nil {
		return nil, fmt.Errorf("duckdb temp dir: %w", err)
	}
	return OpenDuckDB(ctx, o)
}

// OpenDuckDB opens an in-memory DuckDB with the given limits; o.TempDir
// must be set (or empty to use DuckDB's default).
func OpenDuckDB(ctx context.Context, o DBOptions) (*sql.DB, error) {
	init := []string{"SET preserve_insertion_order = true"}
	if o.MemoryLimit != "" {
		init = append(init, "SET memory_limit = "+Quote(o.MemoryLimit))
	}
	if o.TempDir != "" {
		init = append(init, "SET temp_directory = "+Quote(o.TempDir))
	}
	if o.Threads > 0 {
		init = append(init, fmt.Sprintf("SET threads = %d", o.Threads))
	}
	conn, err := duckdb.NewConnector("", func(ex driver.ExecerContext) error {
		for _, q := range init {
			if _, err := ex.ExecContext(ctx, q, nil); err != nil {
				return fmt.Errorf("duckdb %s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	db := sql.OpenDB(conn)
	// One connection: an in-memory database is per connector, and temp
	// tables and views must be visible to every statement of a stage.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	return db, nil
}
