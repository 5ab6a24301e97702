// Package ingest loads the loan system's raw exports into the typed
// Parquet lake: it finds each table's files, reads CSV, TSV or JSON Lines
// (UTF-8 or GBK, optionally gzipped), normalises what is tolerable
// (thousands separators, other date forms, Chinese enum words), rejects
// the rest into a quarantine with file, line, raw text and reason,
// tokenises PII, and publishes each table atomically with a manifest.
//
// A run takes the tables in order, parents first, in two lanes (the
// bureau tables, which reference nothing and are referenced by nothing,
// beside the applications -> loans -> children chain), each on its own
// DuckDB. Reading and validation (Go, stream.go and rows.go, in parallel
// over blocks of each file): decompress (a truncated or damaged gzip
// stream is an error), cut blocks of whole records (RFC 4180: outside
// quoted fields), check the header against the contract, set aside the
// records that cannot be a row (over-long, NUL bytes, valid in neither
// UTF-8 nor GBK, each line's encoding being its own; wrong field count,
// broken quoting, invalid JSON), then parse and check every value and
// tokenise PII; accepted rows go to DuckDB as typed Arrow record batches
// with their file and line number, rejected ones straight to the
// quarantine list. Set work: a table's first load from one file whose
// rows come in key order (what exports usually are) takes the direct path
// (direct.go): duplicates are found among neighbours and references
// checked against the parent's keys in Go while reading, and the batches
// go straight into DuckDB's Parquet writer. Any other load is staged in a
// DuckDB table and checked by the SQL files in sql/: duplicates against
// the lake and earlier rows, references and date order against parent
// tables, then a sorted write. Publication: each table's new contents
// (the lake's rows plus the accepted ones, sorted by key, zstd) replace
// the old directory with a rename, after every table succeeded; the
// quarantine files and the manifest follow.
//
// Each rejected row has exactly one reason, the first that applies in
// this order: line_too_long, bad_char, bad_encoding, malformed_row, missing_value, bad_date / bad_amount /
// bad_number (column order), bad_enum, negative_amount, out_of_range,
// duplicate_row, duplicate_key, orphan, date_order.
package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"qiandun/data/lake"
	"qiandun/data/schema"
	"qiandun/data/vault"
	"qiandun/internal/durable"
	"qiandun/internal/lakelock"
	"qiandun/internal/progress"
	"qiandun/internal/version"
)

// Stage is the manifest name of ingestion.
const Stage = "ingest"

// DefaultMaxRejectRate is the share of a table's rows that may be
// quarantined before the stage fails.
const DefaultMaxRejectRate = 0.01

// Options configure a Run.
type Options struct {
	Raw  string // raw export directory
	Lake string // lake root
	// Config holds per-file encodings; nil means detect everything.
	Config *Config
	// MaxRejectRate is the largest share of a table's rows read in this
	// run that may be quarantined.
	MaxRejectRate float64
	// Key is the PII token key (see pii.LoadTokenKey). Required.
	Key []byte
	// Vault, when set, receives the clear value and the token of each
	// name, id_number and phone of the rows the parser accepts, for the
	// encrypted PII vault (data/vault). It is called from several
	// goroutines and must copy what it keeps.
	Vault func(column string, token, clear []byte)
	// SealVault, when set, writes the PII vault (the values Vault
	// received added to the lake's vault) to path, the vault's place
	// (vault.Rel) in this run's commit: the vault and the tables whose
	// tokens it holds are published together, so a crash leaves a lake
	// and a vault that agree. Unset, or when the run commits only its
	// quarantine, the committed vault is kept as it is.
	SealVault func(path string) error
	// Log receives progress and summary lines; nil means slog.Default().
	Log *slog.Logger
	// Progress is where a progress bar is drawn (a terminal) or nil.
	Progress io.Writer
	// DB bounds each lane's DuckDB; zero values take lake.OpenDB's
	// defaults except MemoryLimit, which defaults to 800MB for the first
	// lane and 300MB for the second (see lanes.go), to keep the stage
	// under 2 GiB, or to a split of MemoryLimit.
	DB lake.DBOptions
	// MemoryLimit, when DB.MemoryLimit is empty, is the stage's DuckDB
	// memory in all ("auto": lake.DefaultMemoryLimit, a share of the
	// machine): the first lane gets 8/11 of it and the second 3/11 (the
	// 800MB:300MB of the default), never less than those defaults, so a
	// bigger machine stages bigger tables in memory before spilling.
	MemoryLimit string

	// afterTable, when set, runs after each table is staged (tests inject
	// failures with it).
	afterTable func(table string) error
	// blockSize, when set, is the size of the blocks files are read in
	// (tests make it small to have many).
	blockSize int
	// rangeRows, when set, is the most rows a table's write sorts in one
	// piece (tests make it small to have many ranges).
	rangeRows int64
	// MaxLineBytes is the longest line (or quoted multi-line record) read
	// as a row; a longer one is quarantined as line_too_long with its raw
	// text cut. 0 takes the config's max_line_bytes, else DefaultMaxLine.
	MaxLineBytes int
}

