// Package bureau writes the lender's monthly credit-bureau reporting
// files: for one month, one record per loan account open at any time in
// it, in the PBOC second-generation layout (record type 210, corrections
// 212/213) or Baihang's JSON Lines (loan records and repayment records,
// opCode A/M/D), with accounts.csv beside them for review and
// reconciliation.
//
// The accounts come from month.sql, run by DuckDB over the lake (loans,
// applications, repayment_schedule, repayments, perf/panel) a million
// loans at a time, once for every format (Open), and are read, validated
// and written a range of loan ids at a time (Month.Report), so that Go
// holds one range, never the month. Every account is validated before anything
// is published (Validate); identities (name, ID number, phone) are
// revealed through an IdentitySource, the only place clear PII enters.
// A month's submission is published atomically
// (durable.Txn) with a manifest; a month already reported is refused
// unless corrections are asked for, and then the differences are written
// as correction records in a new submission beside the first.
package bureau

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Formats of the reporting files.
const (
	FormatPBOC    = "pboc"
	FormatBaihang = "baihang"
)

// Config is the bureau section of the pipeline config.
type Config struct {
	// FiveClass holds the minimum DPD of each five-level class above
	// normal. Defaults (DESIGN.md): special mention 1 (1-90), substandard
	// 91 (91-180), doubtful 181 (181-360), loss 361 (> 360). A written-off
	// account is loss whatever its DPD.
	FiveClass FiveClass `yaml:"five_class"`
	// OrgCode is the lender's management-organisation code at the bureau
	// (MngmtOrgCode), prefixed to each account code.
	OrgCode string `yaml:"org_code"`
}

// FiveClass holds the minimum DPD of classes 2 to 5.
type FiveClass struct {
	SpecialMention int `yaml:"special_mention"`
	Substandard    int `yaml:"substandard"`
	Doubtful       int `yaml:"doubtful"`
	Loss           int `yaml:"loss"`
}

// DefaultConfig returns the classification of DESIGN.md and a
// placeholder organisation code.
func DefaultConfig() Config {
	return Config{
		FiveClass: FiveClass{SpecialMention: 1, Substandard: 91, Doubtful: 181, Loss: 361},
		OrgCode:   "Q0000000000000",
	}
}

// Validate checks the classification bounds increase.
func (c Config) Validate() error {
	f := c.FiveClass
	if f.SpecialMention < 1 || f.Substandard <= f.SpecialMention || f.Doubtful <= f.Substandard || f.Loss <= f.Doubtful {
		return fmt.Errorf("bureau config: five_class bounds must increase from at least 1 (special_mention %d, substandard %d, doubtful %d, loss %d)",
			f.SpecialMention, f.Substandard, f.Doubtful, f.Loss)
	}
	if c.OrgCode == "" {
		return fmt.Errorf("bureau config: org_code is empty")
	}
	return nil
}

// LoadConfig reads a YAML config over the defaults; "" gives the
// defaults. Unknown keys are errors.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	if path == "" {
		return c, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("bureau config: %w", err)
	}
	return ParseConfig(raw, path)
}

// ParseConfig parses a config document (named path in errors) over the
// defaults and validates it; see LoadConfig.
func ParseConfig(raw []byte, path string) (Config, error) {
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("bureau config %s: %w", path, err)
	}
	return c, c.Validate()
}

// Options of one run.
type Options struct {
	Lake   string // the lake directory
	Out    string // output root: submissions go to <Out>/<format>/<month>/<seq>/
	Month  string // YYYY-MM
	Format string // pboc or baihang
	// Correct allows reporting a month already reported: the differences
	// against the latest submission are written as correction records.
	Correct bool
	Config  Config
	// Identities reveals names, ID numbers and phones by token.
	Identities IdentitySource
	// Strict refuses the whole month when any account fails validation.
	// Otherwise failing accounts are withheld (listed with their rule in
	// withheld.csv, never sent) and the rest is submitted, unless more
	// than MaxWithheld of the accounts fail.
	Strict bool
	// MaxWithheld is the largest share of accounts that may be withheld
	// (default 0.01).
	MaxWithheld float64
	// MemoryLimit bounds DuckDB (empty or "auto": a fifth of physical memory).
	MemoryLimit string
	Log         *slog.Logger

	chunk int // accounts read at a time (0: chunkAccounts)
	part  int // loans month.sql works on at a time (0: partLoans)
}

//go:embed month.sql
var monthSQL string

//go:embed open.sql
var openSQL string

