// Package lake describes the on-disk layout of qiandun's Parquet lake and
// provides what every stage needs to use it: an embedded DuckDB opened with
// memory and spill limits, stage manifests, and atomic publication of files
// and directories (write to a temporary path, sync, rename).
//
// A lake table is the set of Parquet files <lake>/<table>/*.parquet; readers
// use Lake.Scan to get the DuckDB read_parquet expression for it.
package lake

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// Well-known sub-directories of a lake.
const (
	QuarantineDir = "_quarantine"
	ManifestDir   = "_manifests"
	TmpDir        = "_tmp"
)

// Lake is a lake rooted at a directory.
type Lake struct {
	Root string
}

// New returns the lake rooted at root. It does not touch the disk.
func New(root string) Lake { return Lake{Root: root} }

// TableDir returns the directory that holds a table's Parquet files.
// Nested derived tables use a slash, for example "perf/panel".
func (l Lake) TableDir(table string) string {
	return filepath.Join(l.Root, filepath.FromSlash(table))
}

// Glob returns the glob that matches every Parquet file of table.
func (l Lake) Glob(table string) string {
	return filepath.Join(l.TableDir(table), "*.parquet")
}

// Exists reports whether table has at least one Parquet file.
func (l Lake) Exists(table string) bool {
	m, _ := filepath.Glob(l.Glob(table))
	return len(m) > 0
}

// Scan returns a DuckDB table expression reading every Parquet file of
// table, or an error naming the table when it has none.
func (l Lake) Scan(table string) (string, error) {
	if !l.Exists(table) {
		return "", fmt.Errorf("lake %s: table %q has no Parquet files in %s (run the stage that writes it first)", l.Root, table, l.TableDir(table))
	}
	return fmt.Sprintf("read_parquet(%s)", Quote(l.Glob(table))), nil
}

// QuarantineDir returns where rejected rows of table are kept.
func (l Lake) QuarantineDir(table string) string {
	return filepath.Join(l.Root, QuarantineDir, table)
}

// TempDir creates a fresh temporary directory inside the lake, on the same
// file system as its final destination so that a rename publishes it.
func (l Lake) TempDir(pattern string) (string, error) {
	base := filepath.Join(l.Root, TmpDir)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("lake: create temp area: %w", err)
	}
	return os.MkdirTemp(base, pattern)
}

// Quote returns s as a single-quoted SQL string literal.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Ident returns s as a double-quoted SQL identifier.
func Ident(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// ParquetRows returns the number of rows of the Parquet file at path,
// from its footer.
func ParquetRows(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("lake: %w", err)
	}
	defer f.Close()
	r, err := file.NewParquetReader(f)
	if err != nil {
		return 0, fmt.Errorf("lake: %s: %w", path, err)
	}
	defer r.Close()
	return r.NumRows(), nil
}
