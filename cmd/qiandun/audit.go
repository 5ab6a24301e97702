package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"qiandun/data/lake"
	"qiandun/internal/audit"
)

// runAudited runs command name with args, bracketed by the start and end
// lines of the audit log of the lake at lakeDir (none when lakeDir is ""
// or, for a reader, does not exist). parent is the ID of the enclosing
// `qiandun run`, or "". It is the one place every stage is audited:
// realMain's dispatch and the in-process stages of `qiandun run` call it.
func runAudited(ctx context.Context, e *env, name string, c command, args []string, lakeDir, parent string) (err error) {
	defer func() { err = lake.WrapOutOfMemory(name, err) }()
	if lakeDir == "" || name == "audit" {
		return c.run(ctx, e, args)
	}
	if _, serr := os.Stat(lakeDir); errors.Is(serr, fs.ErrNotExist) {
		// Never create a lake just to audit: a stage that creates it (the
		// first ingest) is logged once it exists; one that fails before
		// has nothing to audit.
		start := time.Now()
		err = c.run(ctx, e, args)
		if landed(lakeDir) {
			if r, aerr := audit.BeginAt(lakeDir, name, args, parent, start); aerr == nil {
				r.CreatedLake()
				exit := 0
				if err != nil {
					exit = 1
				}
				r.End(lakeDir, exit, err)
			}
		}
		return err
	}
	reportUnfinished(e, lakeDir)
	r, err := audit.Begin(lakeDir, name, args, parent)
	if err != nil {
		return fmt.Errorf("%w (the audit trail must be writable)", err)
	}
	defer func() {
		if p := recover(); p != nil {
			r.End(lakeDir, 2, fmt.Errorf("panic: %v", p))
			panic(p)
		}
		exit := 0
		if err != nil && !errors.Is(err, flagErrHelp) {
			exit = 1
		}
		if aerr := r.End(lakeDir, exit, err); aerr != nil && err == nil {
			err = aerr
		}
	}()
	return c.run(ctx, e, args)
}

// reportUnfinished logs the runs that started since the last finished
// one and never ended: they were killed or crashed.
func reportUnfinished(e *env, lakeDir string) {
	all, err := audit.Read(lakeDir, time.Time{})
	if err != nil {
		e.log.Warn("audit log unreadable", "err", err)
		return
	}
	var last time.Time
	for _, x := range all {
		if !x.Noted && x.End.After(last) {
			last = x.End
		}
	}
	for _, x := range all {
		if x.Status == audit.StatusKilled && !x.Start.Before(last) {
			e.log.Warn("an earlier run did not finish: killed or crashed", "stage", x.Stage, "id", x.ID, "pid", x.PID, "host", x.Host, "started", x.Start.Format(time.RFC3339))
		}
	}
}

// flagValue returns the value of flag --name (or -name) in args, "" when
// absent.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		n := strings.TrimLeft(a, "-")
		if n == a {
			continue
		}
		if k, v, ok := strings.Cut(n, "="); ok && k == name {
			return v
		} else if !ok && n == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// runAudit: qiandun audit --lake DIR [--since TIME] [--json].
func runAudit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "audit", "--lake DIR [--since TIME] [--json]")
	lakeDir := fs.String("lake", "", "lake root `DIR`")
	since := fs.String("since", "", "only runs started at or after `TIME`: RFC 3339, YYYY-MM-DD, or a duration ago (e.g. 24h)")
	asJSON := fs.Bool("json", false, "print each run as one JSON object per line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lakeDir == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("--lake is required and no arguments are taken")
	}
	var from time.Time
	if *since != "" {
		var err error
		if from, err = parseSince(*since, time.Now()); err != nil {
			return err
		}
	}
	if _, err := os.Stat(*lakeDir); err != nil {
		return fmt.Errorf("lake %s: %w", *lakeDir, err)
	}
	runs, err := audit.Read(*lakeDir, from)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, r := range runs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(e.stdout, "%-20s %-9s %-9s %-17s %-14s %s\n", "start (UTC)", "duration", "stage", "status", "user@host", "args / error")
	for _, r := range runs {
		dur := "-"
		if !r.End.IsZero() {
			dur = r.End.Sub(r.Start).Round(time.Millisecond).String()
		}
		detail := strings.Join(r.Args, " ")
		if r.Error != "" {
			detail += " | error: " + r.Error
		}
		fmt.Fprintf(e.stdout, "%-20s %-9s %-9s %-17s %-14s %s\n", r.Start.Format("2006-01-02 15:04:05"), dur, r.Stage, r.Status, r.User+"@"+r.Host, detail)
	}
	return nil
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want RFC 3339 (2024-06-30T12:00:00Z), a date YYYY-MM-DD or a duration ago (24h)", s)
}

// landed reports whether a stage that found no lake left one with content:
// more than the writer lock and the spill area a refused run creates.
func landed(lakeDir string) bool {
	ents, err := os.ReadDir(lakeDir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		switch e.Name() {
		case "_lock", "_tmp", audit.Dir:
		default:
			return true
		}
	}
	return false
}
