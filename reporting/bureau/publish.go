package bureau

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"qiandun/internal/csvsafe"
	"qiandun/internal/durable"
)

// ManifestName is the manifest file of a submission.
const ManifestName = "manifest.json"

// Manifest describes one submission.
type Manifest struct {
	Format     string `json:"format"`
	Month      string `json:"month"`
	Submission string `json:"submission"` // 001, 002, ...
	Kind       string `json:"kind"`       // original | correction
	Corrects   string `json:"corrects,omitempty"`
	// Identities: "vault" (real identities) or "none" (tokens stand in:
	// for testing, never to be submitted).
	Identities string         `json:"identities"`
	Accounts   int            `json:"accounts"`
	Rows       int            `json:"rows"`    // records written, all files (the pipeline summary's rows)
	Records    map[string]int `json:"records"` // by record type (PBOC 210/212/213, Baihang loan_A, repayment_M, ...)
	Changes    *Changes       `json:"changes,omitempty"`
	// Withheld counts the accounts that failed validation and were not
	// sent (withheld.csv names each with its rule).
	Withheld int         `json:"withheld"`
	Files    []FileEntry `json:"files"`
}

// Changes counts the accounts a correction adds, changes and deletes.
type Changes struct {
	Added, Changed, Deleted int
}

// FileEntry is one published file.
type FileEntry struct {
	Name    string `json:"name"`
	Bytes   int    `json:"bytes"`
	Records int    `json:"records"`
	SHA256  string `json:"sha256"`
}

// ErrAlreadyReported is returned when the month was reported before and
// the new accounts differ, without --correct.
var ErrAlreadyReported = errors.New("month already reported")

