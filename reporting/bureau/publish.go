package bureau

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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

// readAccountsCSV returns an earlier submission's accounts.csv rows by
// loan id (the row joined by commas), and its ids in order.
func readAccountsCSV(p string) (map[string]string, []string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) == 0 || !slices.Equal(recs[0], AccountsColumns) {
		return nil, nil, fmt.Errorf("%s: not an accounts.csv (%v)", p, err)
	}
	m := map[string]string{}
	var ids []string
	for _, r := range recs[1:] {
		m[r[0]] = strings.Join(r, ",")
		ids = append(ids, r[0])
	}
	return m, ids, nil
}

// publishMonth writes the month's submission: the original one, or
// (o.Correct) the correction records against the latest submission.
func publishMonth(ctx context.Context, o Options, accts []Account, terms []Term, withheld []Failure) (*Manifest, string, error) {
	rel := path.Join(o.Format, o.Month)
	monthDir := filepath.Join(o.Out, filepath.FromSlash(rel))
	subs, err := submissions(monthDir)
	if err != nil {
		return nil, "", fmt.Errorf("bureau: %w", err)
	}
	csvBytes := accountsCSV(accts)
	m := &Manifest{Format: o.Format, Month: o.Month, Kind: "original", Identities: "vault", Accounts: len(accts), Records: map[string]int{}}
	if !o.Identities.Clear() {
		m.Identities = "none"
	}
	files := map[string]*jsonl{}
	add := func(name, kind string, v any) {
		if files[name] == nil {
			files[name] = &jsonl{}
		}
		files[name].add(v)
		m.Records[kind]++
	}
	termsOf := groupTerms(terms)
	if len(subs) > 0 {
		last := subs[len(subs)-1]
		lastDir := filepath.Join(monthDir, last)
		old, oldIDs, err := readAccountsCSV(filepath.Join(lastDir, "accounts.csv"))
		if err != nil {
			return nil, "", fmt.Errorf("bureau: %w", err)
		}
		prevCSV, _ := os.ReadFile(filepath.Join(lastDir, "accounts.csv"))
		if bytes.Equal(prevCSV, csvBytes) {
			prev, err := readManifest(lastDir)
			if err != nil {
				return nil, "", err
			}
			o.Log.Info("bureau month already reported, unchanged: nothing written", "month", o.Month, "format", o.Format, "submission", lastDir)
			return prev, lastDir, nil
		}
		if !o.Correct {
			return nil, "", fmt.Errorf("bureau: %s %s: %w in %s and the accounts now differ: run with --correct to write correction records", o.Format, o.Month, ErrAlreadyReported, lastDir)
		}
		m.Kind, m.Corrects = "correction", last
		ch := &Changes{}
		now := map[string]bool{}
		for _, a := range accts {
			now[a.LoanID] = true
			row := strings.Join(accountRow(a), ",")
			prev, had := old[a.LoanID]
			switch {
			case !had:
				ch.Added++
				writeAccount(o, a, termsOf[a.LoanID], "added", add)
			case prev != row:
				ch.Changed++
				writeAccount(o, a, termsOf[a.LoanID], "changed", add)
			}
		}
		for _, id := range oldIDs {
			if !now[id] {
				ch.Deleted++
				if o.Format == FormatPBOC {
					add("pboc_213.jsonl", "213", pbocDelete{InfRecType: "213", AcctCode: o.Config.OrgCode + id, Month: o.Month, MngmtOrgCode: o.Config.OrgCode})
				} else {
					add("baihang_loans.jsonl", "loan_D", baihangDelete{ReqID: o.Month + "-" + id + "-L-D", OpCode: "D", LoanID: id, Month: o.Month})
				}
			}
		}
		m.Changes = ch
	} else {
		for _, a := range accts {
			writeAccount(o, a, termsOf[a.LoanID], "original", add)
		}
	}
	seq := fmt.Sprintf("%03d", len(subs)+1)
	if len(subs) > 0 {
		n, _ := strconv.Atoi(subs[len(subs)-1])
		seq = fmt.Sprintf("%03d", n+1)
	}
	m.Submission = seq
	for _, n := range m.Records {
		m.Rows += n
	}
	out := map[string][]byte{"accounts.csv": csvBytes}
	counts := map[string]int{"accounts.csv": len(accts)}
	if len(withheld) > 0 {
		out["withheld.csv"], counts["withheld.csv"] = withheldCSV(withheld), len(withheld)
		m.Withheld = len(withheld)
	}
	for name, j := range files {
		out[name] = j.buf.Bytes()
		counts[name] = j.n
	}
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sum := sha256.Sum256(out[n])
		m.Files = append(m.Files, FileEntry{Name: n, Bytes: len(out[n]), Records: counts[n], SHA256: hex.EncodeToString(sum[:])})
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, "", err
	}
	out[ManifestName] = append(mb, '\n')
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	dir, err := commit(o.Out, o.Format, o.Month, seq, out)
	if err != nil {
		return nil, "", err
	}
	return m, dir, nil
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

func groupTerms(terms []Term) map[string][]Term {
	m := map[string][]Term{}
	for _, t := range terms {
		m[t.LoanID] = append(m[t.LoanID], t)
	}
	return m
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

// commit publishes a submission with the commit protocol: one chain per
// format and month under the output root, whose commit keeps the earlier
// submissions (hard links) and adds <format>/<month>/<seq>/. Files are
// 0600, the submission directory 0700. It returns the submission's path.
func commit(root, format, month, seq string, files map[string][]byte) (string, error) {
	rel := path.Join(format, month)
	tx, err := durable.Begin(root, "bureau-"+format+"-"+month)
	if err != nil {
		return "", fmt.Errorf("bureau: %w", err)
	}
	defer tx.Abort()
	if err := tx.Keep(rel); err != nil {
		return "", fmt.Errorf("bureau: %w", err)
	}
	dir, err := tx.Dir(path.Join(rel, seq))
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("bureau: %w", err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return "", fmt.Errorf("bureau: %w", err)
		}
	}
	tx.Mount(rel)
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("bureau: %w", err)
	}
	return filepath.Join(root, filepath.FromSlash(rel), seq), nil
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
