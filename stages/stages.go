// Package stages holds qiandun's pipeline stages as typed values: each is
// a config struct (decoded from its section of pipelines/default.yaml,
// unknown keys refused), the lake tables and directories it reads and
// writes (declared once, on a pipelines.Layout) and a Run that commits
// its outputs through internal/durable. `qiandun run` orders them by
// those declarations (package pipelines); each CLI subcommand builds the
// same value from its flags and runs it with Exec.
//
// Adding a stage: a type with yaml-tagged fields, IO and Run (and Check
// for argument checks), one line in Registry, its section in
// pipelines/default.yaml. See ARCHITECTURE.md.
package stages

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"qiandun/data/lake"
	"qiandun/internal/durable"
	"qiandun/internal/lakelock"
	"qiandun/pipelines"
)

// Registry is every stage `qiandun run` knows, by its section name in the
// pipeline config. The run order comes from their reads and writes, not
// from this list.
func Registry() pipelines.Registry {
	return pipelines.Registry{
		{Name: "gen", New: func() pipelines.Stage { return NewGen() }},
		{Name: "ingest", New: func() pipelines.Stage { return &Ingest{} }},
		{Name: "perf", New: func() pipelines.Stage { return NewPerf() }},
		{Name: "features", New: func() pipelines.Stage { return &Features{Set: "acard"} }},
		{Name: "train_acard", New: func() pipelines.Stage { return NewTrain("acard") }},
		{Name: "score_acard", New: func() pipelines.Stage { return NewScoreToLake("acard", "scores_acard") }},
		{Name: "features_bcard", New: func() pipelines.Stage { return &Features{Set: "bcard"} }},
		{Name: "train_bcard", New: func() pipelines.Stage { return NewTrain("bcard") }},
		{Name: "score", New: func() pipelines.Stage { return NewScore() }},
		{Name: "warn", New: func() pipelines.Stage { return NewWarn() }},
		{Name: "repair", New: func() pipelines.Stage { return NewRepair() }},
		{Name: "bureau", New: func() pipelines.Stage { return NewBureau() }},
		{Name: "reconcile", New: func() pipelines.Stage { return NewReconcile() }},
		{Name: "disclose", New: func() pipelines.Stage { return NewDisclose() }},
		{Name: "report", New: func() pipelines.Stage { return &Report{} }},
	}
}

// Locker is a stage that says which directory's writer lock it takes
// (default: the lake, else the first path it writes); "" takes none.
type Locker interface {
	LockDir(l pipelines.Layout) string
}

// Exec runs one stage as a command or as a node of `qiandun run`: it
// checks the config, refuses to read a lake that does not exist, and only
// then takes the writer lock (so a refused command creates nothing),
// brings every commit under the lock's directory back to its last commit
// (durable.Recover), empties the lake's temporary area, and runs the
// stage.
func Exec(ctx context.Context, st pipelines.Stage, env *pipelines.Env) error {
	l := env.Layout
	if ch, ok := st.(pipelines.Checker); ok {
		if err := ch.Check(l); err != nil {
			return err
		}
	}
	io := st.IO(l)
	if l.Lake != "" && readsUnder(io.Reads, l.Lake) {
		if _, err := os.Stat(l.Lake); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("lake %s does not exist (run ingest first)", l.Lake)
		}
	}
	dir := l.Lake
	if lk, ok := st.(Locker); ok {
		dir = lk.LockDir(l)
	} else if dir == "" && len(io.Writes) > 0 {
		dir = io.Writes[0]
	}
	ctx, release, err := HoldWriter(ctx, env, dir)
	if err != nil {
		return err
	}
	defer release()
	return st.Run(ctx, env)
}

func readsUnder(reads []string, dir string) bool {
	for _, r := range reads {
		if rel, err := filepath.Rel(dir, r); err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != "../") {
			return true
		}
	}
	return false
}

// HoldWriter takes the writer lock of dir for the rest of the stage;
// inside `qiandun run`, which holds it already, the lock is taken again
// freely. Under the lock it brings every commit under dir back to its
// last commit (durable.Recover) and empties the lake's temporary area of
// what dead runs left there.
func HoldWriter(ctx context.Context, env *pipelines.Env, dir string) (context.Context, func(), error) {
	if dir == "" {
		return ctx, func() {}, nil
	}
	ctx, release, err := lakelock.Acquire(ctx, dir, env.Log)
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
