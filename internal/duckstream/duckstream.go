//go:build duckdb_arrow

// Package duckstream runs one query on a private in-memory DuckDB and
// streams its result to Go as Arrow record batches while DuckDB is still
// executing it.
//
// database/sql and duckdb-go's Arrow interface materialize a query's whole
// result before the first row reaches Go: for a 5M-row scan of 21 columns
// that is a gigabyte of memory and about half the CPU of the scan. A
// streaming result reads the Parquet files only as fast as Go takes the
// batches, in a few megabytes. The query must be self-contained (it may
// read files, not the temp tables of another connection).
//
// It uses duckdb_pending_prepared_streaming, which DuckDB's C API marks
// deprecated but still ships; it is the C API's only streaming result.
package duckstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	bindings "github.com/duckdb/duckdb-go-bindings"
)

// Options configure the private database.
type Options struct {
	Threads     int    // DuckDB threads; 0 = DuckDB's default (the cores)
	MemoryLimit string // e.g. "1GB"; empty = DuckDB's default
	TempDir     string // spill directory; empty = DuckDB's default
	// StreamBuffer is how much of the result DuckDB's threads may run
	// ahead of the reader (DuckDB's streaming_buffer_size, e.g. "64MB");
	// empty = DuckDB's default, under a megabyte.
	StreamBuffer string
}

// Reader is a streaming query result. It implements array.RecordReader;
// Release (or Close) frees the database. Record batches are DuckDB's
// vectors (2,048 rows), in the query's order.
//
// When every column is a number, a DATE or a VARCHAR, Reader builds the
// batches itself rather than through DuckDB's Arrow conversion, which
// costs more than the scan: numeric and date columns and all validity
// masks are DuckDB's own memory, shared (the chunk is freed when the last
// array using it is released), and VARCHARs are copied into Arrow
// strings. Other types go through DuckDB's conversion.
type Reader struct {
	ctx    context.Context
	schema *arrow.Schema
	refs   atomic.Int64

	mu     sync.Mutex
	db     bindings.Database
	conn   bindings.Connection
	stmt   bindings.PreparedStatement
	pend   bindings.PendingResult
	res    bindings.Result
	opts   bindings.ArrowOptions
	rec    arrow.RecordBatch
	err    error
	done   bool
	closed bool
	stop   func() bool
	direct []arrow.DataType // per column, when Reader converts chunks itself
	bufs   bufPool

	// The database outlives its chunks (their memory is its allocator's):
	// one reference for the open reader, one per chunk still shared; the
	// last to go closes it.
	dbRefs atomic.Int64

	connMu sync.Mutex // guards conn against an interrupt racing close
}

var _ array.RecordReader = (*Reader)(nil)

