package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"qiandun/internal/durable"
	"qiandun/internal/lakelock"
)

// ExecFunc runs one stage of the DAG with env (the config's layout and
// the runner's logger and writers).
type ExecFunc func(ctx context.Context, name string, st Stage, env *Env) error

// Options select what a run does.
type Options struct {
	// From re-runs that stage and everything downstream of it.
	From string
	// Only runs just that stage.
	Only string
	// To runs only that stage and the stages upstream of it (each still
	// skipped when unchanged).
	To string
	// Force re-runs every stage (gen still only when its data is absent).
	Force bool
}

// Status of a stage in a run.
const (
	StatusRan     = "ran"
	StatusSkipped = "skipped"
	StatusFailed  = "failed"
	StatusBlocked = "blocked" // an upstream stage failed
)

// Result is what happened to one stage.
type Result struct {
	Stage    string
	Status   string
	Reason   string
	Duration time.Duration
	// Rows is the sum of outputs[].rows over the stage's manifests (-1
	// when it has none).
	Rows int64
	Err  error
}

// Summary is the outcome of a run.
type Summary struct {
	Results   []Result
	Artifacts []KV // name -> existing path
	Duration  time.Duration
}

// Record is the run manifest of one stage: <state>/<stage>.json.
type Record struct {
	Stage    string    `json:"stage"`
	Status   string    `json:"status"` // ok | failed
	Error    string    `json:"error,omitempty"`
	Reason   string    `json:"reason"` // why it last ran
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Seconds  float64   `json:"duration_seconds"`
	// ConfigSHA256 is the sha256 of the stage's expanded config section.
	ConfigSHA256 string `json:"config_sha256"`
	// CodeVersion is the qiandun version that ran the stage: new code is
	// an input too, so a stage re-runs when it changes.
	CodeVersion string `json:"code_version,omitempty"`
	// Upstream holds the output fingerprint of each needed stage the
	// last successful run read.
	Upstream map[string]string `json:"upstream"`
	// Output is the fingerprint of the stage's outputs after that run;
	// Files are its parts.
	Output string    `json:"output_fingerprint"`
	Files  []FileRec `json:"output_files"`
	Rows   int64     `json:"rows"`
}

// Runner runs a Config's stages.
type Runner struct {
	Config *Config
	// Exec runs a stage; nil calls its Check and Run. qiandun's wraps
	// them in the lake's audit trail and writer lock (stages.Exec).
	Exec ExecFunc
	// Log receives structured lines; Out the progress bars and summary;
	// Stdout the stages' own summary lines (default Out).
	Log    *slog.Logger
	Out    io.Writer
	Stdout io.Writer
	// CodeVersion, when set, is recorded with every run; a stage last run
	// by another version re-runs.
	CodeVersion string
	// Lake is the lake the run writes. Its writer lock (lakelock) is held
	// for the whole run and passed to the stages in their context, so a
	// stage started beside the run is refused while the run's own stages
	// take it again freely. Empty means the state directory's parent lake
	// is not known: the lock is taken on the state directory.
	Lake string
}

type runState struct {
	r       *Runner
	log     *slog.Logger
	records map[string]*Record
	fps     map[string]string // live output fingerprints, computed lazily
	files   map[string][]FileRec
}

