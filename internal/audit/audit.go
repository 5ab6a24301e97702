// Package audit keeps a lake's audit trail: every stage run appends a
// "start" line to <lake>/_audit/audit.log before it works and an "end"
// line when it finishes, each one JSON object (the file is 0600, its
// directory 0700). A run that was killed or crashed leaves a start
// without an end, which Read reports as such, so the trail is truthful
// whatever happened to the process.
//
// Lines carry who ran what (user, host, pid), when, the arguments with
// secrets redacted, the inputs and outputs (with sha256 and rows) of the
// stage manifests the run wrote, the exit status and the error.
package audit

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Dir is the audit directory under a lake root; LogName the log in it.
const (
	Dir     = "_audit"
	LogName = "audit.log"
)

// Statuses of a run as Read reports it.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusKilled  = "killed or crashed"
	StatusRunning = "running"
)

// Line is one line of the log: a start or an end event of run ID.
type Line struct {
	Event  string    `json:"event"` // "start" or "end"
	ID     string    `json:"id"`
	Parent string    `json:"parent,omitempty"` // the `qiandun run` that ran this stage in-process
	Stage  string    `json:"stage"`
	User   string    `json:"user"`
	Host   string    `json:"host"`
	PID    int       `json:"pid"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end,omitzero"`
	Args   []string  `json:"args"`
	// End lines only.
	Status  string `json:"status,omitempty"`
	Exit    int    `json:"exit"`
	Error   string `json:"error,omitempty"`
	Inputs  []File `json:"inputs,omitempty"`
	Outputs []File `json:"outputs,omitempty"`
	// Reveal lines only: the token whose clear value was revealed from
	// the PII vault, and why (never the value).
	Token   string `json:"token,omitempty"`
	Purpose string `json:"purpose,omitempty"`
}

// File is an input or output of a run, as its stage manifest records it.
type File struct {
	Manifest string `json:"manifest"`
	Path     string `json:"path"`
	SHA256   string `json:"sha256,omitempty"`
	Rows     int64  `json:"rows"`
}

// Run is a run whose start line is written; End writes its end line.
type Run struct {
	path   string
	line   Line
	before map[string]stamp // the manifests as they were at Begin
}

type stamp struct {
	mod  time.Time
	size int64
}

// Path returns the audit log of the lake at root.
func Path(root string) string { return filepath.Join(root, Dir, LogName) }

// Begin appends the start line of a run of stage with args to the audit
// log of the lake at root (creating the log, 0600, in a 0700 directory).
// parent is the ID of an enclosing run, or "".
func Begin(root, stage string, args []string, parent string) (*Run, error) {
	return BeginAt(root, stage, args, parent, time.Now())
}

// BeginAt is Begin for a run that started at start: a stage that creates
// the lake (the first ingest) is logged once the lake exists.
func BeginAt(root, stage string, args []string, parent string, start time.Time) (*Run, error) {
	host, _ := os.Hostname()
	var rnd [4]byte
	rand.Read(rnd[:])
	now := start.UTC()
	r := &Run{path: Path(root), line: Line{
		Event:  "start",
		ID:     fmt.Sprintf("%s-%d-%s", now.Format("20060102T150405.000"), os.Getpid(), hex.EncodeToString(rnd[:])),
		Parent: parent,
		Stage:  stage,
		User:   userName(),
		Host:   host,
		PID:    os.Getpid(),
		Start:  now,
		Args:   Redact(args),
	}, before: manifestStamps(filepath.Join(root, "_manifests"))}
	if err := r.append(r.line); err != nil {
		return nil, err
	}
	return r, nil
}

// CreatedLake tells End that the lake did not exist when the run began:
// every manifest in it was written by this run.
func (r *Run) CreatedLake() { r.before = nil }

// ID is the run's identifier in the log.
func (r *Run) ID() string { return r.line.ID }

// End appends the run's end line: exit status 0 and "ok" when runErr is
// nil, else "failed" with the error's first line. The inputs and outputs
// are those of the manifests under <root>/_manifests written since the
// run started.
func (r *Run) End(root string, exit int, runErr error) error {
	l := r.line
	l.Event = "end"
	l.End = time.Now().UTC()
	l.Exit = exit
	l.Status = StatusOK
	if runErr != nil || exit != 0 {
		l.Status = StatusFailed
		if runErr != nil {
			l.Error = firstLine(runErr.Error())
		}
	}
	l.Inputs, l.Outputs = manifestFiles(filepath.Join(root, "_manifests"), r.before)
	return r.append(l)
}