// TableResult is what a run did to one table.
type TableResult struct {
	Table       string            `json:"table"`
	Files       []string          `json:"files"`
	Read        int64             `json:"read"`
	Accepted    int64             `json:"accepted"`
	Quarantined int64             `json:"quarantined"`
	BlankLines  int64             `json:"blank_lines,omitempty"`
	Reasons     map[string]int64  `json:"reasons"`
	Normalised  map[string]int64  `json:"normalised"`
	LakeRows    int64             `json:"lake_rows"`
	Quarantine  []string          `json:"quarantine_files,omitempty"`
	Encodings   map[string]string `json:"encodings,omitempty"`
	// EncodingLines counts, by file, the lines read as utf8, as gbk and
	// as neither (bad_encoding): each line's encoding is its own.
	EncodingLines map[string]map[string]int64 `json:"encoding_lines,omitempty"`
}

// Skipped is a raw file that was not read again.
type Skipped struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Reason string `json:"reason"`
}

// Result is what a run did.
type Result struct {
	Tables  []TableResult
	Skipped []Skipped
	// MissingExports are the tables with no raw file in this run.
	MissingExports []string
	Elapsed        time.Duration
}

// Rows returns the raw data rows read over all tables.
func (r *Result) Rows() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Read
	}
	return n
}

// RejectRateError is returned when tables quarantined more than the
// allowed share of their rows. The quarantine has been written; the lake's
// tables are as before.
type RejectRateError struct {
	Max    float64
	Tables []TableResult
	Dir    string // the quarantine root
}

func (e *RejectRateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reject rate above %.2f%% in %d table(s); nothing was published, the quarantine was written:", 100*e.Max, len(e.Tables))
	for _, t := range e.Tables {
		type rc struct {
			r string
			n int64
		}
		var rs []rc
		for r, n := range t.Reasons {
			rs = append(rs, rc{r, n})
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || (rs[i].n == rs[j].n && rs[i].r < rs[j].r) })
		if len(rs) > 3 {
			rs = rs[:3]
		}
		var top []string
		for _, x := range rs {
			top = append(top, fmt.Sprintf("%s %d", x.r, x.n))
		}
		fmt.Fprintf(&b, "\n  %s: %d of %d rows quarantined (%.2f%%); top reasons: %s; quarantine: %s",
			t.Table, t.Quarantined, t.Read, 100*float64(t.Quarantined)/float64(t.Read), strings.Join(top, ", "),
			filepath.Join(e.Dir, t.Table))
	}
	return b.String()
}

