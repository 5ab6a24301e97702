// Package gen writes a synthetic but realistic loan book of a Chinese
// online lender as the nine raw exports of the input contract
// (schema.Tables), deterministic for a seed.
//
// A borrower's latent risk is mostly explained by what the lender can see
// (age, income, education, employment, city tier, channel, amount and
// term, bureau inquiries and report) plus unobservable noise; it drives the
// approval decision, pricing, and month-by-month repayment behaviour
// (on time, late then cured, rolling to write-off, early settlement), with
// a macro shock that makes a few issue months visibly worse. Fraud rings
// share devices, phones and IPs and default on the first payment.
//
// Alongside the exports, _truth/ holds what a test may check the pipeline
// against and the pipeline must never read: loans.csv (the true 12-month
// default probability per loan, the realised outcome, fraud-ring
// membership) and dirty.json (the defects --dirty injected, by table and
// reason, and the physical line counts), custody.json (the custody
// migration and the reconciliation breaks --custody-breaks injected, by
// kind; see custody.go for the flows the statement carries) and repair.csv
// (the channels that would reach each borrower whose collection ended in
// lost contact; see repair.go).
package gen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"qiandun/data/schema"
	"qiandun/internal/civil"
	"qiandun/internal/progress"
)

// Config says what book to generate.
type Config struct {
	Loans      int       // number of loans (approved applications)
	Seed       uint64    // same seed and config => same bytes
	StartYear  int       // first month of the observation window
	StartMonth int       // 1..12
	Months     int       // length of the window; loans are issued in all but the last six months
	Encoding   string    // "utf8" (default) or "gbk"
	Dirty      float64   // share of eligible rows given a defect; 0 for a clean book
	Workers    int       // parallel chunk generators; 0 = GOMAXPROCS. Does not change the output.
	Progress   io.Writer // progress bar on a terminal (else progress log lines); nil for none

	// CustodyBreaks is the share of loans given one reconciliation break
	// in the custodian's statement (and of sub-accounts given a migrated
	// balance that differs, and a balance chain that jumps, a fifth of
	// it each); 0 for a statement that reconciles. Recorded in
	// _truth/custody.json.
	CustodyBreaks float64
	// MigrationDay is the day (civil day number) the custody moves from
	// the old bank to the new; 0 = the first day of the window's 17th
	// month.
	MigrationDay int
	// Gzip writes the exports as <table>.csv.gz (gzip.BestSpeed): the
	// same rows in about a fifth of the disk (a 1M-loan book is 9.8 GB
	// of CSV, three quarters of it the custodian's statement). Ingest
	// reads either.
	Gzip bool
}

// DefaultConfig is the demo book: 50,000 loans issued from January 2021,
// observed for 36 months, seed 1.
func DefaultConfig() Config {
	return Config{Loans: 50000, Seed: 1, StartYear: 2021, StartMonth: 1, Months: 36, Encoding: "utf8"}
}

// Summary is what Generate wrote.
type Summary struct {
	Rows    map[string]int // physical data lines per table (header excluded)
	Elapsed time.Duration
	Truth   *DirtyTruth
}

// String is the one-line summary the CLI prints.
func (s *Summary) String() string {
	var b strings.Builder
	b.WriteString("gen:")
	for _, t := range schema.Tables() {
		fmt.Fprintf(&b, " %s=%d", t.Name, s.Rows[t.Name])
	}
	fmt.Fprintf(&b, " (%.1fs)", s.Elapsed.Seconds())
	return b.String()
}

// DirtyTruth is _truth/dirty.json: the defects injected per table, keyed
// exactly as ingestion reports them (schema.Reason* and schema.Norm*).
type DirtyTruth struct {
	Seed     uint64                 `json:"seed"`
	Rate     float64                `json:"rate"`
	Encoding string                 `json:"encoding"`
	Tables   map[string]*TableTruth `json:"tables"`
}

