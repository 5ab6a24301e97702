// Command qiandun runs the stages of the qiandun credit-risk pipeline.
//
//	qiandun <stage> [flags]
//
// Every stage is a subcommand with its own --help; `qiandun run` runs the
// whole DAG declared in pipelines/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"syscall"
)

// env is what every subcommand gets: where to write, and the logger.
type env struct {
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"gen":       {"write synthetic raw exports (the demo book)", runGen},
		"ingest":    {"raw CSV/TSV/JSONL exports -> validated Parquet lake + quarantine", runIngest},
		"sql":       {"query the lake with DuckDB", runSQL},
		"perf":      {"loan x month performance panel, vintages, roll rates, labels, disclosure", runPerf},
		"features":  {"point-in-time feature snapshots (A-card, B-card)", runFeatures},
		"train":     {"fit a scorecard: binning, WoE/IV, selection, logistic regression", runTrain},
		"score":     {"batch score files", runScore},
		"warn":      {"post-loan early-warning list", runWarn},
		"report":    {"model and portfolio reports (HTML)", runReport},
		"bureau":    {"monthly credit-bureau reporting files (PBOC, Baihang)", runBureau},
		"disclose":  {"monthly information disclosure: operating data, masked project pages (static site)", runDisclose},
		"run":       {"run the whole pipeline DAG", runRun},
		"vault":     {"the encrypted PII vault: vault rotate re-encrypts it under a new key", runVault},
		"audit":     {"print the lake's audit trail (who ran which stage, when, with what result)", runAudit},
		"repair":    {"lost-contact repair: candidate channels per lost loan, the collection queue", runRepair},
		"reconcile": {"custody reconciliation: platform records against the custodian's statement, balances, migration", runReconcile},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: qiandun <command> [flags]\n\ncommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'qiandun <command> --help' for a command's flags.")
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	level := slog.LevelInfo
	if os.Getenv("QIANDUN_LOG") == "debug" {
		level = slog.LevelDebug
	}
	e := &env{stdout: stdout, stderr: stderr, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "qiandun: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if p := os.Getenv(cpuProfileEnv); p != "" {
		stopProfile, err := startCPUProfile(p)
		if err != nil {
			fmt.Fprintf(stderr, "qiandun: %s: %v\n", cpuProfileEnv, err)
			return 1
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Every subcommand given a --lake is audited here; `qiandun run`
	// audits itself and its in-process stages (its lake is in its config).
	if err := runAudited(ctx, e, args[0], cmd, args[1:], flagValue(args[1:], "lake"), ""); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "qiandun %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// cpuProfileEnv names a file to which the command writes a Go CPU profile
// (runtime/pprof; read it with go tool pprof). DuckDB's own work shows
// there as cgo calls.
const cpuProfileEnv = "QIANDUN_CPUPROFILE"

// startCPUProfile starts a CPU profile into path and returns what stops it.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// flagErrHelp is what a subcommand returns for --help.
var flagErrHelp = flag.ErrHelp

// newFlags returns a flag set for a subcommand that prints its usage with
// a one-line description and returns flag.ErrHelp for --help.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("qiandun "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: qiandun %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}