// validation gathers a month's validation failures range by range, in
// the order Validate lists them for the whole month: the rules of each
// account in account order, then RuleOpenOnce's (accounts reported twice,
// then open accounts not reported). A loan id's accounts, terms and open
// id all fall in one range, so each range is validated on its own.
type validation struct {
	accounts              int // accounts read
	rules, twice, missing []Failure
}

// check validates one range's accounts (open: its loan ids open at the
// month end) and returns those that pass, in order, in accts' array.
func (v *validation) check(accts []Account, open []string, clear bool) []Account {
	v.accounts += len(accts)
	rules := checkAccounts(accts, clear)
	twice, missing := checkOpenOnce(accts, open)
	if len(rules)+len(twice)+len(missing) == 0 {
		return accts
	}
	v.rules = append(v.rules, rules...)
	v.twice = append(v.twice, twice...)
	v.missing = append(v.missing, missing...)
	bad := map[string]bool{}
	for _, f := range slices.Concat(rules, twice, missing) {
		bad[f.LoanID] = true
	}
	return slices.DeleteFunc(accts, func(a Account) bool { return bad[a.LoanID] })
}

// failures returns the month's failures so far, in Validate's order.
func (v *validation) failures() []Failure {
	return slices.Concat(v.rules, v.twice, v.missing)
}

// withhold decides whether the failures of a month of accounts accounts
// refuse it, or withhold the failing accounts (the others being sent): it
// refuses the month in strict mode, when an open account is missing
// (nothing can be withheld for it), or when more than MaxWithheld of the
// accounts fail.
func withhold(o Options, accounts int, fails []Failure) error {
	if len(fails) == 0 {
		return nil
	}
	bad := map[string]bool{}
	missing := 0
	for _, f := range fails {
		bad[f.LoanID] = true
		if f.Rule == RuleOpenOnce {
			missing++
		}
	}
	limit := o.MaxWithheld
	if limit == 0 {
		limit = 0.01
	}
	share := float64(len(bad)) / float64(max(accounts, 1))
	var reason string
	switch {
	case o.Strict:
		reason = "strict: any failure refuses the month"
	case missing > 0:
		reason = fmt.Sprintf("%d failures of %s, which withholding cannot mend (an open account must be reported once)", missing, RuleOpenOnce)
	case share > limit:
		reason = fmt.Sprintf("%d of %d accounts fail (%.2f%%), more than max_withheld %.2f%%", len(bad), accounts, 100*share, 100*limit)
	}
	if reason == "" {
		return nil
	}
	if missing > 0 {
		fails = slices.Clone(fails)
		slices.SortStableFunc(fails, func(a, b Failure) int {
			return cmp.Compare(b2i(a.Rule != RuleOpenOnce), b2i(b.Rule != RuleOpenOnce))
		})
	}
	return &ValidationError{Month: o.Month, Reason: reason, Failures: fails}
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sortMonth puts the accounts, the terms and the open loan ids in loan id
// order (byte order, as DuckDB sorts them: already so, and then this only
// checks), which the merge walks of Validate and the publication rely on.
func sortMonth(accts []Account, terms []Term, open []string) {
	if !slices.IsSortedFunc(accts, func(a, b Account) int { return strings.Compare(a.LoanID, b.LoanID) }) {
		slices.SortStableFunc(accts, func(a, b Account) int { return strings.Compare(a.LoanID, b.LoanID) })
	}
	byTerm := func(a, b Term) int { return cmp.Or(strings.Compare(a.LoanID, b.LoanID), cmp.Compare(a.No, b.No)) }
	if !slices.IsSortedFunc(terms, byTerm) {
		slices.SortStableFunc(terms, byTerm)
	}
	if !slices.IsSorted(open) {
		slices.Sort(open)
	}
}

// monthBounds returns the first and last day of month YYYY-MM.
func monthBounds(month string) (time.Time, time.Time, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("month %q: want YYYY-MM", month)
	}
	return t, t.AddDate(0, 1, -1), nil
}

