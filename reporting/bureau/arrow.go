package bureau

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// batch is one Arrow record batch of a query's result, read by column
// index: text, integer (any width) and boolean columns, none NULL (the
// queries coalesce what may be).
type batch struct {
	rec  arrow.RecordBatch
	what string
}

type texts interface{ Value(int) string }

func (b batch) rows() int { return int(b.rec.NumRows()) }

func (b batch) notNull(i int) error {
	if n := b.rec.Column(i).NullN(); n > 0 {
		return fmt.Errorf("bureau: %s: column %s has %d NULLs", b.what, b.rec.ColumnName(i), n)
	}
	return nil
}

// str returns text column i.
func (b batch) str(i int) (texts, error) {
	if err := b.notNull(i); err != nil {
		return nil, err
	}
	if c, ok := b.rec.Column(i).(texts); ok {
		return c, nil
	}
	return nil, fmt.Errorf("bureau: %s: column %s is %s, not text", b.what, b.rec.ColumnName(i), b.rec.Column(i).DataType())
}

// ints returns integer column i as int64s.
func (b batch) ints(i int) ([]int64, error) {
	if err := b.notNull(i); err != nil {
		return nil, err
	}
	out := make([]int64, b.rows())
	switch c := b.rec.Column(i).(type) {
	case *array.Int64:
		copy(out, c.Int64Values())
	case *array.Int32:
		for k, v := range c.Int32Values() {
			out[k] = int64(v)
		}
	case *array.Int16:
		for k, v := range c.Int16Values() {
			out[k] = int64(v)
		}
	case *array.Int8:
		for k, v := range c.Int8Values() {
			out[k] = int64(v)
		}
	default:
		return nil, fmt.Errorf("bureau: %s: column %s is %s, not an integer", b.what, b.rec.ColumnName(i), c.DataType())
	}
	return out, nil
}

// bools returns boolean column i.
func (b batch) bools(i int) (*array.Boolean, error) {
	if err := b.notNull(i); err != nil {
		return nil, err
	}
	if c, ok := b.rec.Column(i).(*array.Boolean); ok {
		return c, nil
	}
	return nil, fmt.Errorf("bureau: %s: column %s is %s, not boolean", b.what, b.rec.ColumnName(i), b.rec.Column(i).DataType())
}

// scanArrow runs query on conn (its temp tables visible) and hands each
// result batch to fn, columns crossing as Arrow arrays rather than row
// by row through database/sql.
func scanArrow(ctx context.Context, conn *sql.Conn, what, query string, fn func(batch) error) error {
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
		for rdr.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(batch{rec: rdr.RecordBatch(), what: what}); err != nil {
				return err
			}
		}
		return rdr.Err()
	})
	if err != nil {
		return fmt.Errorf("bureau: %s: %w", what, err)
	}
	return nil
}