// submissions lists the submission numbers under dir, in order.
func submissions(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// publication is a month's submission being written range by range:
// the original one or, when the month was reported before, the
// correction records against the latest submission. accounts.csv and the
// record files are streamed into the commit's staging directory (sha256
// and counts on the way); whether the submission is committed at all is
// decided by finish.
type publication struct {
	o       Options
	sub     *submission
	csv     *recordFile // accounts.csv
	old     *earlier    // the latest submission's accounts.csv; nil for an original
	lastDir string      // the latest submission
}

// startPublication begins the month's next submission.
func startPublication(o Options) (*publication, error) {
	monthDir := filepath.Join(o.Out, filepath.FromSlash(path.Join(o.Format, o.Month)))
	subs, err := submissions(monthDir)
	if err != nil {
		return nil, fmt.Errorf("bureau: %w", err)
	}
	m := &Manifest{Format: o.Format, Month: o.Month, Kind: "original", Identities: "vault", Records: map[string]int{}}
	if !o.Identities.Clear() {
		m.Identities = "none"
	}
	p := &publication{o: o}
	seq := "001"
	if len(subs) > 0 {
		last := subs[len(subs)-1]
		p.lastDir = filepath.Join(monthDir, last)
		if p.old, err = openEarlier(filepath.Join(p.lastDir, "accounts.csv")); err != nil {
			return nil, fmt.Errorf("bureau: %w", err)
		}
		m.Kind, m.Corrects, m.Changes = "correction", last, &Changes{}
		n, _ := strconv.Atoi(last)
		seq = fmt.Sprintf("%03d", n+1)
	}
	m.Submission = seq
	if p.sub, err = beginSubmission(o.Out, o.Format, o.Month, seq, m); err != nil {
		p.close()
		return nil, err
	}
	if p.csv = p.sub.create("accounts.csv"); p.csv != nil {
		p.sub.fail(p.csv.csv.Write(AccountsColumns))
	}
	if err := p.sub.failed(); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// write writes a range of accounts, in loan id order after those before,
// with their terms (sorted alike): a row of accounts.csv each and the
// format's records, or for a correction those of the accounts added or
// changed since the latest submission.
func (p *publication) write(accts []Account, terms []Term) error {
	o, ch := p.o, p.sub.m.Changes
	err := eachAccount(accts, terms, func(a Account, ts []Term) error {
		row := accountRow(a)
		p.sub.fail(p.csv.csv.Write(row))
		p.csv.n++
		if p.old == nil {
			writeAccount(o, a, ts, "original", p.sub.add)
			return nil
		}
		was, ok, err := p.old.match(a.LoanID)
		switch {
		case err != nil:
			return fmt.Errorf("bureau: %w", err)
		case !ok:
			ch.Added++
			writeAccount(o, a, ts, "added", p.sub.add)
		case was != strings.Join(row, ","):
			ch.Changed++
			writeAccount(o, a, ts, "changed", p.sub.add)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.sub.failed()
}

// finish publishes the submission once every account is written, with
// withheld.csv listing the withheld accounts' failures. A correction is
// published only with o.Correct, and not at all when accounts.csv comes
// out the same as the latest submission's: then nothing is written and
// that submission is returned.
func (p *publication) finish(ctx context.Context, withheld []Failure) (*Manifest, string, error) {
	o, m := p.o, p.sub.m
	if p.old != nil {
		oldSum, err := p.old.rest()
		if err != nil {
			return nil, "", fmt.Errorf("bureau: %w", err)
		}
		newSum, err := p.csv.sum()
		if err != nil {
			return nil, "", fmt.Errorf("bureau: %w", err)
		}
		if bytes.Equal(oldSum, newSum) {
			prev, err := readManifest(p.lastDir)
			if err != nil {
				return nil, "", err
			}
			o.Log.Info("bureau month already reported, unchanged: nothing written", "month", o.Month, "format", o.Format, "submission", p.lastDir)
			return prev, p.lastDir, nil
		}
		if !o.Correct {
			return nil, "", fmt.Errorf("bureau: %s %s: %w in %s and the accounts now differ: run with --correct to write correction records", o.Format, o.Month, ErrAlreadyReported, p.lastDir)
		}
		// deletions after the rest, in the earlier file's order
		for _, id := range p.old.deleted {
			m.Changes.Deleted++
			if o.Format == FormatPBOC {
				p.sub.add("pboc_213.jsonl", "213", pbocDelete{InfRecType: "213", AcctCode: o.Config.OrgCode + id, Month: o.Month, MngmtOrgCode: o.Config.OrgCode})
			} else {
				p.sub.add("baihang_loans.jsonl", "loan_D", baihangDelete{ReqID: o.Month + "-" + id + "-L-D", OpCode: "D", LoanID: id, Month: o.Month})
			}
		}
	}
	m.Accounts = p.csv.n
	for _, n := range m.Records {
		m.Rows += n
	}
	if len(withheld) > 0 {
		p.sub.put("withheld.csv", withheldCSV(withheld), len(withheld))
		m.Withheld = len(withheld)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	dir, err := p.sub.commit()
	if err != nil {
		return nil, "", err
	}
	return m, dir, nil
}

// close drops what was not committed and closes the earlier file.
func (p *publication) close() {
	if p.sub != nil {
		p.sub.abort()
	}
	if p.old != nil {
		p.old.f.Close()
	}
}

// earlier walks the latest submission's accounts.csv beside the new
// accounts, both in loan id order, hashing it on the way.
type earlier struct {
	path    string
	f       *os.File
	r       *csv.Reader
	h       hash.Hash
	id, row string // the current row's loan id, and the row joined by commas
	done    bool   // no current row: the end of the file
	// deleted holds the loan ids of the rows no account matched, in the
	// file's order.
	deleted []string
}

// openEarlier opens an earlier submission's accounts.csv at its first
// row.
func openEarlier(p string) (*earlier, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	e := &earlier{path: p, f: f, h: sha256.New()}
	e.r = csv.NewReader(io.TeeReader(f, e.h))
	head, err := e.r.Read()
	if err == io.EOF {
		err = nil
	}
	if err == nil && slices.Equal(head, AccountsColumns) {
		err = e.next()
	} else {
		err = fmt.Errorf("%s: not an accounts.csv (%v)", p, err)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return e, nil
}

// next reads the next row.
func (e *earlier) next() error {
	rec, err := e.r.Read()
	if err == io.EOF {
		e.done = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: not an accounts.csv (%v)", e.path, err)
	}
	if rec[0] < e.id {
		return fmt.Errorf("%s: not in loan_id order (%s after %s)", e.path, rec[0], e.id)
	}
	e.id, e.row = rec[0], strings.Join(rec, ",")
	return nil
}

// match returns the earlier row of loan id id (ok false when there is
// none), setting aside as deleted the earlier rows before it.
func (e *earlier) match(id string) (row string, ok bool, err error) {
	for !e.done && e.id < id {
		e.deleted = append(e.deleted, e.id)
		if err := e.next(); err != nil {
			return "", false, err
		}
	}
	if e.done || e.id != id {
		return "", false, nil
	}
	row = e.row
	return row, true, e.next()
}

// rest sets aside the rows left as deleted and returns the file's
// sha256.
func (e *earlier) rest() ([]byte, error) {
	for !e.done {
		e.deleted = append(e.deleted, e.id)
		if err := e.next(); err != nil {
			return nil, err
		}
	}
	return e.h.Sum(nil), nil
}

// writeAccount adds an account's records: the original month's, or a
// correction's (an added account as new records, a changed one as
// modifications).
func writeAccount(o Options, a Account, terms []Term, why string, add func(name, kind string, v any)) {
	if o.Format == FormatPBOC {
		t := "210"
		if why == "changed" {
			t = "212"
		}
		add("pboc_"+t+".jsonl", t, pboc(a, o.Config.OrgCode, t))
		return
	}
	op := "A"
	if why == "changed" {
		op = "M"
	}
	if a.OpenedInMonth {
		add("baihang_loans.jsonl", "loan_"+op, baihangLoanRec(a, op))
	}
	for _, t := range terms {
		add("baihang_repayments.jsonl", "repayment_"+op, baihangRepayRec(a, t, op))
	}
}

// eachAccount calls fn with each account and its terms, in order, until
// fn fails. Both lists are sorted by loan id (sortMonth), so one merge
// walk pairs them.
func eachAccount(accts []Account, terms []Term, fn func(Account, []Term) error) error {
	j := 0
	for _, a := range accts {
		for j < len(terms) && terms[j].LoanID < a.LoanID {
			j++ // a term of no reported account
		}
		k := j
		for k < len(terms) && terms[k].LoanID == a.LoanID {
			k++
		}
		if err := fn(a, terms[j:k:k]); err != nil {
			return err
		}
		j = k
	}
	return nil
}

func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("bureau: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("bureau: %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return &m, nil
}

// submission is a submission being written into its commit's staging
// directory: one chain per format and month under the output root, whose
// commit keeps the earlier submissions (hard links) and adds
// <format>/<month>/<seq>/. Files are 0600, the directory 0700.
type submission struct {
	tx             *durable.Txn
	root, rel, seq string
	dir            string
	m              *Manifest
	files          map[string]*recordFile
	made           []string // directories Begin made, deepest first: abort removes them
	err            error
}

// recordFile is one file being streamed (JSON Lines records or CSV
// rows): what is written goes through a buffer to the file and its
// sha256.
type recordFile struct {
	f   *os.File
	buf *bufio.Writer
	enc *json.Encoder
	csv *csv.Writer
	cnt *counter
	n   int // records
}

// sum flushes the file's buffer and returns the sha256 of what was
// written so far.
func (rf *recordFile) sum() ([]byte, error) {
	if err := rf.buf.Flush(); err != nil {
		return nil, err
	}
	return rf.cnt.h.Sum(nil), nil
}

// counter counts and hashes what is written through it to w.
type counter struct {
	w     io.Writer
	h     hash.Hash
	bytes int
}

func (c *counter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.h.Write(b[:n])
	c.bytes += n
	return n, err
}

func beginSubmission(root, format, month, seq string, m *Manifest) (*submission, error) {
	rel := path.Join(format, month)
	chain := "bureau-" + format + "-" + month
	s := &submission{root: root, rel: rel, seq: seq, m: m, files: map[string]*recordFile{}}
	for d := filepath.Join(root, durable.VersionsDir, chain); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		s.made = append(s.made, d)
	}
	tx, err := durable.Begin(root, chain)
	if err != nil {
		s.abort()
		return nil, fmt.Errorf("bureau: %w", err)
	}
	s.tx = tx
	if s.err = tx.Keep(rel); s.err == nil {
		if s.dir, s.err = tx.Dir(path.Join(rel, seq)); s.err == nil {
			s.err = os.Chmod(s.dir, 0o700)
		}
	}
	if s.err != nil {
		s.abort()
		return nil, fmt.Errorf("bureau: %w", s.err)
	}
	return s, nil
}

// abort drops the staged submission, and the directories made for it
// that are left empty: a first submission refused leaves nothing behind.
// After commit it does nothing.
func (s *submission) abort() {
	if s.tx != nil {
		for _, rf := range s.files {
			rf.f.Close()
		}
		s.tx.Abort()
	}
	for _, d := range s.made {
		os.Remove(d) // only if empty
	}
}

// fail keeps err, the first error, for commit.
func (s *submission) fail(err error) {
	if s.err == nil && err != nil {
		s.err = err
	}
}

// failed returns the first error.
func (s *submission) failed() error {
	if s.err != nil {
		return fmt.Errorf("bureau: %w", s.err)
	}
	return nil
}

// create opens the streamed file name; nil after an error (kept).
func (s *submission) create(name string) *recordFile {
	if s.err != nil {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		s.err = err
		return nil
	}
	cnt := &counter{w: f, h: sha256.New()}
	rf := &recordFile{f: f, buf: bufio.NewWriterSize(cnt, 1<<20), cnt: cnt}
	rf.enc = json.NewEncoder(rf.buf) // as json.Marshal, and a newline
	rf.csv = csv.NewWriter(rf.buf)   // writes into rf.buf itself
	s.files[name] = rf
	return rf
}

// add writes record v to the JSON Lines file name and counts it under
// kind in the manifest. The first error is kept for commit.
func (s *submission) add(name, kind string, v any) {
	if s.err != nil {
		return
	}
	rf := s.files[name]
	if rf == nil {
		if rf = s.create(name); rf == nil {
			return
		}
	}
	if err := rf.enc.Encode(v); err != nil {
		s.err = err
		return
	}
	rf.n++
	s.m.Records[kind]++
}

// put writes a whole file of records records.
func (s *submission) put(name string, b []byte, records int) {
	if s.err != nil {
		return
	}
	if s.err = os.WriteFile(filepath.Join(s.dir, name), b, 0o600); s.err == nil {
		sum := sha256.Sum256(b)
		s.m.Files = append(s.m.Files, FileEntry{Name: name, Bytes: len(b), Records: records, SHA256: hex.EncodeToString(sum[:])})
	}
}

// commit closes the record files, writes the manifest (files by name)
// and commits. It returns the submission's path.
func (s *submission) commit() (string, error) {
	defer s.abort()
	for name, rf := range s.files {
		err := rf.buf.Flush()
		if cerr := rf.f.Close(); err == nil {
			err = cerr
		}
		if s.err == nil && err != nil {
			s.err = err
		}
		s.m.Files = append(s.m.Files, FileEntry{Name: name, Bytes: rf.cnt.bytes, Records: rf.n, SHA256: hex.EncodeToString(rf.cnt.h.Sum(nil))})
	}
	if s.err != nil {
		return "", fmt.Errorf("bureau: %w", s.err)
	}
	slices.SortFunc(s.m.Files, func(a, b FileEntry) int { return strings.Compare(a.Name, b.Name) })
	mb, err := json.MarshalIndent(s.m, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(s.dir, ManifestName), append(mb, '\n'), 0o600); err != nil {
		return "", fmt.Errorf("bureau: %w", err)
	}
	s.tx.Mount(s.rel)
	if err := s.tx.Commit(); err != nil {
		return "", fmt.Errorf("bureau: %w", err)
	}
	return filepath.Join(s.root, filepath.FromSlash(s.rel), s.seq), nil
}

// withheldCSV lists the validation failures of the withheld accounts.
func withheldCSV(fails []Failure) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"loan_id", "rule", "detail"})
	for _, f := range fails {
		w.Write(csvsafe.Record([]string{f.LoanID, f.Rule, f.Detail}))
	}
	w.Flush()
	return b.Bytes()
}
