package gen

import (
	"bytes"
	"context"
	"fmt"
	"sync"
)

// chunkPipe generates a book's chunks on parallel workers and hands them
// over in chunk order, with at most len(tokens) chunks in flight, which
// bounds the memory.
type chunkPipe struct {
	results []chan *chunkOut // results[c] receives chunk c
	tokens  chan struct{}    // one per chunk in flight; the consumer frees it with done
	errs    chan error       // the error of a worker that cancelled the pipe
	wg      sync.WaitGroup   // the workers
}

// startChunks starts workers goroutines that generate chunks 0..nChunks-1
// (encoded for the output, see finishChunk) with at most 2×workers of
// them in flight. A worker that fails sends its error to errs and calls
// cancel; cancelling ctx stops the pipe.
func (w *world) startChunks(ctx context.Context, cancel context.CancelFunc, nChunks, workers int) *chunkPipe {
	p := &chunkPipe{
		results: make([]chan *chunkOut, nChunks),
		tokens:  make(chan struct{}, 2*workers),
		errs:    make(chan error, workers),
	}
	for i := range p.results {
		p.results[i] = make(chan *chunkOut, 1)
	}
	next := make(chan int)
	go func() {
		defer close(next)
		for c := range nChunks {
			select {
			case p.tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for c := range next {
				out := w.genChunk(c)
				if err := w.finishChunk(out); err != nil {
					p.errs <- fmt.Errorf("gen: chunk %d: %w", c, err)
					cancel()
					return
				}
				p.results[c] <- out
			}
		}()
	}
	return p
}

// finishChunk puts a chunk's rows in the output's form: GBK for
// --encoding gbk, and CRLF line ends in collection_events in a dirty book.
func (w *world) finishChunk(out *chunkOut) error {
	if w.cfg.Encoding == "gbk" {
		if err := encodeGBK(out); err != nil {
			return err
		}
	}
	if w.cfg.Dirty > 0 {
		t := &out.tables[tEvents]
		t.buf = bytes.ReplaceAll(t.buf, []byte("\n"), []byte("\r\n"))
	}
	return nil
}

// wait returns chunk c once it is generated. If ctx is cancelled first,
// it returns the error of the worker that cancelled it, or ctx's.
func (p *chunkPipe) wait(ctx context.Context, c int) (*chunkOut, error) {
	select {
	case out := <-p.results[c]:
		return out, nil
	case <-ctx.Done():
		select {
		case err := <-p.errs:
			return nil, err
		default:
			return nil, ctx.Err()
		}
	}
}

// done frees the place of a chunk the consumer has written.
func (p *chunkPipe) done() { <-p.tokens }
