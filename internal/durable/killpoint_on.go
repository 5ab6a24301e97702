//go:build killpoints

package durable

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// Crash-test builds only (go build -tags killpoints): every publication
// step is counted; with QIANDUN_KILLPOINT=N the process kills itself with
// SIGKILL right after step N (no deferred cleanup runs, as in a real
// crash). With QIANDUN_KILLPOINT_LOG=FILE each step is appended to FILE as
// "N step", so a harness learns how many steps a run has.
//
// With QIANDUN_FAULT=ERR@N step N fails instead, with the error a failing
// writer gives: ERR is ENOSPC (no space left on device), EIO or EDQUOT.
// The stage must then fail with that message and leave the previous
// commit intact (or, after the commit point, the new one).
//
// The counter is process-wide state, which production builds do not have.
var killSteps atomic.Int64

var faults = map[string]syscall.Errno{"ENOSPC": syscall.ENOSPC, "EIO": syscall.EIO, "EDQUOT": syscall.EDQUOT}

func killpoint(step string) error {
	n := killSteps.Add(1)
	if log := os.Getenv("QIANDUN_KILLPOINT_LOG"); log != "" {
		if f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			fmt.Fprintf(f, "%d %s\n", n, step)
			f.Close()
		}
	}
	if at, err := strconv.ParseInt(os.Getenv("QIANDUN_KILLPOINT"), 10, 64); err == nil && at == n {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is delivered asynchronously
	}
	if kind, at, ok := strings.Cut(os.Getenv("QIANDUN_FAULT"), "@"); ok {
		if errno, known := faults[kind]; known {
			if m, err := strconv.ParseInt(at, 10, 64); err == nil && m == n {
				return fmt.Errorf("%s: %w", step, errno)
			}
		}
	}
	return nil
}
