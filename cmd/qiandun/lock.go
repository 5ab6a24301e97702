package main

import (
	"context"
	"flag"

	"qiandun/pipelines"
	"qiandun/stages"
)

// execStage runs the stage value a subcommand built from its flags, on
// the directories its flags give, exactly as `qiandun run` runs it:
// stages.Exec checks the arguments, then takes the writer lock of the
// lake (or of the output root when there is no lake), recovers the last
// commit and runs the stage.
func execStage(ctx context.Context, e *env, st pipelines.Stage, l pipelines.Layout) error {
	return stages.Exec(ctx, st, &pipelines.Env{Layout: l, Log: e.log, Stdout: e.stdout, Stderr: e.stderr})
}

// setFlag reports whether the flag was given on the command line.
func setFlag(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
