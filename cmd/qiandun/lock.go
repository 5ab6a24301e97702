package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"qiandun/data/lake"
	"qiandun/internal/durable"
	"qiandun/internal/lakelock"
)

// holdWriter takes the writer lock of the lake a stage writes (dir: its
// --lake, or its output root when it runs without a lake) for the rest of
// the subcommand; inside `qiandun run`, which holds it already, it is a
// no-op. Under the lock it brings every commit under dir back to its last
// commit (durable.Recover) and empties the lake's temporary area of what
// dead runs left there. It returns the context carrying the lock and the
// release function.
func holdWriter(ctx context.Context, e *env, dir string) (context.Context, func(), error) {
	if dir == "" {
		return ctx, func() {}, nil
	}
	ctx, release, err := lakelock.Acquire(ctx, dir, e.log)
	if err != nil {
		return nil, nil, err
	}
	if err := durable.Recover(dir); err != nil {
		release()
		return nil, nil, err
	}
	// Only one writer runs on a lake, so whatever is in its temporary area
	// now was left by a writer that died.
	if err := os.RemoveAll(filepath.Join(dir, lake.TmpDir)); err != nil {
		release()
		return nil, nil, fmt.Errorf("lake %s: clean %s: %w", dir, lake.TmpDir, err)
	}
	return ctx, release, nil
}

// firstSet returns the first non-empty string.
func firstSet(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