// TableTruth is one table's entry of dirty.json.
type TableTruth struct {
	File       string         `json:"file"`
	DataLines  int            `json:"data_lines"` // physical data rows written, header excluded
	Quarantine map[string]int `json:"quarantine"` // rows ingestion must reject, by reason
	Normalised map[string]int `json:"normalised"` // rows with a tolerable form ingestion must accept
	BOM        bool           `json:"bom"`        // file starts with a UTF-8 byte-order mark
	CRLF       bool           `json:"crlf"`       // lines end in \r\n
}

const (
	chunkLoans   = 1000   // loans per chunk; fixed so output does not depend on parallelism
	idStride     = 100000 // application and borrower numbers per chunk
	idStrideRing = 1000
	orphanBase   = 900_000_000 // loan numbers of orphan rows: never issued
)

// world is the immutable context shared by all chunks.
type world struct {
	cfg          Config
	startDay     int
	endDay       int // last day of the window
	endSec       int64
	lastIssueDay int
	monthStart   []int
	monthCum     []float64
	shockFrom    int
	shockTo      int
	intercept    float64
	threshold    float64
	sigma        float64
	scale        float64
	pl           *places
	specs        [nTables]*tableSpec
	// onLoan, when set (by tests), sees every loan's observable risk
	// logit, true PD and realised outcome.
	onLoan func(zObs, pd float64, bad12, mature bool)
	// The custody migration: its day and its second (00:00 that day).
	migDay int
	migSec int64
	// noRepair, when set (by tests), leaves out the repair rows.
	noRepair bool
}

// macro returns the logit shift of loans applied for on day: a shock of a
// few months a third of the way into the window.
func (w *world) macro(day int) float64 {
	if day >= w.shockFrom && day < w.shockTo {
		return 0.7
	}
	return 0
}

// lateFactor scales the chance of a late-then-cured installment due on
// day: during the shock (and the quarter after) everyone on book pays late
// more often, so roll rates worsen in calendar time too.
func (w *world) lateFactor(day int) float64 {
	if day >= w.shockFrom && day < w.shockTo+90 {
		return 1.6
	}
	return 1
}

func newWorld(cfg Config) *world {
	w := &world{cfg: cfg, pl: newPlaces(), intercept: -4.8, scale: 1.55, threshold: -2.0, sigma: 0.2}
	w.startDay = civil.Days(cfg.StartYear, cfg.StartMonth, 1)
	w.endDay = addMonths(w.startDay, cfg.Months) - 1
	w.endSec = int64(w.endDay)*secondsPerDay + secondsPerDay - 1
	issueMonths := max(cfg.Months-6, 1)
	total := 0.0
	for m := range issueMonths {
		w.monthStart = append(w.monthStart, addMonths(w.startDay, m))
		total += 1 + 0.04*float64(m)
		w.monthCum = append(w.monthCum, total)
	}
	for i := range w.monthCum {
		w.monthCum[i] /= total
	}
	w.lastIssueDay = addMonths(w.startDay, issueMonths) - 1
	w.migDay = cfg.MigrationDay
	if w.migDay == 0 {
		w.migDay = addMonths(w.startDay, 16)
	}
	w.migSec = int64(w.migDay) * secondsPerDay
	shock := int(math.Round(float64(cfg.Months) / 3))
	w.shockFrom = addMonths(w.startDay, shock)
	w.shockTo = addMonths(w.startDay, shock+4)
	for i, t := range schema.Tables() {
		w.specs[i] = newTableSpec(t)
	}
	return w
}

// chunkOut is one chunk's rows, ready to append to the files in order.
type chunkOut struct {
	tables [nTables]tableBuf
	global []cline // the platform's and the guarantor's custody lines
	breaks [nBreakKinds]int
	truth  []byte
	repair []byte // rows of _truth/repair.csv (repair.go)
	counts [nTables][nDefects]int
	loans  int
}

