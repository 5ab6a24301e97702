package features

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"qiandun/data/lake"
	"qiandun/internal/durable"
	"qiandun/internal/version"
)

// MonthEnds returns the last day of every month from the month of from
// to the month of to, inclusive.
func MonthEnds(from, to time.Time) ([]time.Time, error) {
	a := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	b := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	if b.Before(a) {
		return nil, fmt.Errorf("features: range %s..%s is empty", a.Format("2006-01"), b.Format("2006-01"))
	}
	var out []time.Time
	for m := a; !m.After(b); m = m.AddDate(0, 1, 0) {
		out = append(out, m.AddDate(0, 1, -1))
	}
	return out, nil
}

// Run computes the snapshots of set for every date in asOf, writes the
// catalog CSV to <lake>/features/catalog.csv and the manifest
// <lake>/_manifests/features-<set>.json (catalog version, rows per
// snapshot, timings).
func Run(ctx context.Context, l lake.Lake, set string, asOf []time.Time, opts lake.DBOptions, log *slog.Logger) ([]Snapshot, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if set != SetACard && set != SetBCard {
		return nil, fmt.Errorf("features: unknown set %q (want acard or bcard)", set)
	}
	if len(asOf) == 0 {
		return nil, fmt.Errorf("features: no as-of date")
	}
	if _, err := os.Stat(l.Root); err != nil {
		return nil, fmt.Errorf("features: lake: %w", err)
	}
	cat, err := DefaultCatalog()
	if err != nil {
		return nil, err
	}
	m := NewManifest("features-"+set, set, cat)
	db, err := l.OpenDB(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	defer conn.Close()
	for _, name := range append(InputTables(), Intermediates()...) {
		files, _ := filepath.Glob(l.Glob(name))
		for _, f := range files {
			var rows int64
			if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+lake.Quote(f)+")").Scan(&rows); err != nil {
				return nil, fmt.Errorf("features: manifest: rows of %s: %w", f, err)
			}
			in, err := ManifestFile(l, f, rows)
			if err != nil {
				return nil, err
			}
			m.Inputs = append(m.Inputs, in)
		}
	}
	// One commit: this run's snapshots, the catalog and the manifest.
	// Snapshots accumulate: the set's other dates are kept.
	c, err := l.Begin("features-" + set)
	if err != nil {
		return nil, err
	}
	defer c.Abort()
	mounts := []string{"features/" + set}
	if set == SetACard {
		mounts = append(mounts, "features/fraud_flags")
	}
	for _, m := range mounts {
		if err := c.Keep(m); err != nil {
			return nil, err
		}
	}
	staged := func(p string) string { return c.Staged.TableDir(rel(l, p)) }
	b := NewBuilder(l, cat, conn, log)
	b.Out = c.Staged
	var dates []string
	var snaps []Snapshot
	for _, d := range asOf {
		s, err := b.Build(ctx, set, d)
		if err != nil {
			return snaps, fmt.Errorf("%s as of %s: %w", set, DateString(d), err)
		}
		snaps = append(snaps, s)
		ds := DateString(s.AsOf)
		dates = append(dates, ds)
		m.Counts["rows_"+ds] = s.Rows
		m.Timings[ds] = s.Seconds
		if err := AddOutput(c.Staged, m, staged(filepath.Join(s.Path, "part-0.parquet")), s.Rows); err != nil {
			return snaps, err
		}
		if s.FlagsPath != "" {
			m.Counts["flags_"+ds] = s.Flags
			if err := AddOutput(c.Staged, m, staged(filepath.Join(s.FlagsPath, "part-0.parquet")), s.Flags); err != nil {
				return snaps, err
			}
		}
	}
	MergePrevious(l, m, set, dates)
	if err := CommitCatalog(c, m, cat); err != nil {
		return snaps, err
	}
	if err := CommitManifest(c, m); err != nil {
		return snaps, err
	}
	c.MountStaged(mounts...)
	return snaps, c.Commit()
}

// CatalogFile is where a features commit writes the catalog CSV,
// relative to the lake (or output) root.
const CatalogFile = "features/catalog.csv"

