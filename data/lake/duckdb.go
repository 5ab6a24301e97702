package lake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	_ "qiandun/internal/buildtag" // a build without the duckdb_arrow tag stops here
)

// DBOptions bound the resources an embedded DuckDB may use.
type DBOptions struct {
	// MemoryLimit is DuckDB's memory_limit, e.g. "3GB". Empty or "auto"
	// means DefaultMemoryLimit(), a share of the machine's memory; DuckDB
	// spills the rest to TempDir.
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
		o.MemoryLimit = "auto"
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
	if o.MemoryLimit == "auto" {
		o.MemoryLimit = DefaultMemoryLimit()
	}
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

// MemoryShare is the share of physical memory (or of the cgroup's memory
// limit, when lower) that DefaultMemoryLimit gives DuckDB. A stage's RSS
// runs above DuckDB's limit (Arrow buffers, Go heap, allocator slack,
// DuckDB's own allocations outside its buffer pool): on the 3M-loan book
// (24 GiB machine, a quarter then) ingest peaked at 8.2 GiB and features
// at 7.7 against a 6 GB limit. A fifth keeps a stage near 7 GiB there and
// leaves room for a second process.
const MemoryShare = 0.2

// DefaultMemoryLimit returns DuckDB's memory_limit when none is given:
// MemoryShare of the machine's physical memory, or of the cgroup (v2)
// memory limit when that is lower, in MB; "3GB" when neither can be read.
func DefaultMemoryLimit() string {
	total := physicalMemory()
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		var lim uint64
		if _, err := fmt.Sscan(string(b), &lim); err == nil && lim > 0 && (total == 0 || lim < total) {
			total = lim
		}
	}
	if total == 0 {
		return "3GB"
	}
	return fmt.Sprintf("%dMB", max(uint64(float64(total)*MemoryShare)>>20, 256))
}

// physicalMemory returns MemTotal of /proc/meminfo in bytes, 0 when it
// cannot be read (not Linux).
func physicalMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb uint64
			if _, err := fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