func (w *world) genChunk(c int) *chunkOut {
	cfg := w.cfg
	out := &chunkOut{}
	g := &chunkGen{w: w, out: out, chunk: c,
		r:        rand.New(rand.NewPCG(cfg.Seed, uint64(c)*2+1)),
		loanNext: int64(c) * chunkLoans,
		loanEnd:  min(int64(c+1)*chunkLoans, int64(cfg.Loans)),
		cust:     newCustodyGen(w, c),
	}
	var orphans int
	for i := range out.tables {
		t := &out.tables[i]
		t.table = i
		if cfg.Dirty > 0 {
			t.inj = &injector{
				r:          rand.New(rand.NewPCG(cfg.Seed^0x9e3779b97f4a7c15, uint64(c)*16+uint64(i))),
				rate:       cfg.Dirty,
				spec:       w.specs[i],
				orphans:    &orphans,
				orphanBase: orphanBase + int64(c)*idStrideRing,
			}
		}
	}
	g.run()
	g.cust.finish(&out.tables[tCustody])
	out.global, out.breaks = g.cust.global, g.cust.breaks
	for i := range out.tables {
		if inj := out.tables[i].inj; inj != nil {
			out.counts[i] = inj.counts
			out.tables[i].inj = nil
		}
	}
	if !w.noRepair {
		g.repairChannels() // after the injectors are detached: no defects
	}
	return out
}

// Generate writes the book described by cfg into dir: <table>.csv for the
// nine exports and _truth/{loans.csv,dirty.json,custody.json,repair.csv}.
// The exports and _truth/loans.csv are written under temporary names and
// renamed when complete.
func Generate(ctx context.Context, cfg Config, dir string, log *slog.Logger) (*Summary, error) {
	start := time.Now()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "_truth"), 0o755); err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	w := newWorld(cfg)
	truth := newDirtyTruth(cfg)
	files, err := createOutFiles(dir, truth, cfg.Gzip)
	if err != nil {
		return nil, err
	}
	breaks, repairTruth, err := w.writeChunks(ctx, files, truth, log)
	if err != nil {
		files.abort()
		return nil, err
	}
	if err := files.commit(); err != nil {
		return nil, err
	}
	if err := writeTruthFiles(dir, w, truth, breaks, repairTruth); err != nil {
		return nil, err
	}
	s := &Summary{Rows: map[string]int{}, Elapsed: time.Since(start), Truth: truth}
	for _, t := range schema.Tables() {
		s.Rows[t.Name] = truth.Tables[t.Name].DataLines
	}
	log.Info("gen done", "dir", dir, "loans", cfg.Loans, "seed", cfg.Seed, "elapsed_s", s.Elapsed.Seconds())
	return s, nil
}

// newDirtyTruth returns the dirty.json of a book of cfg before any row is
// written: every reason and normalisation at zero, and the byte-order
// mark (repayments, UTF-8 only) and CRLF line ends (collection_events) a
// dirty book has.
func newDirtyTruth(cfg Config) *DirtyTruth {
	truth := &DirtyTruth{Seed: cfg.Seed, Rate: cfg.Dirty, Encoding: cfg.Encoding, Tables: map[string]*TableTruth{}}
	dirty := cfg.Dirty > 0
	for i, t := range schema.Tables() {
		tt := &TableTruth{File: t.Name + map[bool]string{false: ".csv", true: ".csv.gz"}[cfg.Gzip], Quarantine: map[string]int{}, Normalised: map[string]int{}}
		for _, r := range schema.Reasons() {
			tt.Quarantine[r] = 0
		}
		for _, n := range []string{schema.NormThousands, schema.NormDateForm, schema.NormChinese} {
			tt.Normalised[n] = 0
		}
		tt.BOM = dirty && i == tRepayments && cfg.Encoding != "gbk"
		tt.CRLF = dirty && i == tEvents
		truth.Tables[t.Name] = tt
	}
	return truth
}

// writeChunks generates the book's chunks in parallel and writes them to
// files in order, the global custody lines last, counting lines and
// defects into truth. It returns the custody breaks injected and the
// content of _truth/repair.csv.
func (w *world) writeChunks(ctx context.Context, files outFiles, truth *DirtyTruth, log *slog.Logger) (breaks [nBreakKinds]int, repairTruth []byte, err error) {
	cfg := w.cfg
	nChunks := (cfg.Loans + chunkLoans - 1) / chunkLoans
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var bar *progress.Bar
	if cfg.Progress != nil {
		bar = progress.New(cfg.Progress, log, "gen", "loans", int64(cfg.Loans))
	}
	ctx, cancel := context.WithCancel(ctx)
	p := w.startChunks(ctx, cancel, nChunks, workers)
	breaks, repairTruth, err = w.mergeChunks(ctx, p, files, truth, bar)
	cancel()
	p.wg.Wait()
	if err != nil {
		return breaks, nil, err
	}
	bar.Finish()
	return breaks, repairTruth, nil
}

