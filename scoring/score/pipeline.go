//go:build duckdb_arrow

package score

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"qiandun/internal/duckstream"
	"qiandun/internal/version"
	"qiandun/scoring/monitor"
)

// Stream is one scoring pass: the rows of Query, read by a private
// streaming DuckDB (Read), are cut into units of BatchRows rows, scored by
// Workers goroutines, and written in input order as Parquet to Parquet
// and as CSV rows (no header) to CSV.
type Stream struct {
	Query     string // yields the Layout's columns
	Layout    Layout
	AsOf      string    // YYYY-MM-DD, the as_of column
	Parquet   io.Writer // scores in Output's schema; nil: none
	CSV       io.Writer // nil: none
	BatchRows int       // default 65536
	Workers   int       // default GOMAXPROCS
	KeepPD    bool      // keep PD and target per row in Totals
	Read      duckstream.Options
	stats     *inputStats // when set, sees every input batch in order
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

// rowGroupRows is the row-group size of scores.parquet (DuckDB's
// default is 122,880).
const rowGroupRows = 1 << 18

// ParquetProperties are the writer settings of scores.parquet: Snappy
// pages (s2's fast encoder, see snappy.go); the coded text columns
// dictionary-encoded straight from their indices; entity_id, score and pd
// plain. Statistics only for score and pd: the coded columns' would hash
// every index, and entity_id's compare every id (2% of the run) for
// min/max bounds of no use on a file read whole.
func ParquetProperties(o *Output) *parquet.WriterProperties {
	opts := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(rowGroupRows),
		parquet.WithDataPageSize(1 << 20),
		parquet.WithCreatedBy("qiandun " + version.String()),
	}
	for _, f := range o.Schema.Fields() {
		if f.Type.ID() == arrow.DICTIONARY || f.Name == "fraud_flags" {
			opts = append(opts, parquet.WithDictionaryFor(f.Name, true), parquet.WithStatsFor(f.Name, false))
		} else if f.Name == "entity_id" {
			opts = append(opts, parquet.WithStatsFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(opts...)
}

// Run streams st through s.
func (s *Scorer) Run(ctx context.Context, st Stream) (*Totals, error) {
	if st.BatchRows <= 0 {
		st.BatchRows = 1 << 16
	}
	if st.Workers <= 0 {
		st.Workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rdr, err := duckstream.Query(ctx, st.Read, st.Query)
	if err != nil {
		return nil, fmt.Errorf("score: read input: %w", err)
	}
	defer rdr.Close()
	out, err := s.NewOutput(st.AsOf, st.BatchRows, st.Layout.Flags >= 0, st.CSV != nil)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	var pw *pqarrow.FileWriter
	var pbuf *bufio.Writer
	if st.Parquet != nil {
		pbuf = bufio.NewWriterSize(st.Parquet, 1<<20)
		if pw, err = pqarrow.NewFileWriter(out.Schema, pbuf, ParquetProperties(out), pqarrow.DefaultWriterProps()); err != nil {
			return nil, fmt.Errorf("score: parquet: %w", err)
		}
	}

	jobs := make(chan scoreJob)
	pending := make(chan chan *Result, 2*st.Workers)
	var readErr error
	var wg sync.WaitGroup
	// Reader: cuts the input into units.
	wg.Add(1)
	go func() {
		defer wg.Done()
		readErr = readUnits(ctx, rdr, st, jobs, pending)
	}()
	for range st.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r := s.Score(j.u, st.Layout, out)
				j.u.release()
				j.ch <- r
			}
		}()
	}
	// The CSV is written, in order, by its own goroutine, beside the
	// Parquet writer; it hands each unit's buffers back once written.
	csvErr := make(chan error, 1)
	csvCh := make(chan *Result, 4)
	go func() { csvErr <- s.writeCSV(st.CSV, csvCh) }()
	tot := &Totals{Fallbacks: make([]int64, len(s.chars)), Monitor: monitor.New(s.Model), Decisions: map[string]int64{}}
	var sinkErr error
	for ch := range pending {
		r := <-ch
		if sinkErr == nil && r.Err != nil {
			sinkErr = r.Err
		}
		if sinkErr != nil {
			s.Release(r)
			cancel()
			continue
		}
		s.addTotals(tot, r, st.KeepPD)
		if pw != nil {
			if err := pw.WriteBuffered(r.Rec); err != nil {
				sinkErr = fmt.Errorf("score: write parquet: %w", err)
			}
		}
		if st.CSV != nil && sinkErr == nil {
			csvCh <- r
		} else {
			s.Release(r)
		}
		if sinkErr != nil {
			cancel()
		}
	}
	wg.Wait()
	close(csvCh)
	if err := <-csvErr; err != nil && sinkErr == nil {
		sinkErr = fmt.Errorf("score: write csv: %w", err)
	}
	if pw != nil && sinkErr == nil {
		if err := pw.Close(); err != nil {
			sinkErr = fmt.Errorf("score: write parquet: %w", err)
		} else if err := pbuf.Flush(); err != nil {
			sinkErr = fmt.Errorf("score: write parquet: %w", err)
		}
	}
	switch {
	case sinkErr != nil:
		return nil, sinkErr
	case readErr != nil:
		return nil, fmt.Errorf("score: read input: %w", readErr)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	return tot, nil
}

// scoreJob is a unit to score and where its result goes (in input order).
type scoreJob struct {
	u  *Unit
	ch chan *Result
}

// readUnits cuts the input into units of st.BatchRows rows and hands each
// to the workers (jobs), queueing its result channel in order (pending);
// it closes both when the input ends or ctx is cancelled and returns the
// reader's error.
func readUnits(ctx context.Context, rdr interface {
	Next() bool
	RecordBatch() arrow.RecordBatch
	Err() error
}, st Stream, jobs chan<- scoreJob, pending chan<- chan *Result) error {
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
		case jobs <- scoreJob{cur, ch}:
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
		if st.stats != nil {
			st.stats.add(rec)
		}
		n := rec.NumRows()
		for off := int64(0); off < n; {
			take := min(n-off, int64(st.BatchRows-cur.N))
			cur.Recs = append(cur.Recs, rec.NewSlice(off, off+take))
			cur.N += int(take)
			off += take
			start += take
			if cur.N == st.BatchRows && !send() {
				return nil
			}
		}
	}
	if err := rdr.Err(); err != nil {
		cur.release()
		return err
	}
	send()
	return nil
}

// writeCSV writes the CSV text of each result of ch in order, releasing
// each result, and returns the first write error.
func (s *Scorer) writeCSV(w io.Writer, ch <-chan *Result) error {
	var err error
	for r := range ch {
		if err == nil {
			_, err = w.Write(r.CSV)
		}
		s.Release(r)
	}
	return err
}

// addTotals adds a unit's result to the run's totals.
func (s *Scorer) addTotals(tot *Totals, r *Result, keepPD bool) {
	tot.Rows += int64(r.N)
	for j, f := range r.Fallbacks {
		tot.Fallbacks[j] += int64(f)
	}
	tot.Monitor.Merge(r.Monitor)
	for g := range tot.Grades {
		tot.Grades[g] += r.Grades[g]
	}
	for d, c := range r.Decisions {
		if c > 0 {
			tot.Decisions[s.decNames[d]] += c
		}
	}
	if keepPD {
		tot.PD = append(tot.PD, r.PD...)
		tot.Y = append(tot.Y, r.Y...)
	}
}

func (u *Unit) release() {
	for _, r := range u.Recs {
		r.Release()
	}
	u.Recs = nil
}
