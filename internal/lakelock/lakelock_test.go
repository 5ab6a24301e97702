package lakelock

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain makes the test binary a lock holder when asked (the other
// process of TestOtherProcess): it takes the lock of $LAKELOCK_HOLD, says
// so on stdout and waits to be killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("LAKELOCK_HOLD"); dir != "" {
		_, release, err := Acquire(context.Background(), dir, nil)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("holding")
		// Held until the test kills this process. A bare select{} here
		// made the runtime call the process deadlocked and exit it at
		// once, releasing the lock: the test then raced that exit. The
		// sleep's timer keeps it alive; the release after it keeps the
		// lock's file reachable (a collection would close it, and its
		// flock with it).
		time.Sleep(time.Hour)
		release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSecondWriterRefused(t *testing.T) {
	dir := t.TempDir()
	ctx, release, err := Acquire(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another writer (no lock in its context) is refused, the holder named.
	_, _, err = Acquire(context.Background(), dir, nil)
	host, _ := os.Hostname()
	if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d on host %s since ", os.Getpid(), host)) {
		t.Fatalf("second writer: %v", err)
	}
	// The holder's own work takes it again without deadlock, also through
	// another name of the same directory.
	link := filepath.Join(t.TempDir(), "alias")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, link} {
		ctx2, rel2, err := Acquire(ctx, d, nil)
		if err != nil {
			t.Fatalf("nested acquire of %s: %v", d, err)
		}
		if !Held(ctx2, dir) {
			t.Fatal("nested context lost the lock")
		}
		rel2() // a no-op: the outer holder still holds it
	}
	if _, _, err := Acquire(context.Background(), dir, nil); !errors.Is(err, ErrHeld) {
		t.Fatalf("after a nested release the lock must still be held: %v", err)
	}
	release()
	_, release, err = Acquire(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	release()
}

// A lock held by another process refuses this one with that process's
// pid; once it is killed, the lock is taken over with a log line naming it.
func TestOtherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LAKELOCK_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "holding" {
		t.Fatalf("holder: %q", line)
	}
	_, _, err = Acquire(context.Background(), dir, nil)
	if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d ", cmd.Process.Pid)) {
		t.Fatalf("want a refusal naming pid %d: %v", cmd.Process.Pid, err)
	}
	cmd.Process.Kill()
	cmd.Wait()

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	_, release, err := Acquire(context.Background(), dir, log)
	if err != nil {
		t.Fatalf("a dead holder's lock: %v", err)
	}
	defer release()
	if !strings.Contains(logs.String(), "taking over") || !strings.Contains(logs.String(), fmt.Sprintf("pid=%d ", cmd.Process.Pid)) {
		t.Fatalf("takeover not logged with the dead pid %d: %s", cmd.Process.Pid, logs.String())
	}
	h, err := read(filepath.Join(dir, Name))
	if err != nil || h.PID != os.Getpid() || time.Since(h.Started) > time.Minute {
		t.Fatalf("lock file after takeover: %+v %v", h, err)
	}
}

// A lock released cleanly leaves nothing to take over.
func TestCleanReleaseNotLogged(t *testing.T) {
	dir := t.TempDir()
	_, release, err := Acquire(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	release()
	var logs bytes.Buffer
	_, release, err = Acquire(context.Background(), dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	release()
	if logs.Len() != 0 {
		t.Fatalf("clean release logged as a takeover: %s", logs.String())
	}
}
