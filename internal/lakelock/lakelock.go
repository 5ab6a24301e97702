// Package lakelock is the writer lock of a lake: one process at a time
// writes a lake, whatever its entry point (`qiandun run` or a stage
// subcommand).
//
// The lock is an flock(2) on <root>/_lock, a file that holds the holder's
// pid, host and start time. The kernel drops the flock when the holder
// dies, so a killed writer never blocks the next one; its record is still
// in the file, and the next writer logs that it takes the lock over. A
// writer refused because the lock is held gets an error naming the holder.
//
// A held lock travels in a context.Context: Acquire on a context that
// already holds the lock of the same root returns at once, so `qiandun run`
// holds the lock for the whole run while the stages it calls in-process
// take it again without deadlocking on themselves.
package lakelock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Name is the lock file's name under the lake root.
const Name = "_lock"

// ErrHeld is wrapped by the error Acquire returns when another writer holds
// the lock.
var ErrHeld = errors.New("lake is locked by another writer")

// Holder is what the lock file records about the process that holds it.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on host %s since %s", h.PID, h.Host, h.Started.UTC().Format(time.RFC3339))
}

// lock is one held lock.
type lock struct {
	root os.FileInfo // the locked directory, to recognise it under another name
	f    *os.File
}

type ctxKey struct{}

// Held reports whether ctx carries the writer lock of root.
func Held(ctx context.Context, root string) bool {
	st, err := os.Stat(root)
	if err != nil {
		return false
	}
	locks, _ := ctx.Value(ctxKey{}).([]*lock)
	for _, l := range locks {
		if os.SameFile(l.root, st) {
			return true
		}
	}
	return false
}

// Acquire takes the writer lock of the lake (or other output root) root,
// creating the directory if needed. It returns a context that carries the
// lock, for the work done under it, and the release function. When ctx
// already carries the lock of root, it returns ctx and a release that does
// nothing. When another process (or another Acquire of this one) holds the
// lock, the error wraps ErrHeld and names the holder. A lock left by a dead
// process is taken over, with a log line naming it.
func Acquire(ctx context.Context, root string, log *slog.Logger) (context.Context, func(), error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", root, err)
	}
	if Held(ctx, root) {
		return ctx, func() {}, nil
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", root, err)
	}
	path := filepath.Join(root, Name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", root, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			h, rerr := read(path)
			if rerr != nil {
				return nil, nil, fmt.Errorf("%w: %s (holder unknown: %v)", ErrHeld, root, rerr)
			}
			return nil, nil, fmt.Errorf("%w: %s is being written by %s (lock file %s)", ErrHeld, root, h, path)
		}
		return nil, nil, fmt.Errorf("lock %s: %w", root, err)
	}
	if prev, err := read(path); err == nil {
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		log.Warn("taking over the writer lock of a process that is gone", "lake", root,
			"pid", prev.PID, "host", prev.Host, "started", prev.Started.UTC().Format(time.RFC3339))
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Truncate(time.Second)})
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
		return nil, nil, fmt.Errorf("lock %s: %w", root, err)
	}
	l := &lock{root: st, f: f}
	locks, _ := ctx.Value(ctxKey{}).([]*lock)
	ctx = context.WithValue(ctx, ctxKey{}, append(locks[:len(locks):len(locks)], l))
	release := func() {
		if l.f == nil {
			return
		}
		// An empty file is a lock released cleanly: the next writer has
		// nothing to take over.
		l.f.Truncate(0)
		syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
	return ctx, release, nil
}

// read returns the holder recorded in the lock file; an error when the file
// is empty (released cleanly) or unreadable.
func read(path string) (Holder, error) {
	var h Holder
	b, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	if len(b) == 0 {
		return h, errors.New("empty lock file")
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("lock file %s: %w", path, err)
	}
	return h, nil
}