// mergeChunks writes the chunks p generates to files in chunk order, then
// the global custody lines built from theirs, counting lines and defects
// into truth and loans on bar. It returns the custody breaks injected and
// the content of _truth/repair.csv.
func (w *world) mergeChunks(ctx context.Context, p *chunkPipe, files outFiles, truth *DirtyTruth, bar *progress.Bar) (breaks [nBreakKinds]int, repairTruth []byte, err error) {
	nChunks := len(p.results)
	repairTruth = []byte(RepairTruthHeader)
	var global []cline // the platform's and the guarantor's custody lines
	for c := 0; c <= nChunks; c++ {
		var out *chunkOut
		if c == nChunks { // last, the global custody lines
			out, err = w.globalOut(global)
		} else {
			out, err = p.wait(ctx, c)
		}
		if err != nil {
			return breaks, nil, err
		}
		global = append(global, out.global...)
		for k, n := range out.breaks {
			breaks[k] += n
		}
		if err := files.writeChunk(out, truth); err != nil {
			return breaks, nil, err
		}
		repairTruth = append(repairTruth, out.repair...)
		bar.Add(int64(out.loans))
		if c < nChunks {
			p.done()
		}
	}
	return breaks, repairTruth, nil
}

// writeTruthFiles writes _truth/dirty.json, _truth/custody.json and
// _truth/repair.csv.
func writeTruthFiles(dir string, w *world, truth *DirtyTruth, breaks [nBreakKinds]int, repairTruth []byte) error {
	js, err := json.MarshalIndent(truth, "", "  ")
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "_truth", "dirty.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if err := writeCustodyTruth(dir, w, breaks, truth); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "_truth", "repair.csv"), repairTruth, 0o644); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}

func (cfg Config) validate() error {
	switch {
	case cfg.Loans <= 0:
		return fmt.Errorf("gen: --loans must be positive, got %d", cfg.Loans)
	case cfg.Months < 7:
		return fmt.Errorf("gen: --months must be at least 7 (loans are issued in all but the last six), got %d", cfg.Months)
	case cfg.StartMonth < 1 || cfg.StartMonth > 12 || cfg.StartYear < 1990 || cfg.StartYear > 2100:
		return fmt.Errorf("gen: bad start month %04d-%02d", cfg.StartYear, cfg.StartMonth)
	case cfg.Encoding != "utf8" && cfg.Encoding != "gbk":
		return fmt.Errorf("gen: --encoding must be utf8 or gbk, got %q", cfg.Encoding)
	case cfg.Dirty < 0 || cfg.Dirty > 0.2:
		return fmt.Errorf("gen: --dirty must be in [0, 0.2], got %g", cfg.Dirty)
	case cfg.CustodyBreaks < 0 || cfg.CustodyBreaks > 0.2:
		return fmt.Errorf("gen: --custody-breaks must be in [0, 0.2], got %g", cfg.CustodyBreaks)
	case cfg.MigrationDay != 0 && cfg.MigrationDay < civil.Days(cfg.StartYear, cfg.StartMonth, 1):
		return fmt.Errorf("gen: --migration-day %s is before the window starts", FormatDay(cfg.MigrationDay))
	case cfg.Loans/chunkLoans >= 99999:
		return errors.New("gen: too many loans for the id format")
	}
	return nil
}

// encodeGBK transcodes a chunk's tables from UTF-8 to GBK.
func encodeGBK(out *chunkOut) error {
	enc := simplifiedchinese.GBK.NewEncoder()
	for i := range out.tables {
		b, err := enc.Bytes(out.tables[i].buf)
		if err != nil {
			return fmt.Errorf("GBK encode %s: %w", schema.Tables()[i].Name, err)
		}
		out.tables[i].buf = b
	}
	return nil
}
