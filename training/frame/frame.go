//go:build duckdb_arrow

package frame

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"

	"qiandun/internal/arrowcol"
	"qiandun/internal/duckstream"
	"qiandun/internal/hugepage"
	"qiandun/training/binning"
)

// Frame is a query result as columns.
type Frame struct {
	Names   []string                   // usable columns in query order
	Cols    map[string]*binning.Column // by name
	Types   map[string]string          // Arrow type of each column
	Skipped map[string]string          // unusable columns and their type
	N       int
}

// builder gathers one column across batches. With a row-count hint it
// converts every batch straight into one slice of that capacity (growing
// it only if the hint falls short). Without one, each batch's values go
// into a chunk of their own, joined once into a slice of the exact length
// at the end: appending to one growing slice copies and faults in every
// value several times over (Go grows a large slice by a quarter at a
// time).
type builder struct {
	name   string
	kind   binning.Kind
	hint   int
	num    []float64 // with a hint
	chunks [][]float64
	codes  [][]int32
	dict   arrowcol.Dict
}

// add converts a batch's column through the column adapter: a numeric
// column's numbers (a text column declared numeric parsed), a categorical
// column's categories.
func (b *builder) add(a arrow.Array) error {
	if b.kind == binning.Categorical {
		if b.hint > 0 {
			if b.dict.Codes == nil {
				b.dict.Codes = hugepage.Make[int32](0, b.hint)
			}
			b.dict.Append(a)
			return nil
		}
		b.dict.Codes = b.dict.Codes[:0] // the codes of this batch only
		b.dict.Append(a)
		b.codes = append(b.codes, slices.Clone(b.dict.Codes))
		return nil
	}
	if b.hint > 0 && b.num == nil {
		b.num = hugepage.Make[float64](0, b.hint)
	}
	dst := b.num
	if b.hint <= 0 {
		dst = make([]float64, 0, a.Len())
	}
	var err error
	if !arrowcol.Numeric(a.DataType()) {
		dst = arrowcol.AppendParsed(dst, a)
	} else {
		dst, err = arrowcol.AppendFloats(dst, a)
	}
	if b.hint > 0 {
		b.num = dst
	} else {
		b.chunks = append(b.chunks, dst)
	}
	return err
}

// column returns the column of n rows.
func (b *builder) column(n int) *binning.Column {
	c := &binning.Column{Name: b.name, Kind: b.kind, Dict: b.dict.Values}
	switch {
	case b.kind == binning.Categorical && b.hint > 0:
		c.Codes = b.dict.Codes
		if c.Codes == nil {
			c.Codes = []int32{}
		}
	case b.kind == binning.Categorical:
		c.Codes = join(b.codes, n)
	case b.hint > 0:
		c.Num = b.num
		if c.Num == nil {
			c.Num = []float64{}
		}
	default:
		c.Num = join(b.chunks, n)
	}
	return c
}

// join concatenates chunks into one slice of capacity n.
func join[T any](chunks [][]T, n int) []T {
	out := make([]T, 0, n)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}

// Query runs query on conn and returns its columns; kinds overrides the
// kind of named columns. duckdb-go materializes the whole result in
// DuckDB before the first batch reaches Go; Stream does not.
func Query(ctx context.Context, conn *sql.Conn, query string, kinds map[string]binning.Kind) (*Frame, error) {
	var f *Frame
	err := conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rdr.Release()
		f, err = read(ctx, rdr, kinds, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	return f, nil
}

// Stream is Query on a private DuckDB (duckstream, with o) whose result
// streams to Go while DuckDB reads: never materialized in DuckDB, and
// with its numeric columns handed over without DuckDB's Arrow
// conversion. The query must be self-contained (it may read files, not
// the views of another connection).
//
// rows, when positive, is about how many rows to expect (a little more is
// better than a little less): the columns are then converted straight
// into slices of that capacity.
func Stream(ctx context.Context, o duckstream.Options, query string, kinds map[string]binning.Kind, rows int) (*Frame, error) {
	rdr, err := duckstream.Query(ctx, o, query)
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	defer rdr.Close()
	f, err := read(ctx, rdr, kinds, rows)
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	return f, nil
}

// read takes every batch of rdr into columns.
func read(ctx context.Context, rdr array.RecordReader, kinds map[string]binning.Kind, hint int) (*Frame, error) {
	f := &Frame{Cols: map[string]*binning.Column{}, Types: map[string]string{}, Skipped: map[string]string{}}
	var bs []*builder
	var use []int
	for i, fld := range rdr.Schema().Fields() {
		f.Types[fld.Name] = fld.Type.String()
		var kind binning.Kind
		switch {
		case arrowcol.Numeric(fld.Type):
			kind = binning.Numeric
		case arrowcol.Text(fld.Type):
			kind = binning.Categorical
		default:
			if _, ok := kinds[fld.Name]; !ok {
				f.Skipped[fld.Name] = fld.Type.String()
				continue
			}
		}
		if k, ok := kinds[fld.Name]; ok {
			kind = k
		}
		bs = append(bs, &builder{name: fld.Name, kind: kind, hint: hint})
		use = append(use, i)
	}
	if err := convertAll(ctx, rdr, func(rec arrow.RecordBatch) error {
		f.N += int(rec.NumRows())
		for k, i := range use {
			if err := bs[k].add(rec.Column(i)); err != nil {
				return fmt.Errorf("column %s: %w", bs[k].name, err)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, b := range bs {
		f.Names = append(f.Names, b.name)
		f.Cols[b.name] = b.column(f.N)
		b.chunks, b.codes, b.num = nil, nil, nil
	}
	return f, nil
}

// convertAll calls add with each batch of rdr, in order, on a goroutine
// of its own, and stops at add's first error. The fetching goroutine
// drives DuckDB (a streaming result runs the query's tasks on the thread
// that fetches whenever its buffer has room), so the query goes on while
// the batches before it convert; on one goroutine the two took turns.
func convertAll(ctx context.Context, rdr array.RecordReader, add func(arrow.RecordBatch) error) error {
	batches := make(chan arrow.RecordBatch, 64)
	failed := make(chan struct{}) // closed on add's error
	var addErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for rec := range batches {
			if addErr == nil {
				if addErr = add(rec); addErr != nil {
					close(failed)
				}
			}
			rec.Release()
		}
	}()
	err := fetchAll(ctx, rdr, batches, failed)
	close(batches)
	<-done
	if addErr != nil {
		return addErr
	}
	return err
}

// fetchAll sends rdr's batches, retained, to batches until the end, an
// error, the end of ctx or failed closing.
func fetchAll(ctx context.Context, rdr array.RecordReader, batches chan<- arrow.RecordBatch, failed <-chan struct{}) error {
	for rdr.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec := rdr.RecordBatch()
		rec.Retain()
		select {
		case batches <- rec:
		case <-failed:
			rec.Release()
			return nil
		}
	}
	return rdr.Err()
}