// Query opens a private DuckDB with o, starts q and returns its stream.
// Cancelling ctx interrupts the query; Next then returns false and Err
// the context's error.
func Query(ctx context.Context, o Options, q string) (*Reader, error) {
	r := &Reader{ctx: ctx}
	r.refs.Store(1)
	r.dbRefs.Store(1)
	if err := r.open(o, q); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *Reader) open(o Options, q string) error {
	var cfg bindings.Config
	if bindings.CreateConfig(&cfg) == bindings.StateError {
		return errors.New("duckstream: create config")
	}
	defer bindings.DestroyConfig(&cfg)
	set := map[string]string{"preserve_insertion_order": "true"}
	if o.Threads > 0 {
		set["threads"] = fmt.Sprint(o.Threads)
	}
	if o.MemoryLimit != "" {
		set["memory_limit"] = o.MemoryLimit
	}
	if o.TempDir != "" {
		set["temp_directory"] = o.TempDir
	}
	for k, v := range set {
		if bindings.SetConfig(cfg, k, v) == bindings.StateError {
			return fmt.Errorf("duckstream: set %s = %q", k, v)
		}
	}
	var msg string
	if bindings.OpenExt("", &r.db, cfg, &msg) == bindings.StateError {
		return fmt.Errorf("duckstream: open: %s", msg)
	}
	if bindings.Connect(r.db, &r.conn) == bindings.StateError {
		return errors.New("duckstream: connect")
	}
	if o.StreamBuffer != "" { // a session setting, not a database one
		var res bindings.Result
		st := bindings.Query(r.conn, "SET streaming_buffer_size = '"+strings.ReplaceAll(o.StreamBuffer, "'", "''")+"'", &res)
		msg := bindings.ResultError(&res)
		bindings.DestroyResult(&res)
		if st == bindings.StateError {
			return fmt.Errorf("duckstream: streaming_buffer_size %q: %s", o.StreamBuffer, msg)
		}
	}
	// From here on cancelling ctx interrupts the query: DuckDB may run
	// its blocking phases (a sort) inside ExecutePending.
	r.stop = context.AfterFunc(r.ctx, func() {
		r.connMu.Lock()
		defer r.connMu.Unlock()
		if r.conn.Ptr != nil {
			bindings.Interrupt(r.conn)
		}
	})
	if bindings.Prepare(r.conn, q, &r.stmt) == bindings.StateError {
		return errors.New(bindings.PrepareError(r.stmt))
	}
	if bindings.PendingPreparedStreaming(r.stmt, &r.pend) == bindings.StateError {
		return errors.New(bindings.PendingError(r.pend))
	}
	if bindings.ExecutePending(r.pend, &r.res) == bindings.StateError {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		return resultError(bindings.ResultError(&r.res))
	}
	r.opts = bindings.ResultGetArrowOptions(&r.res)
	n := bindings.ColumnCount(&r.res)
	names := make([]string, n)
	types := make([]bindings.LogicalType, n)
	for i := range n {
		names[i] = bindings.ColumnName(&r.res, i)
		types[i] = bindings.ColumnLogicalType(&r.res, i)
	}
	defer func() {
		for i := range types {
			bindings.DestroyLogicalType(&types[i])
		}
	}()
	direct := make([]arrow.DataType, n)
	fields := make([]arrow.Field, n)
	for i := range n {
		direct[i] = directType(bindings.GetTypeId(types[i]))
		if direct[i] == nil {
			direct = nil
			break
		}
		fields[i] = arrow.Field{Name: names[i], Type: direct[i], Nullable: true}
	}
	if direct != nil {
		r.direct, r.schema = direct, arrow.NewSchema(fields, nil)
		return nil
	}
	schema, ed := bindings.NewArrowSchema(r.opts, types, names)
	if err := dataError(ed); err != nil {
		return fmt.Errorf("duckstream: arrow schema: %w", err)
	}
	r.schema = schema
	return nil
}

// directType is the Arrow type of a DuckDB type Reader converts itself,
// or nil.
func directType(t bindings.Type) arrow.DataType {
	switch t {
	case bindings.TypeDouble:
		return arrow.PrimitiveTypes.Float64
	case bindings.TypeFloat:
		return arrow.PrimitiveTypes.Float32
	case bindings.TypeTinyInt:
		return arrow.PrimitiveTypes.Int8
	case bindings.TypeSmallInt:
		return arrow.PrimitiveTypes.Int16
	case bindings.TypeInteger:
		return arrow.PrimitiveTypes.Int32
	case bindings.TypeBigInt:
		return arrow.PrimitiveTypes.Int64
	case bindings.TypeUTinyInt:
		return arrow.PrimitiveTypes.Uint8
	case bindings.TypeUSmallInt:
		return arrow.PrimitiveTypes.Uint16
	case bindings.TypeUInteger:
		return arrow.PrimitiveTypes.Uint32
	case bindings.TypeUBigInt:
		return arrow.PrimitiveTypes.Uint64
	case bindings.TypeDate:
		return arrow.FixedWidthTypes.Date32
	case bindings.TypeVarchar:
		return arrow.BinaryTypes.String
	}
	return nil
}

