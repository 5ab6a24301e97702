//go:build duckdb_arrow

package frame

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// countingReader is an array.RecordReader of n one-row batches holding
// 0, 1, ..., n−1 that counts how many it has handed out.
type countingReader struct {
	array.RecordReader
	fetched int
}

func (c *countingReader) Next() bool {
	ok := c.RecordReader.Next()
	if ok {
		c.fetched++
	}
	return ok
}

func newCountingReader(t *testing.T, n int) *countingReader {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var recs []arrow.RecordBatch
	for i := range n {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		b.Append(int64(i))
		col := b.NewArray()
		recs = append(recs, array.NewRecordBatch(schema, []arrow.Array{col}, 1))
		col.Release()
		b.Release()
	}
	rdr, err := array.NewRecordReader(schema, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Release()
	}
	return &countingReader{RecordReader: rdr}
}

func TestConvertAll(t *testing.T) {
	const n = 1000
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		failAt  int // batch whose add fails; -1 none
		want    error
		wantAll bool // every batch fetched
	}{
		{"all in order", -1, nil, true},
		{"add fails: stops fetching", 10, boom, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdr := newCountingReader(t, n)
			defer rdr.Release()
			var got []int64
			err := convertAll(context.Background(), rdr, func(rec arrow.RecordBatch) error {
				v := rec.Column(0).(*array.Int64).Value(0)
				if int(v) == tc.failAt {
					return boom
				}
				got = append(got, v)
				return nil
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			wantN := n
			if tc.failAt >= 0 {
				wantN = tc.failAt
			}
			if len(got) != wantN {
				t.Fatalf("%d batches added, want %d", len(got), wantN)
			}
			for i, v := range got {
				if v != int64(i) {
					t.Fatalf("batch %d holds %d: out of order", i, v)
				}
			}
			if all := rdr.fetched == n; all != tc.wantAll {
				t.Errorf("fetched %d of %d batches", rdr.fetched, n)
			}
		})
	}
}

func TestConvertAllCancelled(t *testing.T) {
	rdr := newCountingReader(t, 100)
	defer rdr.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := convertAll(ctx, rdr, func(arrow.RecordBatch) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}