// Run ingests the raw directory into the lake.
func Run(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	if len(o.Key) == 0 {
		return nil, errors.New("ingest: no PII key (set " + KeyEnv + " or use a key file)")
	}
	srcs, err := Discover(o.Raw)
	if err != nil {
		return nil, err
	}
	for i := range srcs {
		srcs[i].Encoding = o.Config.encodingFor(srcs[i].Rel)
	}
	missing := missingExports(srcs, log)
	lk := lake.New(o.Lake)
	if err := os.MkdirAll(o.Lake, 0o755); err != nil {
		return nil, fmt.Errorf("lake %s: %w", o.Lake, err)
	}
	// One writer per lake: the lock (taken again here when the caller,
	// `qiandun ingest` or `qiandun run`, holds it already), then the lake
	// brought back to its last commit and its temporary area emptied of
	// what dead runs left.
	ctx, unlock, err := lakelock.Acquire(ctx, o.Lake, log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	prev, err := recoverLake(o, lk, log)
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for _, in := range prev.Inputs {
		seen[in.SHA256] = in.Path
	}
	work, err := lk.TempDir("ingest-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	sh := &shared{seen: seen, res: &Result{MissingExports: missing}, vault: o.Vault}
	if o.Progress != nil {
		sh.bar = progress.New(o.Progress, log, "ingest", "lines", 0)
	}
	res := sh.res
	outs, err := runLanes(ctx, o, lk, work, srcs, sh, len(prev.Inputs) > 0)
	sh.bar.Finish()
	if err != nil {
		return nil, err
	}
	todo, changed := gather(res, outs)
	if len(todo) == 0 && len(prev.Inputs) > 0 {
		// Every file was ingested before: the lake and its manifest stay
		// as they are (a re-run, or a retry after a crash past the
		// commit, changes nothing).
		log.Info("ingest: every raw file is already in the lake; nothing to commit", "skipped", len(res.Skipped))
		return res, nil
	}
	sortSkipped(res.Skipped, srcs)
	over := overRejectRate(res.Tables, o.MaxRejectRate)
	// One commit: the changed tables, the quarantine, the PII vault and
	// the manifest become visible together, so a retry after a crash either finds
	// nothing of this run (and reads its files again) or all of it (and
	// skips them). Over the reject rate only the quarantine is committed.
	c, err := lk.Begin(Stage)
	if err != nil {
		return nil, err
	}
	defer c.Abort()
	if err := publishQuarantine(c, work, res.Tables); err != nil {
		return nil, err
	}
	if err := stageOutputs(c, o, work, changed, len(over) > 0); err != nil {
		return nil, err
	}
	if len(over) > 0 {
		if err := c.Keep(lake.ManifestDir + "/" + Stage + ".json"); err != nil {
			return nil, err
		}
		if err := c.Commit(); err != nil {
			return nil, err
		}
		return res, &RejectRateError{Max: o.MaxRejectRate, Tables: over, Dir: filepath.Join(o.Lake, lake.QuarantineDir)}
	}
	res.Elapsed = time.Since(start)
	sort.Slice(todo, func(i, j int) bool { return todo[i].fid < todo[j].fid }) // file order
	if err := writeManifest(c, o, prev, res, todo, changed, start); err != nil {
		return nil, err
	}
	if err := c.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// recoverLake brings the lake, whose lock the caller holds, back to its
// last commit, empties its temporary area and returns its ingest
// manifest (an empty one for a lake never ingested into), after checking
// that the lake's tokens were made with o's PII key.
func recoverLake(o Options, lk lake.Lake, log *slog.Logger) (*lake.Manifest, error) {
	if err := durable.Recover(o.Lake); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(filepath.Join(o.Lake, lake.TmpDir)); err != nil {
		return nil, fmt.Errorf("lake %s: %w", o.Lake, err)
	}
	prev, err := lk.ReadManifest(Stage)
	if errors.Is(err, fs.ErrNotExist) {
		prev, err = &lake.Manifest{}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkKeyFingerprint(prev, o.keyFingerprint(), o.Lake, log); err != nil {
		return nil, err
	}
	return prev, nil
}

// gather adds the lanes' table results to res, in the order of
// schema.Tables, and returns the files the lanes read and the set of
// tables they changed.
func gather(res *Result, outs []laneResult) (todo []*fileRead, changed map[string]bool) {
	changed = map[string]bool{}
	for _, out := range outs {
		res.Tables = append(res.Tables, out.tables...)
		todo = append(todo, out.files...)
	}
	rank := map[string]int{}
	for i, t := range schema.Tables() {
		rank[t.Name] = i
	}
	sort.Slice(res.Tables, func(i, j int) bool { return rank[res.Tables[i].Table] < rank[res.Tables[j].Table] })
	for _, tr := range res.Tables {
		changed[tr.Table] = true
	}
	return todo, changed
}

// sortSkipped sorts skipped files in the order of srcs.
func sortSkipped(skipped []Skipped, srcs []Source) {
	rank := map[string]int{}
	for i, src := range srcs {
		rank[src.Rel] = i
	}
	sort.SliceStable(skipped, func(i, j int) bool { return rank[skipped[i].File] < rank[skipped[j].File] })
}

// overRejectRate returns the tables that quarantined more than limit of
// the rows they read.
func overRejectRate(tables []TableResult, limit float64) []TableResult {
	var over []TableResult
	for _, tr := range tables {
		if tr.Read > 0 && float64(tr.Quarantined) > limit*float64(tr.Read) {
			over = append(over, tr)
		}
	}
	return over
}

// stageOutputs places the run's tables and PII vault in commit c: each
// changed table's new contents from the work directory, the vault sealed
// by o.SealVault. Over the reject rate (over), or without SealVault for
// the vault, the committed ones are kept as they are.
func stageOutputs(c *lake.Commit, o Options, work string, changed map[string]bool, over bool) error {
	for _, t := range schema.Tables() {
		if !changed[t.Name] || over {
			if err := c.Keep(t.Name); err != nil {
				return err
			}
			continue
		}
		if err := os.Rename(filepath.Join(work, "tables", t.Name), c.Staged.TableDir(t.Name)); err != nil {
			return fmt.Errorf("ingest: stage %s: %w", t.Name, err)
		}
		c.Mount(t.Name)
	}
	if over || o.SealVault == nil {
		return c.Keep(vault.Rel)
	}
	if err := o.SealVault(c.Path(vault.Rel)); err != nil {
		return fmt.Errorf("ingest: seal the PII vault: %w", err)
	}
	c.Mount(vault.Rel)
	return nil
}

// QuarantineColumns are the columns of a quarantine CSV file.
var QuarantineColumns = []string{"source_file", "line", "reason", "column", "detail", "raw"}

// writeQuarantine writes a source's rejected rows, by line, with their raw
// text, to dir (mode 0600) and returns the file name.
func writeQuarantine(dir string, f *fileRead, rs []reject) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	want := map[int64]bool{}
	for _, r := range rs {
		if r.raw == "" {
			want[r.line] = true
		}
	}
	raw, err := rawLines(f.src, f.encoding, want)
	if err != nil {
		return "", fmt.Errorf("quarantine %s: %w", f.src.Rel, err)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].line < rs[j].line })
	name := strings.ReplaceAll(f.src.Rel, "/", "_") + "." + f.sha256[:12] + ".csv"
	p := filepath.Join(dir, name)
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	w := csv.NewWriter(file)
	w.Write(QuarantineColumns)
	for _, r := range rs {
		text := r.raw
		if text == "" {
			text = raw[r.line]
		}
		w.Write([]string{f.src.Rel, strconv.FormatInt(r.line, 10), r.reason, r.column, r.detail, text})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		file.Close()
		return "", fmt.Errorf("quarantine %s: %w", p, err)
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return "", err
	}
	return name, file.Close()
}

// publishQuarantine stages the quarantine of the commit: the files already
// there, plus this run's (a file of the same source and content replaces
// its earlier copy). The directories are 0700, the files 0600.
func publishQuarantine(c *lake.Commit, work string, trs []TableResult) error {
	if err := c.Keep(lake.QuarantineDir); err != nil {
		return err
	}
	for _, tr := range trs {
		for _, q := range tr.Quarantine {
			dst := filepath.Join(c.Staged.Root, filepath.FromSlash(q))
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return err
			}
			src := filepath.Join(work, "quarantine", tr.Table, filepath.Base(dst))
			if err := os.Rename(src, dst); err != nil {
				return fmt.Errorf("publish quarantine: %w", err)
			}
			c.Mount(lake.QuarantineDir)
		}
	}
	dir := filepath.Join(c.Staged.Root, lake.QuarantineDir)
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipAll
		}
		if err != nil || !d.IsDir() {
			return err
		}
		return os.Chmod(p, 0o700)
	})
}

