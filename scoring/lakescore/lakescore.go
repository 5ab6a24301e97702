// Package lakescore feeds the scores of a published score run back into
// the lake, as a table other stages read: the A-card score of every
// application (lake table scores_acard: application_id, score) is what
// the B-card feature acard_score_at_origination joins on.
//
// The table is replaced by one commit of the lake (lake.Commit, chain
// named for the table), so a reader sees the previous scores or the new
// ones, never a mix, and a crash leaves the previous ones.
package lakescore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"qiandun/data/lake"
)

// Options say which scores go where.
type Options struct {
	Run   string // published score run directory (holds scores.parquet)
	Lake  string // lake root
	Table string // lake table to replace, e.g. scores_acard
	Model string // model name whose rows are taken (the run may hold several)
	IDCol string // name of the entity id column in the table, e.g. application_id
	// MemoryLimit is DuckDB's memory_limit; empty or "auto" is 1GB (the
	// copy of one column pair needs little).
	MemoryLimit string
}

// Write replaces <lake>/<table>/ with one file, part-0.parquet: the
// model's rows of the run's scores.parquet as (IDCol VARCHAR, score
// INTEGER), sorted by id. It returns the row count and refuses a run
// without rows of that model.
func Write(ctx context.Context, o Options) (int64, error) {
	if o.Run == "" || o.Lake == "" || o.Table == "" || o.Model == "" || o.IDCol == "" {
		return 0, fmt.Errorf("lakescore: run, lake, table, model and id column are required")
	}
	src := filepath.Join(o.Run, "scores.parquet")
	if _, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("lakescore: %w", err)
	}
	l := lake.New(o.Lake)
	tmp, err := l.TempDir("lakescore-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	db, err := lake.OpenDuckDB(ctx, lake.DBOptions{MemoryLimit: memoryLimit(o.MemoryLimit), TempDir: tmp})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	c, err := l.Begin(strings.ReplaceAll(o.Table, "/", "_"))
	if err != nil {
		return 0, fmt.Errorf("lakescore: %w", err)
	}
	defer c.Abort()
	out, err := c.Dir(o.Table)
	if err != nil {
		return 0, fmt.Errorf("lakescore: %w", err)
	}
	sel := fmt.Sprintf("SELECT CAST(entity_id AS VARCHAR) AS %s, CAST(score AS INTEGER) AS score FROM read_parquet(%s) WHERE model = %s ORDER BY 1",
		lake.Ident(o.IDCol), lake.Quote(src), lake.Quote(o.Model))
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM ("+sel+")").Scan(&n); err != nil {
		return 0, fmt.Errorf("lakescore: %s: %w", src, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("lakescore: %s has no rows of model %q", src, o.Model)
	}
	if _, err := db.ExecContext(ctx, "COPY ("+sel+") TO "+lake.Quote(filepath.Join(out, "part-0.parquet"))+" (FORMAT parquet, COMPRESSION zstd)"); err != nil {
		return 0, fmt.Errorf("lakescore: write %s: %w", o.Table, err)
	}
	c.Mount(o.Table)
	if err := c.Commit(); err != nil {
		return 0, fmt.Errorf("lakescore: %w", err)
	}
	return n, nil
}

func memoryLimit(s string) string {
	if s == "" || s == "auto" {
		return "1GB"
	}
	return s
}
