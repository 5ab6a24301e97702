//go:build duckdb_arrow

// Package demo builds a small generated book for the scoring tests: gen →
// ingest → perf → features (A-card at the as-of date, B-card month ends)
// → train (A-card and B-card), all in-process through the stages' own
// packages.
package demo

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

// Book is a built demo book.
type Book struct {
	Lake   string
	ACard  string // model directory
	BCard  string // model directory
	AsOf   time.Time
	BCards []time.Time // B-card snapshot month ends
}

// Build writes a book of loans loans (seed 1, 2021-01 for 36 months,
// as of 2023-12-31) under dir, with B-card snapshots from 2022-07 to
// 2023-12, and trains both cards.
func Build(ctx context.Context, dir string, loans int) (*Book, error) {
	log := slog.New(slog.DiscardHandler)
	raw, lk, models := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "models")
	cfg := gen.DefaultConfig()
	cfg.Loans, cfg.Progress = loans, io.Discard
	if _, err := gen.Generate(ctx, cfg, raw, log); err != nil {
		return nil, fmt.Errorf("demo gen: %w", err)
	}
	key, err := pii.LoadTokenKey(lk, filepath.Join(dir, "keys", pii.KeyFileName), log)
	if err != nil {
		return nil, err
	}
	if _, err := ingest.Run(ctx, ingest.Options{Raw: raw, Lake: lk, Key: key, Log: log, Progress: io.Discard, MaxRejectRate: 0.05}); err != nil {
		return nil, fmt.Errorf("demo ingest: %w", err)
	}
	b := &Book{Lake: lk, AsOf: time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)}
	pc := perf.DefaultConfig()
	pc.AsOf = b.AsOf
	if _, err := perf.Run(ctx, lake.New(lk), pc, log); err != nil {
		return nil, fmt.Errorf("demo perf: %w", err)
	}
	if b.BCards, err = features.MonthEnds(time.Date(2022, 7, 1, 0, 0, 0, 0, time.UTC), b.AsOf); err != nil {
		return nil, err
	}
	if _, err := features.Run(ctx, lake.New(lk), features.SetBCard, b.BCards, lake.DBOptions{MemoryLimit: "2GB"}, log); err != nil {
		return nil, fmt.Errorf("demo features: %w", err)
	}
	if _, err := features.Run(ctx, lake.New(lk), features.SetACard, []time.Time{b.AsOf}, lake.DBOptions{MemoryLimit: "2GB"}, log); err != nil {
		return nil, fmt.Errorf("demo features: %w", err)
	}
	for _, set := range []string{"acard", "bcard"} {
		tc := train.NewConfig()
		tc.Lake, tc.Model, tc.Out = lk, set, models
		if set == "acard" {
			tc.AsOf = "2023-12-31"
		}
		res, err := train.Run(ctx, tc, log)
		if err != nil {
			return nil, fmt.Errorf("demo train %s: %w", set, err)
		}
		if set == "acard" {
			b.ACard = res.Dir
		} else {
			b.BCard = res.Dir
		}
	}
	return b, nil
}