// chunkRef frees a DuckDB data chunk when the last Arrow buffer sharing
// its memory is released (it is those buffers' allocator).
type chunkRef struct {
	refs  atomic.Int32
	chunk bindings.DataChunk
	r     *Reader
}

func (c *chunkRef) Allocate(int) []byte           { panic("duckstream: chunk memory is not allocated") }
func (c *chunkRef) Reallocate(int, []byte) []byte { panic("duckstream: chunk memory is not allocated") }
func (c *chunkRef) Free([]byte)                   { c.release() }

func (c *chunkRef) release() {
	if c.refs.Add(-1) == 0 {
		bindings.DestroyDataChunk(&c.chunk)
		c.r.unref()
	}
}

// share wraps n bytes of the chunk's memory at p as an Arrow buffer.
func (c *chunkRef) share(p unsafe.Pointer, n int) *memory.Buffer {
	c.refs.Add(1)
	return memory.NewBufferWithAllocator(unsafe.Slice((*byte)(p), n), c)
}

// convert builds the record batch of a chunk (see Reader); it owns chunk.
func (r *Reader) convert(chunk bindings.DataChunk) arrow.RecordBatch {
	n := int(bindings.DataChunkGetSize(chunk))
	ref := &chunkRef{chunk: chunk, r: r}
	ref.refs.Store(1) // convert's own, released at the end
	r.dbRefs.Add(1)
	defer ref.release()
	cols := make([]arrow.Array, len(r.direct))
	for c, t := range r.direct {
		vec := bindings.DataChunkGetVector(chunk, bindings.IdxT(c))
		data := bindings.VectorGetData(vec)
		mask := bindings.VectorGetValidity(vec) // nil: no NULLs
		var valid *memory.Buffer
		if mask != nil {
			// DuckDB's validity words are little-endian uint64 with row i
			// at bit i: Arrow's bitmap layout.
			valid = ref.share(mask, (n+7)/8)
		}
		var values, offsets *memory.Buffer
		if t.ID() == arrow.STRING {
			offsets, values = r.strings(data, mask, n)
		} else {
			values = ref.share(data, n*t.(arrow.FixedWidthDataType).Bytes())
		}
		bufs := []*memory.Buffer{valid, values}
		if offsets != nil {
			bufs = []*memory.Buffer{valid, offsets, values}
		}
		nulls := 0
		if valid != nil {
			nulls = array.UnknownNullCount
		}
		d := array.NewData(t, n, bufs, nil, nulls, 0)
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
		cols[c] = array.MakeFromData(d)
		d.Release()
	}
	rec := array.NewRecordBatch(r.schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// strings copies a VARCHAR vector (duckdb_string_t values: the length,
// then the bytes inline when at most 12, else a 4-byte prefix and a
// pointer) into Arrow offsets and values.
func (r *Reader) strings(data, mask unsafe.Pointer, n int) (offsets, values *memory.Buffer) {
	offs := r.bufs.get((n + 1) * 4)
	off := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(offs))), n+1)
	vals := r.bufs.get(0)
	var valid []uint64
	if mask != nil {
		valid = unsafe.Slice((*uint64)(mask), (n+63)/64)
	}
	off[0] = 0
	at := 0
	for i := range n {
		if valid == nil || valid[i>>6]&(1<<(i&63)) != 0 {
			p := unsafe.Add(data, i*16)
			l := int(*(*uint32)(p))
			if at+max(l, 12) > cap(vals) {
				vals = slices.Grow(vals[:at], max(l, 12)+cap(vals))
			}
			buf := vals[:cap(vals)]
			if l <= 12 {
				// All 12 inline bytes in one fixed-size move (short
				// strings are the common case; memmove calls cost more).
				*(*[12]byte)(buf[at : at+12]) = *(*[12]byte)(unsafe.Add(p, 4))
			} else {
				copy(buf[at:], unsafe.Slice(*(**byte)(unsafe.Add(p, 8)), l))
			}
			at += l
		}
		off[i+1] = int32(at)
	}
	return memory.NewBufferWithAllocator(offs, &r.bufs), memory.NewBufferWithAllocator(vals[:at], &r.bufs)
}