// Run runs the DAG. It returns the summary and, when a stage failed, an
// error naming it; stages downstream of a failure do not run.
func (r *Runner) Run(ctx context.Context, opt Options) (*Summary, error) {
	c := r.Config
	order, err := c.Order()
	if err != nil {
		return nil, err
	}
	if opt.From != "" && opt.Only != "" {
		return nil, errors.New("--from and --only exclude each other")
	}
	if opt.To != "" && opt.Only != "" {
		return nil, errors.New("--to and --only exclude each other")
	}
	for _, n := range []string{opt.From, opt.Only, opt.To} {
		if n != "" && c.Stage(n) == nil {
			return nil, fmt.Errorf("unknown stage %q (stages: %s)", n, strings.Join(stageNames(order), ", "))
		}
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	out := r.Out
	if out == nil {
		out = io.Discard
	}
	lockDir := r.Lake
	if lockDir == "" {
		lockDir = c.State
	}
	ctx, unlock, err := lakelock.Acquire(ctx, lockDir, log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Under the lock: the temporary files of run manifests a killed run
	// was writing.
	if err := durable.CleanTemp(c.State); err != nil {
		return nil, fmt.Errorf("run state %s: %w", c.State, err)
	}
	rs := &runState{r: r, log: log, records: map[string]*Record{}, fps: map[string]string{}, files: map[string][]FileRec{}}
	var from, to map[string]bool
	if opt.From != "" {
		from = c.Downstream(opt.From)
	}
	if opt.To != "" {
		to = c.Upstream(opt.To)
	}
	start := time.Now()
	sum := &Summary{}
	failed := map[string]bool{}
	var firstErr error
	for _, s := range order {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		res := Result{Stage: s.Name, Rows: -1}
		if blocker := firstFailed(s.Needs, failed); blocker != "" {
			failed[s.Name] = true
			res.Status, res.Reason = StatusBlocked, "upstream stage "+blocker+" failed"
			log.Warn("stage blocked", "stage", s.Name, "reason", res.Reason)
			sum.Results = append(sum.Results, res)
			continue
		}
		if to != nil && !to[s.Name] {
			res.Status, res.Reason = StatusSkipped, "downstream of --to "+opt.To
			log.Info("stage skipped", "stage", s.Name, "reason", res.Reason)
			sum.Results = append(sum.Results, res)
			continue
		}
		run, reason, err := rs.decide(s, opt, from)
		if err != nil {
			return sum, fmt.Errorf("stage %s: %w", s.Name, err)
		}
		if !run {
			res.Status, res.Reason = StatusSkipped, reason
			res.Rows = manifestRows(s.IO.Manifests)
			log.Info("stage skipped", "stage", s.Name, "reason", reason)
			sum.Results = append(sum.Results, res)
			continue
		}
		log.Info("stage start", "stage", s.Name, "reason", reason)
		res = rs.runStage(ctx, s, reason, out, log)
		if res.Err != nil {
			failed[s.Name] = true
			if firstErr == nil {
				firstErr = res.Err
				if !strings.HasPrefix(res.Err.Error(), "stage "+s.Name) { // an out-of-memory error names it already
					firstErr = fmt.Errorf("stage %s: %w", s.Name, res.Err)
				}
			}
			log.Error("stage failed", "stage", s.Name, "seconds", res.Duration.Seconds(), "err", res.Err)
		} else {
			log.Info("stage done", "stage", s.Name, "seconds", round2(res.Duration.Seconds()), "rows", res.Rows)
		}
		sum.Results = append(sum.Results, res)
	}
	sum.Duration = time.Since(start)
	for _, a := range c.Artifacts {
		if p := lastMatch(a.Value); p != "" {
			sum.Artifacts = append(sum.Artifacts, KV{a.Key, p})
		}
	}
	return sum, firstErr
}

// decide says whether stage s runs, and why.
func (rs *runState) decide(s *Node, opt Options, from map[string]bool) (bool, string, error) {
	named := opt.Only == s.Name || opt.From == s.Name
	if opt.Only != "" && !named {
		return false, "not selected (--only " + opt.Only + ")", nil
	}
	if from != nil && !from[s.Name] {
		return false, "upstream of --from " + opt.From, nil
	}
	if abs := s.IO.OnlyIfAbsent; abs != "" && !named {
		if _, err := os.Stat(abs); err == nil {
			return false, abs + " exists (" + s.Name + " runs only when it is absent)", nil
		}
		return true, abs + " is absent", nil
	}
	switch {
	case opt.Only == s.Name:
		return true, "--only " + s.Name, nil
	case from != nil:
		return true, "--from " + opt.From, nil
	case opt.Force:
		return true, "--force", nil
	}
	rec, err := rs.record(s.Name)
	if err != nil {
		return false, "", err
	}
	if rec == nil {
		return true, "no previous run", nil
	}
	if rec.Status != "ok" {
		return true, "last run " + rec.Status, nil
	}
	if rec.ConfigSHA256 != configSHA(s) {
		return true, "config section changed", nil
	}
	if rs.r.CodeVersion != "" && rec.CodeVersion != rs.r.CodeVersion {
		return true, "code version changed (" + rec.CodeVersion + " -> " + rs.r.CodeVersion + ")", nil
	}
	for _, d := range s.Needs {
		fp, err := rs.outputFP(d)
		if err != nil {
			return false, "", err
		}
		if rec.Upstream[d] != fp {
			return true, "output of " + d + " changed", nil
		}
	}
	fp, err := rs.outputFP(s.Name)
	if err != nil {
		return false, "", err
	}
	if fp != rec.Output {
		return true, "own outputs changed or missing", nil
	}
	return false, "unchanged since " + rec.Finished.Format(time.RFC3339), nil
}

func (rs *runState) runStage(ctx context.Context, s *Node, reason string, out io.Writer, log *slog.Logger) Result {
	res := Result{Stage: s.Name, Status: StatusRan, Reason: reason, Rows: -1}
	rec := &Record{Stage: s.Name, Reason: reason, Started: time.Now().UTC(), ConfigSHA256: configSHA(s), CodeVersion: rs.r.CodeVersion, Upstream: map[string]string{}}
	prev, _ := rs.record(s.Name)
	for _, d := range s.Needs {
		fp, err := rs.outputFP(d)
		if err != nil {
			res.Status, res.Err = StatusFailed, err
			return res
		}
		rec.Upstream[d] = fp
	}
	stdout := rs.r.Stdout
	if stdout == nil {
		stdout = out
	}
	env := &Env{Layout: rs.r.Config.Layout, Log: log, Stdout: stdout, Stderr: out}
	exec := rs.r.Exec
	if exec == nil {
		exec = Exec
	}
	err := exec(ctx, s.Name, s.Stage, env)
	rec.Finished = time.Now().UTC()
	rec.Seconds = round2(rec.Finished.Sub(rec.Started).Seconds())
	res.Duration = rec.Finished.Sub(rec.Started)
	delete(rs.fps, s.Name)
	if err != nil {
		res.Status, res.Err = StatusFailed, err
		// Keep what the last successful run recorded; mark it failed so the
		// next run retries.
		if prev != nil {
			keep := *prev
			rec = &keep
		}
		rec.Status, rec.Error, rec.Reason = "failed", err.Error(), reason
		_ = rs.writeRecord(rec) // the stage error is the one to report
		return res
	}
	var files []FileRec
	if prev != nil {
		files = prev.Files
	}
	fp, files, ferr := fingerprintOutputs(s.IO.Writes, rs.r.Config.State, files)
	if ferr != nil {
		res.Status, res.Err = StatusFailed, ferr
		return res
	}
	rs.fps[s.Name], rs.files[s.Name] = fp, files
	rec.Status, rec.Output, rec.Files = "ok", fp, files
	rec.Rows = manifestRows(s.IO.Manifests)
	res.Rows = rec.Rows
	if err := rs.writeRecord(rec); err != nil {
		res.Status, res.Err = StatusFailed, err
	}
	return res
}

// Exec runs a stage without the runner: its Check, then its Run.
func Exec(ctx context.Context, _ string, st Stage, env *Env) error {
	if ch, ok := st.(Checker); ok {
		if err := ch.Check(env.Layout); err != nil {
			return err
		}
	}
	return st.Run(ctx, env)
}

// record returns the stage's run manifest, or nil when it has none.
func (rs *runState) record(name string) (*Record, error) {
	if r, ok := rs.records[name]; ok {
		return r, nil
	}
	path := filepath.Join(rs.r.Config.State, name+".json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		rs.records[name] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		// A damaged record means: run again.
		rs.log.Warn("unreadable run manifest; stage will re-run", "path", path, "err", err)
		rs.records[name] = nil
		return nil, nil
	}
	rs.records[name] = &r
	return &r, nil
}

func (rs *runState) writeRecord(r *Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	rs.records[r.Stage] = r
	path := filepath.Join(rs.r.Config.State, r.Stage+".json")
	if err := durable.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write run manifest %s: %w", path, err)
	}
	return nil
}

// outputFP is the live fingerprint of a stage's outputs.
func (rs *runState) outputFP(name string) (string, error) {
	if fp, ok := rs.fps[name]; ok {
		return fp, nil
	}
	rec, err := rs.record(name)
	if err != nil {
		return "", err
	}
	var prev []FileRec
	if rec != nil {
		prev = rec.Files
	}
	fp, files, err := fingerprintOutputs(rs.r.Config.Stage(name).IO.Writes, rs.r.Config.State, prev)
	if err != nil {
		return "", err
	}
	rs.fps[name], rs.files[name] = fp, files
	return fp, nil
}

// manifestRows sums outputs[].rows over the given stage manifests (or,
// for a manifest whose outputs carry no row counts, its counts named rows
// or *_rows, or its top-level rows); -1 when none is readable.
func manifestRows(paths []string) int64 {
	total, found := int64(0), false
	for _, p := range paths {
		for _, m := range globOrSelf(p) {
			b, err := os.ReadFile(m)
			if err != nil {
				continue
			}
			var man struct {
				Outputs []struct {
					Rows int64 `json:"rows"`
				} `json:"outputs"`
				Rows   *int64           `json:"rows"`
				Counts map[string]int64 `json:"counts"`
			}
			if json.Unmarshal(b, &man) != nil {
				continue
			}
			found = true
			n := int64(0)
			for _, o := range man.Outputs {
				n += o.Rows
			}
			if n == 0 {
				for k, v := range man.Counts {
					if k == "rows" || strings.HasSuffix(k, "_rows") {
						n += v
					}
				}
			}
			if n == 0 && man.Rows != nil {
				n = *man.Rows
			}
			total += n
		}
	}
	if !found {
		return -1
	}
	return total
}

func globOrSelf(p string) []string {
	m, err := filepath.Glob(p)
	if err != nil || len(m) == 0 {
		return []string{p}
	}
	return m
}

// lastMatch returns the most recently modified match of pat (ties: the
// lexically last).
func lastMatch(pat string) string {
	m, _ := filepath.Glob(pat)
	best, bestT := "", time.Time{}
	sort.Strings(m)
	for _, p := range m {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if best == "" || !fi.ModTime().Before(bestT) {
			best, bestT = p, fi.ModTime()
		}
	}
	return best
}

func firstFailed(needs []string, failed map[string]bool) string {
	for _, d := range needs {
		if failed[d] {
			return d
		}
	}
	return ""
}

func stageNames(ss []*Node) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// Write prints the closing summary: per stage status, duration, rows and
// reason, then the artifacts.
func (s *Summary) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "stage\tstatus\tseconds\trows\treason")
	for _, r := range s.Results {
		secs, rows := "-", "-"
		if r.Status == StatusRan || r.Status == StatusFailed {
			secs = fmt.Sprintf("%.1f", r.Duration.Seconds())
		}
		if r.Rows >= 0 {
			rows = fmt.Sprint(r.Rows)
		}
		reason := r.Reason
		if r.Err != nil {
			reason += ": " + r.Err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Stage, r.Status, secs, rows, reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "total %.1fs\n", s.Duration.Seconds())
	for _, a := range s.Artifacts {
		fmt.Fprintf(w, "%-14s %s\n", a.Key+":", a.Value)
	}
	return nil
}
