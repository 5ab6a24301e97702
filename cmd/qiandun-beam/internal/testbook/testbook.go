//go:build duckdb_arrow

// Package testbook builds the small generated book the qiandun-beam tests
// compare against the DuckDB engine: gen → ingest → perf → features
// (B-card month ends, A-card at the as-of date) → train (A-card and
// B-card), in-process through the stages' own packages, as the scoring
// tests' fixture does (scoring/internal/demo, internal to scoring/).
package testbook

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"qiandun/data/gen"
	"qiandun/data/ingest"
	"qiandun/data/ingest/pii"
	"qiandun/data/lake"
	"qiandun/data/perf"
	"qiandun/features"
	"qiandun/training/train"
)

// Book is a built book.
type Book struct {
	Lake  string
	ACard string // A-card model directory
	BCard string // B-card model directory
	AsOf  time.Time
}

// Build writes a book of loans loans (seed 1, 2021-01 for 36 months, as
// of 2023-12-31) under dir; with models it also builds the features and
// trains the cards.
func Build(ctx context.Context, dir string, loans int, models bool) (*Book, error) {
	log := slog.New(slog.DiscardHandler)
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Progress = loans, io.Discard
	if _, err := gen.Generate(ctx, cfg, raw, log); err != nil {
		return nil, fmt.Errorf("testbook gen: %w", err)
	}
	key, err := pii.LoadTokenKey(lk, filepath.Join(dir, "keys", pii.KeyFileName), log)
	if err != nil {
		return nil, err
	}
	if _, err := ingest.Run(ctx, ingest.Options{Raw: raw, Lake: lk, Key: key, Log: log, Progress: io.Discard, MaxRejectRate: 0.05}); err != nil {
		return nil, fmt.Errorf("testbook ingest: %w", err)
	}
	b := &Book{Lake: lk, AsOf: time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)}
	pc := perf.DefaultConfig()
	pc.AsOf = b.AsOf
	if _, err := perf.Run(ctx, lake.New(lk), pc, log); err != nil {
		return nil, fmt.Errorf("testbook perf: %w", err)
	}
	if !models {
		return b, nil
	}
	ends, err := features.MonthEnds(time.Date(2022, 7, 1, 0, 0, 0, 0, time.UTC), b.AsOf)
	if err != nil {
		return nil, err
	}
	if _, err := features.Run(ctx, lake.New(lk), features.SetBCard, ends, lake.DBOptions{MemoryLimit: "2GB"}, log); err != nil {
		return nil, fmt.Errorf("testbook features: %w", err)
	}
	if _, err := features.Run(ctx, lake.New(lk), features.SetACard, []time.Time{b.AsOf}, lake.DBOptions{MemoryLimit: "2GB"}, log); err != nil {
		return nil, fmt.Errorf("testbook features: %w", err)
	}
	for _, set := range []string{"acard", "bcard"} {
		tc := train.NewConfig()
		tc.Lake, tc.Model, tc.Out = lk, set, filepath.Join(dir, "models")
		if set == "acard" {
			tc.AsOf = "2023-12-31"
		}
		res, err := train.Run(ctx, tc, log)
		if err != nil {
			return nil, fmt.Errorf("testbook train %s: %w", set, err)
		}
		if set == "acard" {
			b.ACard = res.Dir
		} else {
			b.BCard = res.Dir
		}
	}
	return b, nil
}