func writeManifest(c *lake.Commit, o Options, prev *lake.Manifest, res *Result, todo []*fileRead, changed map[string]bool, start time.Time) error {
	m := &lake.Manifest{
		Stage: Stage, Version: version.String(), Started: start.UTC(), Finished: time.Now().UTC(),
		Config:  map[string]any{"raw": o.Raw, "max_reject_rate": o.MaxRejectRate, keyFingerprintField: o.keyFingerprint()},
		Inputs:  append([]lake.File(nil), prev.Inputs...),
		Counts:  map[string]int64{},
		Timings: map[string]float64{"total": res.Elapsed.Seconds()},
	}
	for _, fr := range todo {
		m.Inputs = append(m.Inputs, lake.File{Path: fr.src.Rel, SHA256: fr.sha256, Rows: fr.read, Bytes: fr.bytes})
	}
	prevOut := map[string]lake.File{}
	for _, f := range prev.Outputs {
		prevOut[f.Path] = f
	}
	rowsOf := map[string]int64{}
	for _, tr := range res.Tables {
		rowsOf[tr.Table] = tr.LakeRows
		m.Counts[tr.Table+".read"] = tr.Read
		m.Counts[tr.Table+".accepted"] = tr.Accepted
		m.Counts[tr.Table+".quarantined"] = tr.Quarantined
		for r, n := range tr.Reasons {
			m.Counts[tr.Table+".quarantined."+r] = n
		}
		for k, n := range tr.Normalised {
			m.Counts[tr.Table+".normalised."+k] = n
		}
	}
	// A table this run did not change keeps its counts (a re-run of the
	// same files changes nothing, its manifest included).
	for k, n := range prev.Counts {
		if t, _, ok := strings.Cut(k, "."); ok && !changed[t] {
			m.Counts[k] = n
		}
	}
	stg := c.Staged
	for _, t := range schema.Tables() {
		files, _ := filepath.Glob(stg.Glob(t.Name))
		for _, p := range files {
			rel, _ := filepath.Rel(stg.Root, p)
			rel = filepath.ToSlash(rel)
			if !changed[t.Name] {
				if f, ok := prevOut[rel]; ok {
					m.Outputs = append(m.Outputs, f)
					continue
				}
			}
			sum, err := durable.SHA256(p)
			if err != nil {
				return err
			}
			st, _ := os.Stat(p)
			rows := rowsOf[t.Name]
			if len(files) > 1 { // written in ranges: each file its own rows
				if rows, err = lake.ParquetRows(p); err != nil {
					return err
				}
			}
			m.Outputs = append(m.Outputs, lake.File{Path: rel, SHA256: sum, Rows: rows, Bytes: st.Size()})
		}
	}
	m.Extra = map[string]any{"tables": res.Tables, "skipped": res.Skipped, "missing_exports": res.MissingExports}
	return c.WriteManifest(m)
}

// cpuTime returns the process's user plus system CPU time so far (for
// debug logs; zero where getrusage is not available).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
