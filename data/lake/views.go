package lake

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"qiandun/internal/durable"
)

// View is a lake table as a DuckDB view: its name (the table path with
// "_" for "/", e.g. perf_panel) and the table expression that reads it.
type View struct {
	Name string
	Dir  string // the table directory, relative to the lake root
	Expr string // read_parquet(...)
}

// Views finds every table of the lake: each directory that holds Parquet
// files directly, and each directory whose key=value sub-directories hold
// them (hive partitions, e.g. features/acard/as_of=2019-06-30/, read with
// hive_partitioning so the key is a column). Directories whose name starts
// with "_" or "." (quarantine, manifests, temp, keys) are not tables.
func (l Lake) Views() ([]View, error) {
	type tbl struct{ depth int }
	found := map[string]tbl{}
	// Mounted outputs are links into their commit's version: follow them.
	err := durable.WalkFiles(l.Root, func(p string, _ fs.FileInfo) error {
		name := filepath.Base(p)
		if !strings.HasSuffix(name, ".parquet") {
			return nil
		}
		dir, depth := filepath.Dir(p), 0
		for dir != l.Root && strings.Contains(filepath.Base(dir), "=") {
			dir, depth = filepath.Dir(dir), depth+1
		}
		if dir == l.Root {
			return nil // Parquet files at the root are not a table
		}
		rel, _ := filepath.Rel(l.Root, dir)
		if old, ok := found[rel]; ok && old.depth != depth {
			return fmt.Errorf("lake %s: table %s mixes partitioned and unpartitioned files", l.Root, rel)
		}
		found[rel] = tbl{depth}
		return nil
	})
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("lake %s: %w", l.Root, err)
		}
		return nil, err
	}
	var out []View
	for rel, t := range found {
		glob := filepath.Join(l.Root, rel, strings.Repeat("*"+string(filepath.Separator), t.depth)+"*.parquet")
		expr := fmt.Sprintf("read_parquet(%s)", Quote(glob))
		if t.depth > 0 {
			expr = fmt.Sprintf("read_parquet(%s, hive_partitioning = true)", Quote(glob))
		}
		out = append(out, View{Name: strings.ReplaceAll(filepath.ToSlash(rel), "/", "_"), Dir: filepath.ToSlash(rel), Expr: expr})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
