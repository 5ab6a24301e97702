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

// builder gathers one column across batches: each batch's values are
// converted into a chunk of their own, and the chunks are joined once
// into a slice of the exact length at the end (appending to one growing
// slice copies and faults in every value several times over: Go grows a
// large slice by a quarter at a time).
type builder struct {
	name   string
	kind   binning.Kind
	chunks [][]float64
	codes  [][]int32
	dict   arrowcol.Dict
}

// add converts a batch's column through the column adapter: a numeric
// column's numbers (a text column declared numeric parsed), a categorical
// column's categories.
func (b *builder) add(a arrow.Array) error {
	if b.kind == binning.Categorical {
		b.dict.Codes = b.dict.Codes[:0] // the codes of this batch only
		b.dict.Append(a)
		b.codes = append(b.codes, slices.Clone(b.dict.Codes))
		return nil
	}
	dst := make([]float64, 0, a.Len())
	if !arrowcol.Numeric(a.DataType()) {
		b.chunks = append(b.chunks, arrowcol.AppendParsed(dst, a))
		return nil
	}
	dst, err := arrowcol.AppendFloats(dst, a)
	b.chunks = append(b.chunks, dst)
	return err
}

// column joins the chunks into the column of n rows.
func (b *builder) column(n int) *binning.Column {
	c := &binning.Column{Name: b.name, Kind: b.kind, Dict: b.dict.Values}
	if b.kind == binning.Categorical {
		c.Codes = join(b.codes, n)
	} else {
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
		f, err = read(ctx, rdr, kinds)
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
func Stream(ctx context.Context, o duckstream.Options, query string, kinds map[string]binning.Kind) (*Frame, error) {
	rdr, err := duckstream.Query(ctx, o, query)
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	defer rdr.Close()
	f, err := read(ctx, rdr, kinds)
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	return f, nil
}

// read takes every batch of rdr into columns.
func read(ctx context.Context, rdr array.RecordReader, kinds map[string]binning.Kind) (*Frame, error) {
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
		bs = append(bs, &builder{name: fld.Name, kind: kind})
		use = append(use, i)
	}
	for rdr.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec := rdr.RecordBatch()
		f.N += int(rec.NumRows())
		for k, i := range use {
			if err := bs[k].add(rec.Column(i)); err != nil {
				return nil, fmt.Errorf("column %s: %w", bs[k].name, err)
			}
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, err
	}
	for _, b := range bs {
		f.Names = append(f.Names, b.name)
		f.Cols[b.name] = b.column(f.N)
		b.chunks, b.codes = nil, nil
	}
	return f, nil
}