func (r *Run) append(l Line) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return r.appendRaw(append(b, '\n'))
}

// appendRaw appends whole lines b to the log in one write and syncs it.
func (r *Run) appendRaw(b []byte) error {
	if err := os.MkdirAll(filepath.Dir(r.path), 0o700); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := os.Chmod(filepath.Dir(r.path), 0o700); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	// One write per line: appends of concurrent runs do not interleave.
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("audit %s: %w", r.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit %s: %w", r.path, err)
	}
	return nil
}

// EventReveal is the event of a line that records one reveal of a clear
// value from the PII vault.
const EventReveal = "reveal"

// Reveals appends one reveal line per token to the audit log of the lake
// at root — stage, purpose, who, when, the token, never the value — in
// one write, synced. A stage calls it after reading the values and before
// writing any file that holds them, so no revealed value leaves the
// process unaudited.
func Reveals(root, stage, purpose string, tokens []string) error {
	if len(tokens) == 0 {
		return nil
	}
	host, _ := os.Hostname()
	now := time.Now().UTC()
	var rnd [4]byte
	rand.Read(rnd[:])
	id := fmt.Sprintf("%s-%d-%s", now.Format("20060102T150405.000"), os.Getpid(), hex.EncodeToString(rnd[:]))
	buf, err := revealLines(Line{Event: EventReveal, ID: id, Stage: stage, User: userName(), Host: host, PID: os.Getpid(),
		Start: now, Purpose: purpose}, tokens)
	if err != nil {
		return err
	}
	r := &Run{path: Path(root)}
	return r.appendRaw(buf)
}

// revealLines returns the JSON lines of l with each token, as json.Marshal
// writes them: the line is marshalled once with a placeholder token and
// each token (JSON-quoted) spliced in its place, so that a month's
// hundreds of thousands of reveals cost a copy each, not a marshal.
func revealLines(l Line, tokens []string) ([]byte, error) {
	const mark = "\x00token\x00"
	l.Token = mark
	tmpl, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	quoted, _ := json.Marshal(mark)
	i := bytes.Index(tmpl, quoted)
	if i < 0 || bytes.Count(tmpl, quoted) != 1 {
		return nil, fmt.Errorf("audit: reveal line template %s", tmpl)
	}
	pre, post := tmpl[:i], tmpl[i+len(quoted):]
	size := 0
	for _, t := range tokens {
		size += len(pre) + len(t) + len(post) + 3
	}
	buf := make([]byte, 0, size)
	for _, t := range tokens {
		if t == "" { // omitted (omitempty): marshal the line as it is
			l.Token = ""
			b, err := json.Marshal(l)
			if err != nil {
				return nil, fmt.Errorf("audit: %w", err)
			}
			buf = append(append(buf, b...), '\n')
			continue
		}
		buf = append(buf, pre...)
		if plainJSON(t) {
			buf = append(append(append(buf, '"'), t...), '"')
		} else {
			q, err := json.Marshal(t)
			if err != nil {
				return nil, fmt.Errorf("audit: %w", err)
			}
			buf = append(buf, q...)
		}
		buf = append(append(buf, post...), '\n')
	}
	return buf, nil
}

// plainJSON reports whether json.Marshal writes s as itself in quotes:
// printable ASCII without quote, backslash or the HTML characters it
// escapes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// ReadReveals returns the reveal lines of the lake at root, oldest first.
func ReadReveals(root string) ([]Line, error) {
	b, err := os.ReadFile(Path(root))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var out []Line
	for n, ln := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(ln)) == 0 {
			continue
		}
		var l Line
		if err := json.Unmarshal(ln, &l); err != nil {
			return nil, fmt.Errorf("audit %s: line %d: %w", Path(root), n+1, err)
		}
		if l.Event == EventReveal {
			out = append(out, l)
		}
	}
	return out, nil
}

// secretWords mark a flag whose value is never logged.
var secretWords = []string{"key", "secret", "password", "passwd", "token", "credential"}

