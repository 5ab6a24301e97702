// Command guardcheck checks that a `qiandun run` of a pipeline config
// completed: every stage of the config has a run manifest with status ok
// and the stage manifests it declares, and the score file and the
// early-warning list hold rows. `make guard` runs it after running the
// shipped pipeline on a 200,000-loan book under a 512MB DuckDB memory
// limit, so a stage whose operators cannot spill fails CI.
//
//	go run ./internal/cmd/guardcheck --config pipelines/default.yaml --set root=guard --set loans=200000
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"qiandun/pipelines"
	"qiandun/stages"
)

// nonEmpty are the artifacts (the config's artifacts: keys) that must
// hold at least one row below their header.
var nonEmpty = []string{"scores", "early_warning"}

type vars map[string]string

func (v vars) String() string { return "" }

func (v vars) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=value, got %q", s)
	}
	v[k] = val
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "guardcheck:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("guardcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "pipelines/default.yaml", "pipeline config the run used")
	sets := vars{}
	fs.Var(sets, "set", "a config var the run set, name=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := pipelines.Load(*config, sets, stages.Registry())
	if err != nil {
		return err
	}
	problems, err := check(cfg)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("the run did not complete:\n  %s", strings.Join(problems, "\n  "))
	}
	fmt.Fprintf(stdout, "guardcheck: %d stages ok, %s non-empty\n", len(cfg.Stages), strings.Join(nonEmpty, " and "))
	return nil
}

// check returns what is missing from cfg's last run, one line each.
func check(cfg *pipelines.Config) ([]string, error) {
	order, err := cfg.Order()
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, n := range order {
		b, err := os.ReadFile(filepath.Join(cfg.State, n.Name+".json"))
		if err != nil {
			problems = append(problems, fmt.Sprintf("stage %s: no run manifest (%v)", n.Name, err))
			continue
		}
		var rec pipelines.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			problems = append(problems, fmt.Sprintf("stage %s: run manifest: %v", n.Name, err))
			continue
		}
		if rec.Status != "ok" {
			problems = append(problems, fmt.Sprintf("stage %s: status %q: %s", n.Name, rec.Status, rec.Error))
			continue
		}
		for _, m := range n.IO.Manifests {
			if ms, _ := filepath.Glob(m); len(ms) == 0 {
				problems = append(problems, fmt.Sprintf("stage %s: no manifest %s", n.Name, m))
			}
		}
	}
	arts := map[string]string{}
	for _, a := range cfg.Artifacts {
		arts[a.Key] = a.Value
	}
	for _, name := range nonEmpty {
		pat, ok := arts[name]
		if !ok {
			return nil, fmt.Errorf("the config has no artifact %q", name)
		}
		ms, _ := filepath.Glob(pat)
		if len(ms) == 0 {
			problems = append(problems, fmt.Sprintf("%s: no file %s", name, pat))
			continue
		}
		sort.Strings(ms)
		rows, err := dataRows(ms[len(ms)-1])
		if err != nil || rows == 0 {
			problems = append(problems, fmt.Sprintf("%s: %s has no rows (%v)", name, ms[len(ms)-1], err))
		}
	}
	return problems, nil
}

// dataRows counts the lines of a CSV file after its header (up to 2).
func dataRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := -1
	for n < 2 && sc.Scan() {
		n++
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	return max(n, 0), nil
}
