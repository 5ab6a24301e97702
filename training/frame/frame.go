//go:build duckdb_arrow

package frame

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/duckdb/duckdb-go/v2"

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

type builder struct {
	name  string
	kind  binning.Kind
	num   []float64
	codes []int32
	dict  []string
	index map[string]int32
}

func (b *builder) addString(s string, null bool) {
	if b.kind == binning.Numeric {
		if null || s == "" {
			b.num = append(b.num, math.NaN())
			return
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			v = math.NaN()
		}
		b.num = append(b.num, v)
		return
	}
	if null {
		b.codes = append(b.codes, -1)
		return
	}
	k, ok := b.index[s]
	if !ok {
		s = strings.Clone(s) // Arrow strings alias the batch's buffers
		k = int32(len(b.dict))
		b.index[s] = k
		b.dict = append(b.dict, s)
	}
	b.codes = append(b.codes, k)
}

func (b *builder) addNum(v float64, null bool) {
	if b.kind == binning.Categorical {
		b.addString(strconv.FormatFloat(v, 'f', -1, 64), null)
		return
	}
	if null {
		v = math.NaN()
	}
	b.num = append(b.num, v)
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

func decimalFloat(n decimal128.Num, scale int32) float64 {
	hi, lo := n.HighBits(), n.LowBits()
	if (hi == 0 && lo < 1<<53) || (hi == -1 && lo >= 1<<64-1<<53) {
		if scale >= 0 && int(scale) < len(pow10) {
			return float64(int64(lo)) / pow10[scale]
		}
	}
	return n.ToFloat64(scale)
}

func numericType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128:
		return true
	}
	return false
}

func stringType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BOOL:
		return true
	}
	return false
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
			case numericType(fld.Type):
				kind = binning.Numeric
			case stringType(fld.Type):
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
			bs = append(bs, &builder{name: fld.Name, kind: kind, index: map[string]int32{}})
			use = append(use, i)
		}
		for rdr.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec := rdr.RecordBatch()
			f.N += int(rec.NumRows())
			for k, i := range use {
				if err := appendArray(bs[k], rec.Column(i)); err != nil {
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
		c := &binning.Column{Name: b.name, Kind: b.kind, Num: b.num, Codes: b.codes, Dict: b.dict}
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

func appendArray(b *builder, a arrow.Array) error {
	n := a.Len()
	switch x := a.(type) {
	case *array.Float64:
		for i := 0; i < n; i++ {
			b.addNum(x.Value(i), x.IsNull(i))
		}
	case *array.Float32:
		for i := 0; i < n; i++ {
			b.addNum(float64(x.Value(i)), x.IsNull(i))
		}
	case *array.Int64:
		for i := 0; i < n; i++ {
			b.addNum(float64(x.Value(i)), x.IsNull(i))
		}
	case *array.Int32:
		for i := 0; i < n; i++ {
			b.addNum(float64(x.Value(i)), x.IsNull(i))
		}
	case *array.Int16:
		for i := 0; i < n; i++ {
			b.addNum(float64(x.Value(i)), x.IsNull(i))
		}
	case *array.Int8:
		for i := 0; i < n; i++ {
			b.addNum(float64(x.Value(i)), x.IsNull(i))
		}
	case *array.Uint64:
		for i := 0; i < n; i++ {
			b.addNum(float64(x.Value(i)), x.IsNull(i))
		}
	case *array.Uint32:
		for i := 0; i < n; i++ {
			b.addNum(float64(x.Value(i)), x.IsNull(i))
		}
	case *array.Uint16:
		for i := 0; i < n; i++ {
			b.addNum(float64(x.Value(i)), x.IsNull(i))
		}
	case *array.Uint8:
		for i := 0; i < n; i++ {
			b.addNum(float64(x.Value(i)), x.IsNull(i))
		}
	case *array.Decimal128:
		scale := x.DataType().(*arrow.Decimal128Type).Scale
		for i := 0; i < n; i++ {
			if b.kind == binning.Categorical {
				b.addString(x.Value(i).ToString(scale), x.IsNull(i))
				continue
			}
			b.addNum(decimalFloat(x.Value(i), scale), x.IsNull(i))
		}
	case *array.Boolean:
		for i := 0; i < n; i++ {
			b.addString(strconv.FormatBool(x.Value(i)), x.IsNull(i))
		}
	case interface {
		arrow.Array
		Value(int) string
	}:
		for i := 0; i < n; i++ {
			b.addString(x.Value(i), x.IsNull(i))
		}
	default:
		for i := 0; i < n; i++ {
			b.addString(a.ValueStr(i), a.IsNull(i))
		}
	}
	return nil
}
