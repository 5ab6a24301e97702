package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"qiandun/data/lake"
	"qiandun/data/schema"
	"qiandun/internal/progress"
)

// Lanes. Tables that reference no other and that no other references
// (the bureau tables) are loaded in a second lane, on their own DuckDB,
// beside the chain applications -> loans -> their children, so that one
// lane's reading fills the cores while the other's DuckDB writes.

// lanes returns the tables of each lane, in contract order.
func lanes() [][]schema.Table {
	referenced := map[string]bool{}
	for _, t := range schema.Tables() {
		for _, r := range t.Parents {
			referenced[r.Table] = true
		}
	}
	var chain, free []schema.Table
	for _, t := range schema.Tables() {
		if len(t.Parents) == 0 && !referenced[t.Name] {
			free = append(free, t)
		} else {
			chain = append(chain, t)
		}
	}
	return [][]schema.Table{chain, free}
}

// laneFloor is each lane's DuckDB memory without a stage limit, and its
// least with one: 800 and 300 MB (DuckDB's MB: 10^6 bytes).
var laneFloor = [2]int64{800e6, 300e6}

// laneLimit is lane i's DuckDB memory_limit: its floor, or its share
// (8/11, 3/11) of total ("auto": lake.DefaultMemoryLimit()) when larger.
func laneLimit(total string, i int) (string, error) {
	floor := laneFloor[min(i, 1)]
	if total == "" {
		return fmt.Sprintf("%dMB", floor/1e6), nil
	}
	if total == "auto" {
		total = lake.DefaultMemoryLimit()
	}
	b, err := parseBytes(total)
	if err != nil {
		return "", fmt.Errorf("ingest: memory_limit %q: %w", total, err)
	}
	share := int64(float64(b) * float64(floor) / float64(laneFloor[0]+laneFloor[1]))
	return fmt.Sprintf("%dMB", max(share, floor)/1e6), nil
}

// parseBytes reads a DuckDB memory size: a number and a unit, KB, MB, GB
// and TB in powers of 1000, KiB, MiB, GiB and TiB in powers of 1024
// (case and spaces ignored).
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.ReplaceAll(s, " ", ""))
	num := strings.TrimRight(t, "abcdefghijklmnopqrstuvwxyz")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a size such as 3GB or 512MiB")
	}
	unit := map[string]float64{"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}[t[len(num):]]
	if unit == 0 {
		return 0, fmt.Errorf("unknown unit in %q: want KB, MB, GB, TB or KiB, MiB, GiB, TiB", s)
	}
	return int64(v * unit), nil
}

// laneResult is what one lane did.
type laneResult struct {
	tables []TableResult
	files  []*fileRead
	errAt  int // contract position of the table that failed
	err    error
}

// runLanes loads the tables, lane by lane in parallel, and returns the
// first error in contract order (a lane stopped because the other failed
// does not count).
func runLanes(ctx context.Context, o Options, lk lake.Lake, work string, srcs []Source, sh *shared, rerun bool) ([]laneResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ls := lanes()
	outs := make([]laneResult, len(ls))
	var wg sync.WaitGroup
	for i, tables := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbo := o.DB
			if dbo.MemoryLimit == "" {
				// At least 1.1 GB together: with both lanes staging big
				// unsorted files the process peaks near 1.6 GiB at that
				// (direct loads need little: ~0.5 GiB at 1M loans).
				lim, err := laneLimit(o.MemoryLimit, i)
				if err != nil {
					outs[i].err = err
					cancel()
					return
				}
				dbo.MemoryLimit = lim
			}
			if i > 0 && dbo.TempDir == "" {
				dbo.TempDir = filepath.Join(work, fmt.Sprintf("duckdb-%d", i))
			}
			outs[i] = runLane(ctx, o, lk, work, srcs, sh, rerun, i, tables, dbo)
			if outs[i].err != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	var first *laneResult
	for i := range outs {
		if e := outs[i].err; e != nil && (first == nil || errors.Is(first.err, context.Canceled) ||
			(!errors.Is(e, context.Canceled) && outs[i].errAt < first.errAt)) {
			first = &outs[i]
		}
	}
	if first != nil {
		return nil, first.err
	}
	return outs, nil
}

// runLane loads the given tables, in order, on a DuckDB of its own.
func runLane(ctx context.Context, o Options, lk lake.Lake, work string, srcs []Source, sh *shared, rerun bool,
	lane int, tables []schema.Table, dbo lake.DBOptions) (out laneResult) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	rank := map[string]int{}
	for i, t := range schema.Tables() {
		rank[t.Name] = i
	}
	fail := func(t schema.Table, err error) laneResult {
		out.errAt, out.err = rank[t.Name], err
		return out
	}
	db, err := lk.OpenDB(ctx, dbo)
	if err != nil {
		return fail(tables[0], err)
	}
	defer db.Close()
	// Row order is carried by (qd_fid, qd_line) and the final ORDER BY, so
	// DuckDB need not preserve insertion order (which costs parallelism).
	if _, err := db.ExecContext(ctx, "SET preserve_insertion_order = false"); err != nil {
		return fail(tables[0], fmt.Errorf("ingest: %w", err))
	}
	// The stage is a table of a database file of the lane's own in the
	// work directory, not a temp table: DuckDB writes a bulk insert's
	// row groups to the file compressed, where a temp table spills them
	// raw. On a 1M-loan book this alone took the run's disk peak from
	// 16.2 GB to 9.0 (with ranged writes, writeTable, to 4.96); the lake
	// files are the same bytes. (At 10M the custody statement's 534M
	// rows took 16.4 GB staged this way.)
	f := filepath.Join(work, fmt.Sprintf("lane-%d.duckdb", lane))
	if _, err := db.ExecContext(ctx, "ATTACH "+lake.Quote(f)+" AS lane; USE lane"); err != nil {
		return fail(tables[0], fmt.Errorf("ingest: stage database: %w", err))
	}
	st := &stager{db: db, lk: lk, work: work, log: log, key: o.Key, shared: sh, rerun: rerun, blockSize: o.blockSize,
		maxLine: o.maxLine(), rangeRows: o.rangeRows}
	for _, t := range tables {
		var tsrcs []int
		for i, src := range srcs {
			if src.Table == t.Name {
				tsrcs = append(tsrcs, i)
			}
		}
		var tr *TableResult
		var files []*fileRead
		if len(tsrcs) > 0 {
			if tr, files, err = st.table(ctx, t, srcs, tsrcs); err != nil {
				return fail(t, err)
			}
		}
		if tr == nil {
			if err := st.loadKeys(ctx, t, ""); err != nil {
				return fail(t, err)
			}
			continue
		}
		out.files = append(out.files, files...)
		out.tables = append(out.tables, *tr)
		log.Info("ingested table", "table", t.Name, "files", len(files), "read", tr.Read, "accepted", tr.Accepted,
			"quarantined", tr.Quarantined, "lake_rows", tr.LakeRows)
		if o.afterTable != nil {
			if err := o.afterTable(t.Name); err != nil {
				return fail(t, err)
			}
		}
	}
	return out
}

// shared is what the lanes of a run share.
type shared struct {
	mu   sync.Mutex
	seen map[string]string // sha256 -> file, of the files ingested (before or in this run)
	res  *Result           // Skipped
	bar  *progress.Bar
	// vault receives accepted rows' clear PII and tokens (Options.Vault).
	vault func(column string, token, clear []byte)
}