// NewManifest starts the manifest of a run of stage building the
// snapshots of set: code version, start time, the set, the catalog's
// version and its number of features in the set. The run adds its
// inputs, outputs, rows_<date> counts and timings.
func NewManifest(stage, set string, cat Catalog) *lake.Manifest {
	return &lake.Manifest{Stage: stage, Version: version.String(), Started: time.Now().UTC(),
		Config: map[string]any{"set": set}, Counts: map[string]int64{}, Timings: map[string]float64{},
		Extra: map[string]any{"catalog_version": cat.Version, "features": len(cat.Set(set))}}
}

// CommitCatalog writes the whole catalog (every set's features) to
// CatalogFile in commit c, lists it in m's outputs (rows: the number of
// features) and mounts it. Every features commit carries it (the same
// bytes for the same code): the last commit's is mounted.
func CommitCatalog(c *lake.Commit, m *lake.Manifest, cat Catalog) error {
	var buf bytes.Buffer
	if err := cat.WriteCSV(&buf); err != nil {
		return err
	}
	p := c.Path(CatalogFile)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	if err := AddOutput(c.Staged, m, p, int64(len(cat.Features))); err != nil {
		return err
	}
	c.Mount(CatalogFile)
	return nil
}

// CommitManifest finishes m and writes it into commit c (mounted at
// _manifests/<stage>.json). config.as_of is every snapshot date of
// extra.snapshots (built now or carried over), sorted, so the manifest
// describes the lake and not the last call (the B-card's training and
// as-of snapshots are two runs); the outputs are in path order, whatever
// order the snapshots were built or carried over in, so the same lake
// gives the same manifest bytes.
func CommitManifest(c *lake.Commit, m *lake.Manifest) error {
	var all []string
	if snaps, ok := m.Extra["snapshots"].(map[string]any); ok {
		for d := range snaps {
			all = append(all, d)
		}
	}
	sort.Strings(all)
	m.Config["as_of"] = all
	sort.Slice(m.Outputs, func(i, j int) bool { return m.Outputs[i].Path < m.Outputs[j].Path })
	m.Finished = time.Now().UTC()
	return c.WriteManifest(m)
}

func rel(l lake.Lake, p string) string {
	if r, err := filepath.Rel(l.Root, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

// ManifestFile describes the file at path for a manifest: its path
// relative to l's root, its SHA-256 and rows.
func ManifestFile(l lake.Lake, path string, rows int64) (lake.File, error) {
	sum, err := durable.SHA256(path)
	if err != nil {
		return lake.File{}, fmt.Errorf("features: manifest: %w", err)
	}
	return lake.File{Path: rel(l, path), SHA256: sum, Rows: rows}, nil
}

// AddOutput appends the file at path, written in the staged lake l, to
// m's outputs (ManifestFile).
func AddOutput(l lake.Lake, m *lake.Manifest, path string, rows int64) error {
	f, err := ManifestFile(l, path, rows)
	if err != nil {
		return err
	}
	m.Outputs = append(m.Outputs, f)
	return nil
}

// MergePrevious keeps, in the new manifest m of a run of set that built
// the snapshots at dates, the snapshots of earlier runs of the same stage
// (m.Stage, whose manifest is read from l) at other dates that are still
// in l (a pipeline computes training month ends and the as-of month in
// separate runs): their outputs and counts. Every snapshot's rows and
// catalog version are kept per date in extra.snapshots.
func MergePrevious(l lake.Lake, m *lake.Manifest, set string, dates []string) {
	snaps := map[string]any{}
	for _, d := range dates {
		snaps[d] = map[string]any{"rows": m.Counts["rows_"+d], "catalog_version": m.Extra["catalog_version"]}
	}
	prev, err := l.ReadManifest(m.Stage)
	if err == nil {
		now := map[string]bool{}
		for _, d := range dates {
			now[d] = true
		}
		if old, ok := prev.Extra["snapshots"].(map[string]any); ok {
			for d, v := range old {
				if now[d] {
					continue
				}
				if _, err := os.Stat(filepath.Join(l.Root, "features", set, "as_of="+d)); err != nil {
					continue
				}
				snaps[d] = v
				for _, k := range []string{"rows_" + d, "flags_" + d} {
					if c, ok := prev.Counts[k]; ok {
						m.Counts[k] = c
					}
				}
				for _, o := range prev.Outputs {
					if strings.Contains(o.Path, "as_of="+d+"/") {
						m.Outputs = append(m.Outputs, o)
					}
				}
			}
		}
	}
	m.Extra["snapshots"] = snaps
}
