// Command benchlarge runs the whole pipeline on books of several sizes,
// one stage per process, and reports per stage the wall time, CPU time,
// rows and peak resident memory (from the kernel's accounting of the
// child process, so each stage's peak is its own), the time per million
// loans, and a chart of time per stage against book size.
//
//	go run ./internal/cmd/benchlarge --sizes 1000000,3000000,10000000
//
// It is what `make bench-large` runs (not in CI: a 10-million-loan book
// takes an hour and tens of GB of disk). Each size's book is written under
// --root/<loans> with the shipped pipeline config, and removed afterwards
// unless --keep (a kept book measured again with --stages, gen not among
// them, is never removed).
package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"qiandun/pipelines"
	"qiandun/stages"
)

// Measure is one stage run on one book.
type Measure struct {
	Loans   int     `json:"loans"`
	Stage   string  `json:"stage"`
	Status  string  `json:"status"` // ok | failed | not_run
	Wall    float64 `json:"wall_s"`
	CPU     float64 `json:"cpu_s"`
	PeakRSS float64 `json:"peak_rss_mib"`
	Rows    int64   `json:"rows"`
	DiskMiB float64 `json:"disk_mib"` // the book's size on disk after the stage
	Error   string  `json:"error,omitempty"`
}

type options struct {
	bin, config, root, out string
	sizes                  []int
	sets                   []string
	keep, dropRaw          bool
	merge                  []string              // earlier bench-large.csv files to add
	only                   map[string]bool       // the stages to measure; nil: all
	save                   func([]Measure) error // called with the measures so far after each stage
	stdout, stderr         io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchlarge:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchlarge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{stdout: stdout, stderr: stderr}
	fs.StringVar(&o.bin, "bin", "bin/qiandun", "the qiandun binary")
	fs.StringVar(&o.config, "config", "pipelines/default.yaml", "pipeline config")
	fs.StringVar(&o.root, "root", "bench-large", "where the books are written (root/<loans>)")
	fs.StringVar(&o.out, "out", "bench-large", "where the table (CSV, JSON) and the chart (PNG) go")
	sizes := fs.String("sizes", "1000000,3000000,10000000", "book sizes in loans, comma-separated")
	set := fs.String("set", "", "more config vars, name=value comma-separated (e.g. memory_limit=2GB)")
	fs.BoolVar(&o.keep, "keep", false, "keep each book this run generates after measuring it (a book measured with --stages and no gen is always kept)")
	fs.BoolVar(&o.dropRaw, "drop-raw", false, "remove the raw exports (not _truth) once ingest succeeded: no later stage reads them, and a 10M-loan book's are 98 GB as CSV, ~21 GB gzipped")
	merge := fs.String("merge", "", "earlier runs' bench-large.csv files, comma-separated: their rows join this run's in the table, the CSV and the chart (a stage measured again at the same size, in a later file or in this run, replaces the earlier row)")
	only := fs.String("stages", "", "measure only these stages, comma-separated, on a kept book (the others are skipped: their outputs must be there)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("--sizes: %q is not a positive number of loans", s)
		}
		o.sizes = append(o.sizes, n)
	}
	if *only != "" {
		o.only = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			o.only[strings.TrimSpace(s)] = true
		}
	}
	if *set != "" {
		o.sets = strings.Split(*set, ",")
	}
	if *merge != "" {
		o.merge = strings.Split(*merge, ",")
	}
	earlier, err := readResults(o.merge)
	if err != nil {
		return err
	}
	// The CSV and the chart are saved after every stage, so a run stopped
	// part way (a 10M book takes hours) keeps what it measured.
	o.save = func(ms []Measure) error { return saveResults(o, mergeResults(earlier, ms)) }
	ms, err := measureAll(ctx, o)
	ms = mergeResults(earlier, ms)
	if len(ms) > 0 {
		if werr := writeResults(o, ms); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// stageNames returns the config's stages in dependency order and, for
// each, the stages downstream of it (itself included).
func stageNames(config string, vars map[string]string) ([]string, map[string]map[string]bool, error) {
	cfg, err := pipelines.Load(config, vars, stages.Registry())
	if err != nil {
		return nil, nil, err
	}
	order, err := cfg.Order()
	if err != nil {
		return nil, nil, err
	}
	var names []string
	down := map[string]map[string]bool{}
	for _, s := range order {
		names = append(names, s.Name)
		down[s.Name] = cfg.Downstream(s.Name)
	}
	return names, down, nil
}

func measureAll(ctx context.Context, o options) ([]Measure, error) {
	var all []Measure
	for _, n := range o.sizes {
		root := filepath.Join(o.root, strconv.Itoa(n))
		// Reconcile's open-break limit follows the book (the demo's 1,000
		// yuan per loan, as make guard sets it); --set overrides.
		vars := map[string]string{"root": root, "loans": strconv.Itoa(n),
			"reconcile_max_open": strconv.Itoa(n*1000) + ".00"}
		for _, kv := range o.sets {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		stages, down, err := stageNames(o.config, vars)
		if err != nil {
			return all, err
		}
		// A failed stage's downstream stages are not run; the others are.
		failedUp := map[string]string{}
		generated := false
		for _, st := range stages {
			if up, ok := failedUp[st]; ok {
				all = append(all, Measure{Loans: n, Stage: st, Status: "not_run", Error: "needs " + up + ", which failed"})
				continue
			}
			if o.only != nil && !o.only[st] {
				continue
			}
			m := measure(ctx, o, vars, st)
			generated = generated || st == "gen"
			m.Loans = n
			m.DiskMiB = float64(diskUsage(root)) / (1 << 20)
			fmt.Fprintf(o.stderr, "benchlarge: %d loans %-8s %s %.1fs wall %.1fs CPU %.0f MiB peak %d rows, book %.0f MiB\n",
				n, st, m.Status, m.Wall, m.CPU, m.PeakRSS, m.Rows, m.DiskMiB)
			all = append(all, m)
			if o.save != nil {
				if err := o.save(all); err != nil {
					return all, err
				}
			}
			if m.Status != "ok" {
				for d := range down[st] {
					if _, ok := failedUp[d]; !ok {
						failedUp[d] = st
					}
				}
			} else if st == "ingest" && o.dropRaw {
				if err := dropRaw(filepath.Join(root, "raw")); err != nil {
					return all, err
				}
			}
			if err := ctx.Err(); err != nil {
				return all, err
			}
		}
		// Only a book this run generated is removed: one measured with
		// --stages, gen not among them, is the user's kept book.
		if !o.keep && generated {
			os.RemoveAll(root)
		}
	}
	return all, nil
}

// measure runs one stage in its own process and reads the kernel's
// accounting of it.
func measure(ctx context.Context, o options, vars map[string]string, stage string) Measure {
	args := []string{"run", "--config", o.config, "--only", stage, "--force", "--allow-outside"}
	for k, v := range vars {
		args = append(args, "--set", k+"="+v)
	}
	cmd := exec.CommandContext(ctx, o.bin, args...)
	var errBuf strings.Builder
	cmd.Stdout = io.Discard
	cmd.Stderr = &errBuf
	start := time.Now()
	err := cmd.Run()
	m := Measure{Stage: stage, Status: "ok", Wall: time.Since(start).Seconds()}
	if ps := cmd.ProcessState; ps != nil {
		m.CPU = (ps.UserTime() + ps.SystemTime()).Seconds()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			m.PeakRSS = float64(ru.Maxrss) / 1024 // Linux: KiB
		}
	}
	if err != nil {
		m.Status = "failed"
		m.Error = lastLines(errBuf.String(), 3)
		return m
	}
	m.Rows = stageRows(o.config, vars, stage)
	return m
}

// stageRows reads the row count the runner recorded for the stage.
func stageRows(config string, vars map[string]string, stage string) int64 {
	cfg, err := pipelines.Load(config, vars, stages.Registry())
	if err != nil {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(cfg.State, stage+".json"))
	if err != nil {
		return 0
	}
	var rec pipelines.Record
	if json.Unmarshal(b, &rec) != nil {
		return 0
	}
	return rec.Rows
}

// dropRaw removes the exports in raw, keeping _truth (the generator's
// answers, which backtests read).
func dropRaw(raw string) error {
	ents, err := os.ReadDir(raw)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() == "_truth" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(raw, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// diskUsage is the bytes of the regular files under root.
func diskUsage(root string) int64 {
	var n int64
	filepath.WalkDir(root, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func writeResults(o options, ms []Measure) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	w := tabwriter.NewWriter(o.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "loans\tstage\tstatus\twall s\tCPU s\tpeak RSS MiB\trows\tCPU s per M loans\tbook MiB\t")
	for _, m := range ms {
		rows := "-"
		if m.Rows >= 0 && m.Status == "ok" {
			rows = strconv.FormatInt(m.Rows, 10)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%.1f\t%.1f\t%.0f\t%s\t%.1f\t%.0f\t\n", m.Loans, m.Stage, m.Status, m.Wall, m.CPU, m.PeakRSS, rows, m.CPU/float64(m.Loans)*1e6, m.DiskMiB)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return saveResults(o, ms)
}

// saveResults writes bench-large.csv and the chart into o.out.
func saveResults(o options, ms []Measure) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	// Written to a temporary file and renamed: a run killed while saving
	// leaves the last whole CSV.
	path := filepath.Join(o.out, "bench-large.csv")
	f, err := os.CreateTemp(o.out, ".bench-large-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	cw := csv.NewWriter(f)
	cw.Write([]string{"loans", "stage", "status", "wall_s", "cpu_s", "peak_rss_mib", "rows", "disk_mib", "error"})
	for _, m := range ms {
		cw.Write([]string{strconv.Itoa(m.Loans), m.Stage, m.Status, ff(m.Wall), ff(m.CPU), ff(m.PeakRSS), strconv.FormatInt(m.Rows, 10), ff(m.DiskMiB), m.Error})
	}
	cw.Flush()
	if err := errors.Join(cw.Error(), f.Close()); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return chart(ms, filepath.Join(o.out, "bench-large.png"))
}

// readResults reads the measures of earlier runs' bench-large.csv files.
func readResults(paths []string) ([]Measure, error) {
	var out []Measure
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("--merge: %w", err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--merge %s: %w", p, err)
		}
		for i, r := range recs {
			if i == 0 {
				continue // header
			}
			if len(r) != 9 {
				return nil, fmt.Errorf("--merge %s: line %d: %d fields, want 9 (loans,stage,status,wall_s,cpu_s,peak_rss_mib,rows,disk_mib,error)", p, i+1, len(r))
			}
			var m Measure
			var errs [6]error
			m.Loans, errs[0] = strconv.Atoi(r[0])
			m.Stage, m.Status, m.Error = r[1], r[2], r[8]
			m.Wall, errs[1] = strconv.ParseFloat(r[3], 64)
			m.CPU, errs[2] = strconv.ParseFloat(r[4], 64)
			m.PeakRSS, errs[3] = strconv.ParseFloat(r[5], 64)
			m.Rows, errs[4] = strconv.ParseInt(r[6], 10, 64)
			m.DiskMiB, errs[5] = strconv.ParseFloat(r[7], 64)
			if err := errors.Join(errs[:]...); err != nil {
				return nil, fmt.Errorf("--merge %s: line %d: %w", p, i+1, err)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// mergeResults returns the earlier measures (in the order of their
// files) and this run's (ms), a later measure of the same size and stage
// taking the place of an earlier one, ordered by size.
func mergeResults(earlier, ms []Measure) []Measure {
	type key struct {
		loans int
		stage string
	}
	at := map[key]int{}
	var out []Measure
	for _, m := range append(slices.Clone(earlier), ms...) {
		k := key{m.Loans, m.Stage}
		if i, ok := at[k]; ok {
			out[i] = m
			continue
		}
		at[k] = len(out)
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Measure) int { return cmp.Compare(a.Loans, b.Loans) })
	return out
}

func ff(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// chart plots each stage's CPU time against book size (CPU time, not
// wall: the cores may be shared with other work).
func chart(ms []Measure, path string) error {
	p := plot.New()
	p.Title.Text = "qiandun: CPU time per stage by book size"
	p.X.Label.Text = "loans (millions)"
	p.Y.Label.Text = "CPU seconds"
	p.Legend.Top = true
	p.Legend.Left = true
	var stages []string
	pts := map[string]plotter.XYs{}
	for _, m := range ms {
		if m.Status != "ok" {
			continue
		}
		if _, ok := pts[m.Stage]; !ok {
			stages = append(stages, m.Stage)
		}
		pts[m.Stage] = append(pts[m.Stage], plotter.XY{X: float64(m.Loans) / 1e6, Y: m.CPU})
	}
	for i, s := range stages {
		l, sc, err := plotter.NewLinePoints(pts[s])
		if err != nil {
			return err
		}
		c := plotutil.Color(i)
		l.Color, sc.Color = c, c
		sc.Shape = plotutil.Shape(i)
		p.Add(l, sc)
		p.Legend.Add(s, l, sc)
	}
	p.Add(plotter.NewGrid())
	return p.Save(16*vg.Centimeter, 11*vg.Centimeter, path)
}
