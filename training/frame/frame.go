//go:build duckdb_arrow

package frame

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/duckdb/duckdb-go/v2"

	"qiandun/internal/arrowcol"
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

// builder gathers one column across batches.
type builder struct {
	name string
	kind binning.Kind
	num  []float64
	dict arrowcol.Dict
}

// add appends a batch's column through the column adapter: a numeric
// column's numbers (a text column declared numeric parsed), a categorical
// column's categories.
func (b *builder) add(a arrow.Array) error {
	if b.kind == binning.Categorical {
		b.dict.Append(a)
		return nil
	}
	if !arrowcol.Numeric(a.DataType()) {
		b.num = arrowcol.AppendParsed(b.num, a)
		return nil
	}
	var err error
	b.num, err = arrowcol.AppendFloats(b.num, a)
	return err
}

// Query runs query on conn and returns its columns; kinds overrides the
// kind of named columns.
func Query(ctx context.Context, conn *sql.Conn, query string, kinds map[string]binning.Kind) (*Frame, error) {
	f := &Frame{Cols: map[string]*binning.Column{}, Types: map[string]string{}, Skipped: map[string]string{}}
	var bs []*builder
	var use []int
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
		sch := rdr.Schema()
		for i, fld := range sch.Fields() {
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
				return err
			}
			rec := rdr.RecordBatch()
			f.N += int(rec.NumRows())
			for k, i := range use {
				if err := bs[k].add(rec.Column(i)); err != nil {
					return fmt.Errorf("column %s: %w", bs[k].name, err)
				}
			}
		}
		return rdr.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	for _, b := range bs {
		c := &binning.Column{Name: b.name, Kind: b.kind, Num: b.num, Codes: b.dict.Codes, Dict: b.dict.Values}
		if c.Kind == binning.Numeric && c.Num == nil {
			c.Num = []float64{}
		}
		if c.Kind == binning.Categorical && c.Codes == nil {
			c.Codes = []int32{}
		}
		f.Names = append(f.Names, b.name)
		f.Cols[b.name] = c
	}
	return f, nil
}
