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

// publishMonth writes the month's submission: the original one, or
// (o.Correct) the correction records against the latest submission. The
// record files are streamed into the commit's staging directory as the
// records are made (sha256 and counts on the way); accounts.csv is built
// first, to compare it with the latest submission's.
func publishMonth(ctx context.Context, o Options, accts []Account, terms []Term, withheld []Failure) (*Manifest, string, error) {
	monthDir := filepath.Join(o.Out, filepath.FromSlash(path.Join(o.Format, o.Month)))
	subs, err := submissions(monthDir)
	if err != nil {
		return nil, "", fmt.Errorf("bureau: %w", err)
	}
	csvBytes := accountsCSV(accts)
	m := &Manifest{Format: o.Format, Month: o.Month, Kind: "original", Identities: "vault", Accounts: len(accts), Records: map[string]int{}}
	if !o.Identities.Clear() {
		m.Identities = "none"
	}
	var old *earlier
	seq := "001"
	if len(subs) > 0 {
		last := subs[len(subs)-1]
		lastDir := filepath.Join(monthDir, last)
		if prevCSV, _ := os.ReadFile(filepath.Join(lastDir, "accounts.csv")); bytes.Equal(prevCSV, csvBytes) {
			prev, err := readManifest(lastDir)
			if err != nil {
				return nil, "", err
			}
			o.Log.Info("bureau month already reported, unchanged: nothing written", "month", o.Month, "format", o.Format, "submission", lastDir)
			return prev, lastDir, nil
		}
		if old, err = readEarlier(filepath.Join(lastDir, "accounts.csv")); err != nil {
			return nil, "", fmt.Errorf("bureau: %w", err)
		}
		if !o.Correct {
			return nil, "", fmt.Errorf("bureau: %s %s: %w in %s and the accounts now differ: run with --correct to write correction records", o.Format, o.Month, ErrAlreadyReported, lastDir)
		}
		m.Kind, m.Corrects = "correction", last
		n, _ := strconv.Atoi(last)
		seq = fmt.Sprintf("%03d", n+1)
	}
	m.Submission = seq
	sub, err := beginSubmission(o.Out, o.Format, o.Month, seq, m)
	if err != nil {
		return nil, "", err
	}
	defer sub.tx.Abort()
	if old != nil {
		m.Changes = writeCorrections(o, sub, accts, terms, old)
	} else {
		eachAccount(accts, terms, func(a Account, ts []Term) { writeAccount(o, a, ts, "original", sub.add) })
	}
	for _, n := range m.Records {
		m.Rows += n
	}
	sub.put("accounts.csv", csvBytes, len(accts))
	if len(withheld) > 0 {
		sub.put("withheld.csv", withheldCSV(withheld), len(withheld))
		m.Withheld = len(withheld)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	dir, err := sub.commit()
	if err != nil {
		return nil, "", err
	}
	return m, dir, nil
}

// earlier is the latest submission's accounts.csv: each row (joined by
// commas) in its order, which is loan_id order.
type earlier struct {
	ids, rows []string
}

// readEarlier reads an earlier submission's accounts.csv.
func readEarlier(p string) (*earlier, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) == 0 || !slices.Equal(recs[0], AccountsColumns) {
		return nil, fmt.Errorf("%s: not an accounts.csv (%v)", p, err)
	}
	e := &earlier{}
	for _, r := range recs[1:] {
		e.ids = append(e.ids, r[0])
		e.rows = append(e.rows, strings.Join(r, ","))
	}
	return e, nil
}

// writeCorrections writes the differences between the accounts and the
// earlier submission's: added and changed accounts as records (PBOC
// 210/212, Baihang opCode A/M), deleted ones as deletions (PBOC 213,
// Baihang D), deletions after the rest. Both lists are sorted by loan
// id, so one merge walk pairs them.
func writeCorrections(o Options, sub *submission, accts []Account, terms []Term, old *earlier) *Changes {
	ch := &Changes{}
	oldIdx := sortedIndex(old.ids)
	var deleted []int // indices into old
	j := 0
	eachAccount(accts, terms, func(a Account, ts []Term) {
		for j < len(oldIdx) && old.ids[oldIdx[j]] < a.LoanID {
			deleted = append(deleted, oldIdx[j])
			j++
		}
		if j < len(oldIdx) && old.ids[oldIdx[j]] == a.LoanID {
			if old.rows[oldIdx[j]] != strings.Join(accountRow(a), ",") {
				ch.Changed++
				writeAccount(o, a, ts, "changed", sub.add)
			}
			j++
			return
		}
		ch.Added++
		writeAccount(o, a, ts, "added", sub.add)
	})
	deleted = append(deleted, oldIdx[j:]...)
	slices.Sort(deleted) // in the earlier file's order
	for _, k := range deleted {
		id := old.ids[k]
		ch.Deleted++
		if o.Format == FormatPBOC {
			sub.add("pboc_213.jsonl", "213", pbocDelete{InfRecType: "213", AcctCode: o.Config.OrgCode + id, Month: o.Month, MngmtOrgCode: o.Config.OrgCode})
		} else {
			sub.add("baihang_loans.jsonl", "loan_D", baihangDelete{ReqID: o.Month + "-" + id + "-L-D", OpCode: "D", LoanID: id, Month: o.Month})
		}
	}
	return ch
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

// eachAccount calls fn with each account and its terms, in order. Both
// lists are sorted by loan id (sortMonth), so one merge walk pairs them.
func eachAccount(accts []Account, terms []Term, fn func(Account, []Term)) {
	j := 0
	for _, a := range accts {
		for j < len(terms) && terms[j].LoanID < a.LoanID {
			j++ // a term of no reported account
		}
		k := j
		for k < len(terms) && terms[k].LoanID == a.LoanID {
			k++
		}
		fn(a, terms[j:k:k])
		j = k
	}
}

// sortedIndex returns the indices of ids in the order of their values
// (stable).
func sortedIndex(ids []string) []int {
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	if !slices.IsSorted(ids) {
		slices.SortStableFunc(idx, func(x, y int) int { return strings.Compare(ids[x], ids[y]) })
	}
	return idx
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
	err            error
}

// recordFile is one JSON Lines file being streamed: its records go
// through a buffer to the file and its sha256.
type recordFile struct {
	f   *os.File
	buf *bufio.Writer
	enc *json.Encoder
	cnt *counter
	n   int
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
	tx, err := durable.Begin(root, "bureau-"+format+"-"+month)
	if err != nil {
		return nil, fmt.Errorf("bureau: %w", err)
	}
	s := &submission{tx: tx, root: root, rel: rel, seq: seq, m: m, files: map[string]*recordFile{}}
	if s.err = tx.Keep(rel); s.err == nil {
		if s.dir, s.err = tx.Dir(path.Join(rel, seq)); s.err == nil {
			s.err = os.Chmod(s.dir, 0o700)
		}
	}
	if s.err != nil {
		tx.Abort()
		return nil, fmt.Errorf("bureau: %w", s.err)
	}
	return s, nil
}

// add writes record v to the JSON Lines file name and counts it under
// kind in the manifest. The first error is kept for commit.
func (s *submission) add(name, kind string, v any) {
	if s.err != nil {
		return
	}
	rf := s.files[name]
	if rf == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			s.err = err
			return
		}
		cnt := &counter{w: f, h: sha256.New()}
		rf = &recordFile{f: f, buf: bufio.NewWriterSize(cnt, 1<<20), cnt: cnt}
		rf.enc = json.NewEncoder(rf.buf) // as json.Marshal, and a newline
		s.files[name] = rf
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
	defer s.tx.Abort()
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