// checkMonth checks what computing the month needs.
func (o *Options) checkMonth() error {
	if o.Lake == "" || o.Out == "" || o.Month == "" {
		return fmt.Errorf("bureau: --lake, --out and --month are required")
	}
	if _, _, err := monthBounds(o.Month); err != nil {
		return fmt.Errorf("bureau: %w", err)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o.Config.Validate()
}

// checkReport checks what reporting the month in o.Format needs.
func (o *Options) checkReport() error {
	if o.Format != FormatPBOC && o.Format != FormatBaihang {
		return fmt.Errorf("bureau: --format %q: want pboc or baihang", o.Format)
	}
	if o.Identities == nil {
		return fmt.Errorf("bureau: no identity source")
	}
	return nil
}

// chunkAccounts is how many accounts Run reads, validates and writes at
// a time (Options.chunk overrides it in tests): Go holds one range's
// accounts (472 bytes each before their strings), terms and identities,
// whatever the size of the book.
const chunkAccounts = 100_000

// Month is one month's accounts, computed once over the lake and
// reported in as many formats as asked (Report), each a range of loan
// ids at a time.
type Month struct {
	o        Options
	mo       *month
	spans    []span
	accounts int
}

// Open computes the accounts of month o.Month over lake o.Lake (month.sql
// and open.sql, in DuckDB); o.Format and o.Identities are not used.
// Close releases it.
func Open(ctx context.Context, o Options) (*Month, error) {
	if err := o.checkMonth(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	mo, err := openMonth(ctx, o)
	if err != nil {
		return nil, err
	}
	spans, accounts, err := mo.spans(ctx, cmp.Or(o.chunk, chunkAccounts))
	if err != nil {
		mo.Close()
		return nil, err
	}
	o.Log.Debug("bureau step", "step", "month.sql", "month", o.Month, "accounts", accounts, "seconds", time.Since(t0).Seconds())
	return &Month{o: o, mo: mo, spans: spans, accounts: accounts}, nil
}

// Close releases the month's DuckDB.
func (m *Month) Close() error { return m.mo.Close() }

// Run reports one month in o.Format: Open, then Report.
func Run(ctx context.Context, o Options) (*Manifest, string, error) {
	if err := o.checkReport(); err != nil {
		return nil, "", err
	}
	m, err := Open(ctx, o)
	if err != nil {
		return nil, "", err
	}
	defer m.Close()
	return m.Report(ctx, o.Format, o.Identities)
}

// Report writes the month in format (pboc or baihang) with identities
// revealed by ids: it reads the accounts, validates them, writes the
// format's files and accounts.csv and publishes them as a new
// submission. It returns the submission's manifest and directory. When
// the month was already reported in that format, it refuses unless
// Options.Correct (or the new submission would be identical to the
// latest one: then nothing is written and the latest submission is
// returned).
//
// The month is read, validated and written a range of loan ids at a time
// (chunkAccounts accounts), into the commit's staging directory; what
// needs the whole month (the share withheld, the comparison with the
// latest submission) is decided after the last range, before the commit.
func (m *Month) Report(ctx context.Context, format string, ids IdentitySource) (*Manifest, string, error) {
	o := m.o
	o.Format, o.Identities = format, ids
	if err := o.checkReport(); err != nil {
		return nil, "", err
	}
	p, err := startPublication(o)
	if err != nil {
		return nil, "", err
	}
	defer p.close()
	var v validation
	var tRead, tReveal, tWrite time.Duration
	c := chunk{accts: make([]Account, 0, min(cmp.Or(o.chunk, chunkAccounts), m.accounts))} // an Account is large: no regrowth
	for _, s := range m.spans {
		t := time.Now()
		if err := m.mo.read(ctx, s, &c); err != nil {
			return nil, "", err
		}
		sortMonth(c.accts, c.terms, c.open)
		tRead += time.Since(t)
		t = time.Now()
		if err := reveal(ctx, o.Identities, c.accts); err != nil {
			return nil, "", err
		}
		tReveal += time.Since(t)
		t = time.Now()
		kept := v.check(c.accts, c.open, o.Identities.Clear())
		if err := p.write(kept, c.terms); err != nil {
			return nil, "", err
		}
		tWrite += time.Since(t)
	}
	o.Log.Debug("bureau step", "step", "ranges", "format", o.Format, "ranges", len(m.spans), "read_seconds", tRead.Seconds(),
		"reveal_seconds", tReveal.Seconds(), "write_seconds", tWrite.Seconds())
	withheld := v.failures()
	if err := withhold(o, v.accounts, withheld); err != nil {
		return nil, "", err
	}
	if len(withheld) > 0 {
		o.Log.Warn("bureau: accounts failing validation withheld from the submission", "month", o.Month,
			"format", o.Format, "withheld", len(withheld), "accounts", v.accounts, "first", withheld[0].String())
	}
	return p.finish(ctx, withheld)
}