// bufPool recycles the Go memory of converted strings: it is the
// allocator of their buffers, which hand it back on release.
type bufPool struct{ p sync.Pool }

func (b *bufPool) get(n int) []byte {
	if s, ok := b.p.Get().(*[]byte); ok && cap(*s) >= n {
		return (*s)[:n]
	}
	return make([]byte, n, max(n, 16<<10))
}

func (b *bufPool) Allocate(n int) []byte { return b.get(n) }
func (b *bufPool) Reallocate(n int, old []byte) []byte {
	s := b.get(n)
	copy(s, old)
	b.Free(old)
	return s
}
func (b *bufPool) Free(s []byte) {
	s = s[:0]
	b.p.Put(&s)
}

// pendingWrapper is what DuckDB puts before the error of a streaming
// query that failed while it ran: it says only that the query failed.
const pendingWrapper = "Invalid Input Error: Attempting to execute an unsuccessful or closed pending query result\nError: "

// resultError is the error of a failed result's message, without
// pendingWrapper: the reason (a CSV error and its line) comes first.
func resultError(msg string) error {
	return errors.New(strings.TrimPrefix(msg, pendingWrapper))
}

func dataError(ed bindings.ErrorData) error {
	defer bindings.DestroyErrorData(&ed)
	if !bindings.ErrorDataHasError(ed) {
		return nil
	}
	return errors.New(bindings.ErrorDataMessage(ed))
}

// Schema is the result's Arrow schema.
func (r *Reader) Schema() *arrow.Schema { return r.schema }

// Next fetches the next record batch; false at the end or on error.
func (r *Reader) Next() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	if r.done || r.err != nil {
		return false
	}
	chunk := bindings.FetchChunk(r.res)
	if chunk.Ptr == nil {
		r.done = true
		if err := r.ctx.Err(); err != nil {
			r.err = err
		} else if msg := bindings.ResultError(&r.res); msg != "" {
			r.err = resultError(msg)
		}
		return false
	}
	if r.direct != nil {
		r.rec = r.convert(chunk)
		return true
	}
	defer bindings.DestroyDataChunk(&chunk)
	rec, ed := bindings.DataChunkToArrowArray(r.opts, r.schema, chunk)
	if err := dataError(ed); err != nil {
		r.err = fmt.Errorf("duckstream: to arrow: %w", err)
		return false
	}
	r.rec = rec
	return true
}

// RecordBatch is the current batch, valid until the next call to Next.
func (r *Reader) RecordBatch() arrow.RecordBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec
}

// Record is RecordBatch.
func (r *Reader) Record() arrow.RecordBatch { return r.RecordBatch() }

// Err is the error that ended the stream, if any.
func (r *Reader) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Retain adds a reference.
func (r *Reader) Retain() { r.refs.Add(1) }

// Release drops a reference; the last one closes the database.
func (r *Reader) Release() {
	if r.refs.Add(-1) == 0 {
		r.close()
	}
}

// Close frees the result and the database whatever the references.
func (r *Reader) Close() {
	r.refs.Store(0)
	r.close()
}

func (r *Reader) close() {
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	if r.opts.Ptr != nil {
		bindings.DestroyArrowOptions(&r.opts)
	}
	if r.closed {
		return
	}
	r.closed = true
	bindings.DestroyResult(&r.res)
	bindings.DestroyPending(&r.pend)
	bindings.DestroyPrepare(&r.stmt)
	r.connMu.Lock()
	bindings.Disconnect(&r.conn)
	r.connMu.Unlock()
	r.done = true
	r.unref()
}

// unref drops a reference to the database, closing it with the last.
func (r *Reader) unref() {
	if r.dbRefs.Add(-1) == 0 {
		bindings.Close(&r.db)
	}
}
