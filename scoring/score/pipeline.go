//go:build duckdb_arrow

package score

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"

	"qiandun/data/lake"
	"qiandun/scoring/monitor"
)

// Stream is one scoring pass: the rows of Query are scored in units of
// BatchRows rows by Workers goroutines, and the scored batches, in input
// order, are handed to DuckDB as the Arrow view named by the statement
// Sink builds (typically COPY (SELECT ... FROM view) TO 'scores.parquet').
// CSV, when set, receives the rows as CSV in input order.
type Stream struct {
	Query     string // yields the Layout's columns
	Layout    Layout
	Sink      func(view string) string
	CSV       io.Writer
	CSVMid    string // ",<as_of>,<model>,<version>," (see Scorer.Score)
	BatchRows int    // default 65536
	Workers   int    // default GOMAXPROCS
	KeepPD    bool   // keep PD and target per row in Totals
}

// Totals are what a stream scored.
type Totals struct {
	Rows      int64
	Fallbacks []int64 // per characteristic, card order
	Monitor   *monitor.Monitor
	Grades    [5]int64
	Decisions map[string]int64
	PD, Y     []float64
}

// Run streams st through s on db (a DuckDB opened by lake.OpenDuckDB;
// Run uses two of its connections: one reads, one writes).
func (s *Scorer) Run(ctx context.Context, db *sql.DB, st Stream) (*Totals, error) {
	if st.BatchRows <= 0 {
		st.BatchRows = 1 << 16
	}
	if st.Workers <= 0 {
		st.Workers = runtime.GOMAXPROCS(0)
	}
	// Two more connections than the caller may hold (0 = unlimited).
	if n := db.Stats().MaxOpenConnections; n > 0 {
		db.SetMaxOpenConns(n + 2)
		defer db.SetMaxOpenConns(n)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	defer in.Close()
	out, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	defer out.Close()

	var rdr array.RecordReader
	if err := in.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rdr, err = ar.QueryContext(ctx, st.Query)
		return err
	}); err != nil {
		return nil, fmt.Errorf("score: read input: %w", err)
	}
	defer rdr.Release()
	sch := rdr.Schema()
	var idType, flagsType arrow.DataType
	if st.Layout.ID >= 0 {
		idType = sch.Field(st.Layout.ID).Type
	}
	if st.Layout.Flags >= 0 {
		flagsType = sch.Field(st.Layout.Flags).Type
	}
	outSchema := OutputSchema(idType, flagsType)

	type job struct {
		u  *Unit
		ch chan *Result
	}
	jobs := make(chan job)
	pending := make(chan chan *Result, 2*st.Workers)
	var readErr error
	var wg sync.WaitGroup
	// Reader: cuts the input into units.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		defer close(pending)
		seq, start := 0, int64(0)
		cur := &Unit{}
		send := func() bool {
			if cur.N == 0 {
				return true
			}
			ch := make(chan *Result, 1)
			select {
			case pending <- ch:
			case <-ctx.Done():
				cur.release()
				return false
			}
			select {
			case jobs <- job{cur, ch}:
			case <-ctx.Done():
				cur.release()
				ch <- &Result{Err: ctx.Err()}
				return false
			}
			seq++
			cur = &Unit{Seq: seq, Start: start}
			return true
		}
		for rdr.Next() {
			rec := rdr.RecordBatch()
			n := rec.NumRows()
			for off := int64(0); off < n; {
				take := min(n-off, int64(st.BatchRows-cur.N))
				cur.Recs = append(cur.Recs, rec.NewSlice(off, off+take))
				cur.N += int(take)
				off += take
				start += take
				if cur.N == st.BatchRows && !send() {
					return
				}
			}
		}
		if err := rdr.Err(); err != nil {
			readErr = err
			cur.release()
			return
		}
		send()
	}()
	for range st.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r := s.Score(j.u, st.Layout, outSchema, st.CSVMid)
				j.u.release()
				j.ch <- r
			}
		}()
	}
	tot := &Totals{Fallbacks: make([]int64, len(s.chars)), Monitor: monitor.New(s.Model), Decisions: map[string]int64{}}
	// The CSV is written, in order, by its own goroutine, beside DuckDB's
	// Parquet writer rather than in its thread.
	var csvErr atomic.Pointer[error]
	csvCh := make(chan *Result, 4)
	csvDone := make(chan struct{})
	go func() {
		defer close(csvDone)
		for r := range csvCh {
			if csvErr.Load() == nil {
				if _, err := st.CSV.Write(r.CSV); err != nil {
					csvErr.Store(&err)
				}
			}
			s.ReleaseCSV(r)
		}
	}()
	closeCSV := sync.OnceFunc(func() { close(csvCh); <-csvDone })
	defer closeCSV()
	or := &orderedReader{schema: outSchema, pending: pending, refs: 1, onUnit: func(r *Result) error {
		tot.Rows += int64(r.N)
		for j, f := range r.Fallbacks {
			tot.Fallbacks[j] += int64(f)
		}
		tot.Monitor.Merge(r.Monitor)
		for g := range tot.Grades {
			tot.Grades[g] += r.Grades[g]
		}
		for d, c := range r.Decisions {
			tot.Decisions[d] += c
		}
		if st.KeepPD {
			tot.PD = append(tot.PD, r.PD...)
			tot.Y = append(tot.Y, r.Y...)
		}
		if e := csvErr.Load(); e != nil {
			return *e
		}
		if st.CSV != nil {
			csvCh <- r
		}
		return nil
	}}
	view := "qiandun_scored"
	sinkErr := out.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err := ar.RegisterView(or, view)
		if err != nil {
			return err
		}
		defer release()
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, st.Sink(lake.Ident(view)), nil)
		return err
	})
	cancel()
	or.drain()
	wg.Wait()
	closeCSV()
	if e := csvErr.Load(); e != nil && or.err == nil {
		or.err = *e
	}
	switch {
	case or.err != nil:
		return nil, or.err
	case readErr != nil:
		return nil, fmt.Errorf("score: read input: %w", readErr)
	case sinkErr != nil:
		return nil, fmt.Errorf("score: write: %w", sinkErr)
	}
	return tot, nil
}

