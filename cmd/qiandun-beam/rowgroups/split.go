package rowgroups

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"

	"qiandun/data/lake"
)

// File is one Parquet file of a lake table and its number of row groups:
// the element of the pipelines' reading DoFns.
type File struct {
	Table     string
	Path      string
	RowGroups int
}

// Files lists the Parquet files of the lake's tables, each table's in
// path order, with their row groups. A table of required without a file
// is an error (run ingest first); the others read as empty.
func Files(l lake.Lake, tables []string, required ...string) ([]File, error) {
	var files []File
	for _, t := range tables {
		paths, _ := filepath.Glob(l.Glob(t))
		if len(paths) == 0 && slices.Contains(required, t) {
			return nil, fmt.Errorf("lake %s has no %s table at %s (run `qiandun ingest` first)", l.Root, t, l.TableDir(t))
		}
		sort.Strings(paths)
		for _, p := range paths {
			n, err := Count(p)
			if err != nil {
				return nil, err
			}
			files = append(files, File{Table: t, Path: p, RowGroups: n})
		}
	}
	return files, nil
}

// Splitter gives a splittable DoFn over Files its restriction methods: a
// file's restriction is the offset range of its row groups, split one
// row group a piece. Embed it in the DoFn and read with ReadClaimed.
type Splitter struct{}

// CreateInitialRestriction is the file's row groups [0, n).
func (Splitter) CreateInitialRestriction(f File) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: int64(f.RowGroups)}
}

// SplitRestriction splits the range into one row group per piece.
func (Splitter) SplitRestriction(_ File, rest offsetrange.Restriction) []offsetrange.Restriction {
	return rest.SizedSplits(1)
}

// RestrictionSize is the number of row groups.
func (Splitter) RestrictionSize(_ File, rest offsetrange.Restriction) float64 { return rest.Size() }

// CreateTracker tracks the range (thread-safely, as Beam requires).
func (Splitter) CreateTracker(rest offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(rest))
}

// ReadClaimed reads, as Read does, each row group of f that rt lets the
// DoFn claim, passing fn the row group's number with each batch.
func ReadClaimed(ctx context.Context, rt *sdf.LockRTracker, f File, cols []string, batch int64, fn func(rg int, rec arrow.RecordBatch) error) error {
	for rg := rt.GetRestriction().(offsetrange.Restriction).Start; rt.TryClaim(rg); rg++ {
		if err := Read(ctx, f.Path, int(rg), cols, batch, func(rec arrow.RecordBatch) error { return fn(int(rg), rec) }); err != nil {
			return err
		}
	}
	return nil
}
