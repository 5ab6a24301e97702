//go:build duckdb_arrow

// Command qiandun-beam runs qiandun's heavy per-row and per-loan stages as
// Apache Beam pipelines, for books that outgrow one machine:
//
//	qiandun-beam score --lake DIR --model MODEL_DIR --as-of YYYY-MM-DD --out DIR [--runner prism]
//	qiandun-beam perf  --lake DIR --as-of YYYY-MM-DD --out DIR [--runner prism]
//	qiandun-beam features --lake DIR [--set bcard] (--as-of YYYY-MM-DD | --from YYYY-MM [--to YYYY-MM]) --out DIR [--runner prism]
//
// The outputs are those of `qiandun score`, of perf's panel and of
// `qiandun features --set bcard` (the snapshots, catalog.csv and a
// manifest, _manifests/features-bcard-beam.json), committed by the same
// protocol (internal/durable). --runner defaults to prism (the
// local runner); the Beam runner flags (--endpoint, --project, --region,
// --staging_location, --worker_binary, ...) are accepted beside the
// command's own. Started by a runner as a worker (no subcommand), the
// binary runs the Beam worker harness.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"qiandun/cmd/qiandun-beam/beamfeatures"
	"qiandun/cmd/qiandun-beam/beamperf"
	"qiandun/cmd/qiandun-beam/beamscore"
	"qiandun/features"
	"qiandun/scoring/score"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "qiandun-beam:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	fs := flag.CommandLine
	lakeDir := fs.String("lake", "", "the lake root")
	asOf := fs.String("as-of", "", "as-of date YYYY-MM-DD")
	out := fs.String("out", "", "output root")
	runner := fs.String("runner", "prism", "Beam runner: prism, dataflow, flink, spark, universal")
	model := fs.String("model", "", "score: model version directory <models>/<name>/<version>")
	full := fs.Bool("full", false, "score: every application of the A-card snapshot, not the scoring window")
	rules := fs.String("rules", "", "score: decision rules YAML (qiandun score's --rules); default the built-in rules")
	set := fs.String("set", "bcard", "features: the feature set (bcard; the A-card is not on Beam)")
	from := fs.String("from", "", "features: first month YYYY-MM of a range of month-end snapshots")
	to := fs.String("to", "", "features: last month YYYY-MM of the range (default: --from)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// A worker started by a runner has no subcommand: Init runs the
	// harness and does not return.
	beam.Init()
	switch cmd {
	case "score":
		o := beamscore.Options{Lake: *lakeDir, Model: *model, AsOf: *asOf, Out: *out, Runner: *runner, Full: *full, Log: log}
		if *rules != "" {
			r, err := score.LoadRules(*rules)
			if err != nil {
				return err
			}
			o.Rules = r
		}
		man, dir, err := beamscore.Run(ctx, o)
		if err != nil {
			return err
		}
		fmt.Printf("scored %d rows: %s\n", man.Rows, dir)
		return nil
	case "perf":
		res, err := beamperf.Run(ctx, beamperf.Options{Lake: *lakeDir, AsOf: *asOf, Out: *out, Runner: *runner, Log: log})
		if err != nil {
			return err
		}
		fmt.Printf("panel: %d rows: %s\n", res.Rows, res.Dir)
		return nil
	case "features":
		dates, err := snapshotDates(*set, *asOf, *from, *to)
		if err != nil {
			return err
		}
		snaps, err := beamfeatures.Run(ctx, beamfeatures.Options{Lake: *lakeDir, AsOf: dates, Out: *out, Runner: *runner, Log: log})
		if err != nil {
			return err
		}
		for _, s := range snaps {
			fmt.Printf("bcard as of %s: %d rows: %s\n", s.AsOf, s.Rows, s.Dir)
		}
		return nil
	case "":
		return fmt.Errorf("usage: qiandun-beam score|perf|features [flags]")
	}
	return fmt.Errorf("unknown command %q (score, perf, features)", cmd)
}

// snapshotDates are the as-of dates of `features`: --as-of, or the month
// ends of --from..--to (features.MonthEnds, as `qiandun features`).
func snapshotDates(set, asOf, from, to string) ([]string, error) {
	if set != features.SetBCard {
		return nil, fmt.Errorf("features: --set %q: only bcard runs on Beam", set)
	}
	if (asOf == "") == (from == "") {
		return nil, fmt.Errorf("features: give --as-of or --from (and --to)")
	}
	if asOf != "" {
		return []string{asOf}, nil
	}
	if to == "" {
		to = from
	}
	a, err := time.Parse("2006-01", from)
	if err != nil {
		return nil, fmt.Errorf("features: --from %q: want YYYY-MM", from)
	}
	b, err := time.Parse("2006-01", to)
	if err != nil {
		return nil, fmt.Errorf("features: --to %q: want YYYY-MM", to)
	}
	ends, err := features.MonthEnds(a, b)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ends {
		out = append(out, features.DateString(e))
	}
	return out, nil
}