func (u *Unit) release() {
	for _, r := range u.Recs {
		r.Release()
	}
	u.Recs = nil
}

// orderedReader hands the scored units to DuckDB in input order.
type orderedReader struct {
	refs    int64
	schema  *arrow.Schema
	pending chan chan *Result
	cur     []arrow.RecordBatch
	pos     int
	rec     arrow.RecordBatch
	err     error
	onUnit  func(*Result) error
	mu      sync.Mutex
}

var _ array.RecordReader = (*orderedReader)(nil)

func (o *orderedReader) Retain()               { atomic.AddInt64(&o.refs, 1) }
func (o *orderedReader) Release()              { atomic.AddInt64(&o.refs, -1) }
func (o *orderedReader) Schema() *arrow.Schema { return o.schema }
func (o *orderedReader) Err() error            { return o.err }

func (o *orderedReader) Record() arrow.RecordBatch      { return o.rec }
func (o *orderedReader) RecordBatch() arrow.RecordBatch { return o.rec }

func (o *orderedReader) Next() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rec != nil {
		o.rec.Release()
		o.rec = nil
	}
	for o.err == nil {
		if o.pos < len(o.cur) {
			o.rec = o.cur[o.pos]
			o.cur[o.pos] = nil
			o.pos++
			return true
		}
		ch, ok := <-o.pending
		if !ok {
			return false
		}
		r := <-ch
		if r.Err != nil {
			o.err = r.Err
			releaseAll(r.Recs)
			return false
		}
		if err := o.onUnit(r); err != nil {
			o.err = err
			releaseAll(r.Recs)
			return false
		}
		o.cur, o.pos = r.Recs, 0
	}
	return false
}

// drain releases whatever the sink did not consume.
func (o *orderedReader) drain() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rec != nil {
		o.rec.Release()
		o.rec = nil
	}
	releaseAll(o.cur[o.pos:])
	o.cur = nil
	for ch := range o.pending {
		r := <-ch
		releaseAll(r.Recs)
	}
}

func releaseAll(rs []arrow.RecordBatch) {
	for _, r := range rs {
		if r != nil {
			r.Release()
		}
	}
}
