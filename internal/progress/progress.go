// Package progress reports the progress of long stages: a redrawn bar on
// a terminal, structured log lines (log/slog) otherwise.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bar tracks one stage's progress towards a known (or unknown, total <= 0)
// number of units. It is safe for concurrent use. A nil *Bar does nothing.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	log      *slog.Logger
	name     string
	unit     string
	total    int64
	done     int64
	start    time.Time
	last     time.Time
	interval time.Duration
}

// New starts a bar for stage name. On a terminal (w is an *os.File that is
// a TTY) it redraws a line on w; otherwise it logs through log at most
// every 5 seconds.
func New(w io.Writer, log *slog.Logger, name, unit string, total int64) *Bar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	iv := 5 * time.Second
	if tty {
		iv = 100 * time.Millisecond
	}
	if log == nil {
		log = slog.Default()
	}
	now := time.Now()
	return &Bar{w: w, tty: tty, log: log, name: name, unit: unit, total: total, start: now, interval: iv}
}

// Add records n more units done.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if time.Since(b.last) >= b.interval {
		b.draw(false)
	}
}

// Set records that done units are done in all.
func (b *Bar) Set(done int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = done
	if time.Since(b.last) >= b.interval {
		b.draw(false)
	}
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(true)
}

func (b *Bar) draw(final bool) {
	b.last = time.Now()
	el := time.Since(b.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(b.done) / el
	}
	if !b.tty {
		attrs := []any{"stage", b.name, b.unit, b.done, "elapsed_s", round1(el), b.unit + "_per_s", int64(rate)}
		if b.total > 0 {
			attrs = append(attrs, "total", b.total)
		}
		msg := "progress"
		if final {
			msg = "done"
		}
		b.log.Info(msg, attrs...)
		return
	}
	const width = 30
	line := ""
	if b.total > 0 {
		frac := float64(b.done) / float64(b.total)
		if frac > 1 {
			frac = 1
		}
		n := int(frac * width)
		line = fmt.Sprintf("\r%-9s [%s%s] %5.1f%% %d/%d %s  %.0f/s  %.1fs", b.name,
			strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac, b.done, b.total, b.unit, rate, el)
	} else {
		line = fmt.Sprintf("\r%-9s %d %s  %.0f/s  %.1fs", b.name, b.done, b.unit, rate, el)
	}
	if final {
		line += "\n"
	}
	fmt.Fprint(b.w, line)
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