// Redact returns args with the value of every flag whose name holds a
// secret word (--pii-key-file=..., --key X, ...) replaced by "REDACTED",
// and any argument holding a PEM private key likewise.
func Redact(args []string) []string {
	out := make([]string, len(args))
	redactNext := false
	for i, a := range args {
		if redactNext {
			out[i] = "REDACTED"
			redactNext = false
			continue
		}
		out[i] = a
		if strings.Contains(a, "PRIVATE KEY") {
			out[i] = "REDACTED"
			continue
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !secretName(name) {
			continue
		}
		if hasValue {
			out[i] = a[:strings.Index(a, "=")+1] + "REDACTED"
		} else if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			redactNext = true
		}
	}
	return out
}

func secretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// Entry is one run as Read reports it: its start, and its end if any.
type Entry struct {
	Line
	// Noted is set for a run with no end line: StatusKilled, or
	// StatusRunning while its process still lives on this host.
	Noted bool `json:"noted,omitempty"`
}

// Read returns the runs of the lake at root that started at or after
// since (zero: all), oldest first. A start with no end is reported with
// status "killed or crashed" (or "running" while its process is alive).
func Read(root string, since time.Time) ([]Entry, error) {
	f, err := os.Open(Path(root))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	byID := map[string]*Entry{}
	var order []string
	// Streamed: a lake's log holds a reveal line per identity read (a
	// bureau month of 1,000,000 loans adds 800,000 per format), skipped
	// by their first bytes without decoding (Reveals writes them so).
	revealPrefix := []byte(`{"event":"` + EventReveal + `"`)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<26)
	for n := 1; sc.Scan(); n++ {
		if bytes.HasPrefix(sc.Bytes(), revealPrefix) || len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			// A torn last line (a crash mid-write) is reported, not fatal.
			return nil, fmt.Errorf("audit %s: line %d: %w", Path(root), n, err)
		}
		if l.Event == EventReveal {
			continue // not a run (ReadReveals reads them)
		}
		e, ok := byID[l.ID]
		if !ok {
			e = &Entry{}
			byID[l.ID] = e
			order = append(order, l.ID)
		}
		switch l.Event {
		case "start":
			if e.Event == "" {
				e.Line = l
			}
		case "end":
			e.Line = l
		default:
			return nil, fmt.Errorf("audit %s: line %d: unknown event %q", Path(root), n, l.Event)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	host, _ := os.Hostname()
	var out []Entry
	for _, id := range order {
		e := byID[id]
		if e.Start.Before(since) {
			continue
		}
		if e.Event == "start" {
			e.Noted = true
			e.Status = StatusKilled
			if e.Host == host && alive(e.PID) {
				e.Status = StatusRunning
			}
		}
		out = append(out, *e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// Unfinished returns the runs of the lake at root that started and never
// ended and whose process is gone: the killed or crashed runs.
func Unfinished(root string) ([]Entry, error) {
	all, err := Read(root, time.Time{})
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range all {
		if e.Status == StatusKilled {
			out = append(out, e)
		}
	}
	return out, nil
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func userName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprint(os.Getuid())
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// manifestStamps records the modification time and size of each
// manifest in dir.
func manifestStamps(dir string) map[string]stamp {
	out := map[string]stamp{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && !st.IsDir() {
			out[e.Name()] = stamp{st.ModTime(), st.Size()}
		}
	}
	return out
}

// manifestFiles gathers the inputs and outputs of the stage manifests in
// dir written since before was taken.
func manifestFiles(dir string, before map[string]stamp) (in, out []File) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p) // follows a mounted link
		if err != nil || st.IsDir() {
			continue
		}
		if b, ok := before[e.Name()]; ok && b.mod.Equal(st.ModTime()) && b.size == st.Size() {
			continue // not written by this run
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var m struct {
			Inputs, Outputs []struct {
				Path   string `json:"path"`
				SHA256 string `json:"sha256"`
				Rows   int64  `json:"rows"`
			}
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		for _, f := range m.Inputs {
			in = append(in, File{e.Name(), f.Path, f.SHA256, f.Rows})
		}
		for _, f := range m.Outputs {
			out = append(out, File{e.Name(), f.Path, f.SHA256, f.Rows})
		}
	}
	return in, out
}
