package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"qiandun/data/ingest/pii"
	"qiandun/data/lake"
	"qiandun/data/schema"
	"qiandun/data/vault"
)

// piiColumns are the raw export columns that hold personal information:
// none of their values may appear in clear in anything the pipeline
// writes, except the quarantine (mode 0600, the raw rows it rejected), the
// lost-contact repair queue (mode 0600, phones revealed from the vault)
// and the credit-bureau record files that carry identities (mode 0600,
// declared in their submission's manifest, revealed from the vault: see
// bureauIdentityFile).
var piiColumns = []string{"id_number", "name", "phone", "device_id", "ip", "lender_id_number", "lender_name", "lender_phone"}

// TestPIISweep runs the whole pipeline from the CLI as a user would —
// `qiandun run --config pipelines/default.yaml` on a 3,000-loan book,
// clean, then with the generator's dirty rate raised, then on a raw
// directory whose exports lack their header line — and searches every
// file written outside the quarantine and the raw input — the encrypted
// PII vault included (Parquet decoded
// by DuckDB, every string column; CSV, HTML, JSON, YAML, manifests; and
// everything the commands logged) for every ID number, name, phone,
// device id and IP of the raw exports. There must be none.
func TestPIISweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline three times")
	}
	root := t.TempDir()
	t.Setenv("QIANDUN_PII_KEY", "")
	var logs bytes.Buffer // everything the commands printed
	run := func(wantOK bool, args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := realMain(args, &out, &errb)
		logs.Write(out.Bytes())
		logs.Write(errb.Bytes())
		if (code == 0) != wantOK {
			t.Fatalf("qiandun %v: exit %d\n%s\n%s", args, code, out.String(), tailStr(errb.String(), 4000))
		}
	}
	pipeline := func(dir string, extra ...string) []string {
		return append([]string{"run", "--config", "../../pipelines/default.yaml", "--allow-outside", "--set", "root=" + dir, "--set", "loans=3000"}, extra...)
	}
	clean, dirty, headless := filepath.Join(root, "clean"), filepath.Join(root, "dirty"), filepath.Join(root, "headless")
	run(true, pipeline(clean)...)
	run(true, pipeline(dirty, "--set", "dirty=0.01")...)
	// Exports without their header line: the first record is read as the
	// header, and ingest must refuse it without quoting it anywhere.
	if err := copyWithoutHeaders(filepath.Join(clean, "raw"), filepath.Join(headless, "raw")); err != nil {
		t.Fatal(err)
	}
	run(false, pipeline(headless, "--to", "ingest")...)
	// And the same files ingested straight into the clean lake.
	run(false, "ingest", "--raw", filepath.Join(headless, "raw"), "--lake", filepath.Join(clean, "lake"), "--pii-key-file", filepath.Join(clean, "keys", pii.KeyFileName))

	vals := newPIISet()
	for _, dir := range []string{clean, dirty} {
		if err := vals.addExports(filepath.Join(dir, "raw")); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("PII values: %d searched as substrings, %d names as whole fields, %d names skipped (also non-PII words of the exports)",
		len(vals.long), len(vals.names), vals.ambiguous)
	if len(vals.long) < 5000 || len(vals.names) < 1000 {
		t.Fatalf("too few PII values read from the exports (%d long, %d names): the sweep would prove nothing", len(vals.long), len(vals.names))
	}

	db, err := lake.OpenDuckDB(context.Background(), lake.DBOptions{MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var files, parquets, queues, bureauFiles int
	var hits []string
	report := func(where string, found []string) {
		for _, v := range found {
			hits = append(hits, fmt.Sprintf("%s: %q", where, v))
		}
	}
	report("log", vals.search(logs.Bytes()))
	for _, dir := range []string{clean, dirty, headless} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			if d.IsDir() {
				// The raw input, the quarantine (0600, the rejected raw rows)
				// and the secret keys are not outputs to search.
				if rel == "raw" || rel == "keys" || d.Name() == lake.QuarantineDir {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if d.Name() == "queue.csv" && strings.HasPrefix(rel, filepath.Join("out", "repair")+string(filepath.Separator)) {
				// The lost-contact repair queue reveals phones by design
				// (from the vault, each reveal audited): 0600, not searched.
				if info, err := d.Info(); err != nil || info.Mode().Perm() != 0o600 {
					t.Errorf("%s: the repair queue is not 0600 (%v)", rel, err)
				}
				queues++
				return nil
			}
			if bureauIdentityFile(t, rel, p) {
				bureauFiles++
				return nil
			}
			files++
			where := filepath.Join(filepath.Base(dir), rel)
			if strings.HasSuffix(p, ".parquet") {
				parquets++
				found, err := vals.searchParquet(db, p)
				if err != nil {
					return err
				}
				report(where, found)
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			report(where, vals.search(b))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("searched %d files (%d Parquet) and %d bytes of logs", files, parquets, logs.Len())
	// The vault (searched above like every file: it holds tokens and
	// ciphertext only) has every name of the clean book's exports.
	vk, err := os.ReadFile(filepath.Join(clean, "keys", vault.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(filepath.Join(clean, "lake"), bytes.TrimSpace(vk), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() < len(vals.names)/2 {
		t.Errorf("the vault holds %d values for %d names", v.Len(), len(vals.names))
	}
	if queues < 2 {
		t.Errorf("%d repair queues found (want the clean and the dirty book's): the exclusion above is stale", queues)
	}
	if bureauFiles < 2 {
		t.Errorf("%d bureau record files with identities found (want the clean and the dirty book's PBOC month): the exclusion above is stale", bureauFiles)
	}
	if parquets < 20 {
		t.Errorf("only %d Parquet files searched", parquets)
	}
	sort.Strings(hits)
	for i, h := range hits {
		if i == 20 {
			t.Errorf("... and %d more", len(hits)-20)
			break
		}
		t.Errorf("clear PII in %s", h)
	}
}

// piiSet is the personal values of a book's raw exports, searched for in
// the pipeline's outputs in two ways:
//
//   - long: ID numbers (18 characters), phones (11 digits), device ids
//     (16 characters) and IPs (7 to 15) are ASCII strings of at least 7
//     bytes that no other field of the book holds by chance, so they are
//     searched as substrings of everything, wherever they sit (a value
//     glued into a message, a path or a longer field is still a leak);
//   - names: a Chinese name is two or three Han characters, and as a
//     substring it would be found in ordinary text — 王伟 inside 王伟华 (a
//     longer name), or inside a sentence of a report. Names are therefore
//     matched as whole fields: a maximal run of Han characters equal to the
//     name. A name that is also a word of a non-PII column of the exports
//     (a city, a province, a purpose) or a birth province the lake derives
//     is left out, since it may rightly appear.
type piiSet struct {
	long      map[string]bool
	byPrefix  map[uint64][]string // long values by their first 7 bytes
	names     map[string]bool
	ambiguous int
}

func newPIISet() *piiSet {
	return &piiSet{long: map[string]bool{}, byPrefix: map[uint64][]string{}, names: map[string]bool{}}
}

const prefixLen = 7

func prefixKey(b []byte) uint64 {
	var k [8]byte
	copy(k[:], b[:prefixLen])
	return binary.LittleEndian.Uint64(k[:])
}

// addExports reads the PII columns of every CSV export under dir (the
// generator writes CSV) from the records with the header's field count; a
// record with another count is malformed and its fields may be shifted.
func (s *piiSet) addExports(dir string) error {
	words := map[string]bool{}
	for _, p := range pii.Provinces() {
		words[p] = true
	}
	for zh := range schema.ChineseAliases() {
		words[zh] = true
	}
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "_truth" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".csv") {
			return fmt.Errorf("%s: the sweep reads CSV exports only", p)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		r := csv.NewReader(f)
		r.FieldsPerRecord, r.LazyQuotes = -1, true
		header, err := r.Read()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil || len(rec) != len(header) {
				continue
			}
			for i, c := range header {
				v := strings.TrimSpace(rec[i])
				switch {
				case v == "":
				case c == "name" || c == "lender_name":
					names = append(names, v)
				case slices.Contains(piiColumns, c):
					if len(v) < prefixLen {
						return fmt.Errorf("%s: %s value of %d bytes: too short to search as a substring", p, c, len(v))
					}
					s.long[v] = true
				default:
					for _, w := range hanRuns(v) {
						words[w] = true
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		if words[n] || len(hanRuns(n)) != 1 || hanRuns(n)[0] != n {
			s.ambiguous++
			continue
		}
		s.names[n] = true
	}
	for v := range s.long {
		k := prefixKey([]byte(v))
		if !slices.Contains(s.byPrefix[k], v) {
			s.byPrefix[k] = append(s.byPrefix[k], v)
		}
	}
	return nil
}

// hanRuns returns the maximal runs of Han characters in s.
func hanRuns(s string) []string {
	var out []string
	start := -1
	for i, r := range s {
		han := unicode.Is(unicode.Han, r)
		switch {
		case han && start < 0:
			start = i
		case !han && start >= 0:
			out = append(out, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// search returns the PII values found in b (see piiSet).
func (s *piiSet) search(b []byte) []string {
	var found []string
	for i := 0; i+prefixLen <= len(b); i++ {
		if c := b[i]; c < '.' || c > 'z' { // every long value starts with [0-9a-zA-Z.]
			continue
		}
		for _, v := range s.byPrefix[prefixKey(b[i:])] {
			if bytes.HasPrefix(b[i:], []byte(v)) {
				found = append(found, v)
			}
		}
	}
	start := -1
	for i := 0; i <= len(b); {
		r, n := rune(0), 1
		if i < len(b) {
			r, n = utf8.DecodeRune(b[i:])
		}
		han := i < len(b) && unicode.Is(unicode.Han, r)
		switch {
		case han && start < 0:
			start = i
		case !han && start >= 0:
			if s.names[string(b[start:i])] {
				found = append(found, string(b[start:i]))
			}
			start = -1
		}
		i += n
	}
	return found
}

// searchParquet decodes every column of a Parquet file that can hold text
// (VARCHAR, BLOB, and lists, structs and maps of them, cast to VARCHAR)
// and searches its distinct values.
func (s *piiSet) searchParquet(db *sql.DB, path string) ([]string, error) {
	src := "read_parquet(" + lake.Quote(path) + ")"
	rows, err := db.Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " + src + ")")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var cols []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return nil, err
		}
		if strings.Contains(typ, "VARCHAR") || strings.Contains(typ, "BLOB") {
			cols = append(cols, name)
		}
	}
	rows.Close()
	var found []string
	for _, c := range cols {
		q := fmt.Sprintf(`SELECT DISTINCT CAST(%s AS VARCHAR) FROM %s WHERE %[1]s IS NOT NULL`, `"`+strings.ReplaceAll(c, `"`, `""`)+`"`, src)
		rs, err := db.Query(q)
		if err != nil {
			return nil, fmt.Errorf("%s: column %s: %w", path, c, err)
		}
		for rs.Next() {
			var v string
			if err := rs.Scan(&v); err != nil {
				rs.Close()
				return nil, err
			}
			for _, f := range s.search([]byte(v)) {
				found = append(found, c+"="+f)
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// copyWithoutHeaders copies the exports under from to to, each without
// its first line.
func copyWithoutHeaders(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			if d.Name() == "_truth" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
}

// bureauIdentityFiles are the record files of a bureau submission that
// carry names, ID numbers and phones (PBOC 210 and 212 base segments,
// Baihang loan records); accounts.csv, withheld.csv, the manifest, PBOC
// deletions and Baihang repayment records carry none and are searched.
var bureauIdentityFiles = []string{"pboc_210.jsonl", "pboc_212.jsonl", "baihang_loans.jsonl"}

// bureauIdentityFile reports whether rel (at p) is a credit-bureau record
// file allowed to hold clear identities: one of bureauIdentityFiles in a
// submission (<format>/<month>/<seq>/ under out/bureau), mode 0600, listed in
// the submission's manifest, which says its identities come from the
// vault. A file there that fails any of these is an error (and is then
// searched like any other).
func bureauIdentityFile(t *testing.T, rel, p string) bool {
	t.Helper()
	// Submissions are committed under out/bureau/_v/<chain>/<n>/ and
	// mounted at out/bureau/<format>/<month> (links the walk does not follow).
	parts := strings.Split(rel, string(filepath.Separator))
	name := parts[len(parts)-1]
	if len(parts) < 6 || parts[0] != "out" || parts[1] != "bureau" || !slices.Contains(bureauIdentityFiles, name) {
		return false
	}
	info, err := os.Stat(p)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("%s: a bureau record file with identities is not 0600 (%v)", rel, err)
		return false
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(p), "manifest.json"))
	if err != nil {
		t.Errorf("%s: no manifest beside it: %v", rel, err)
		return false
	}
	var m struct {
		Identities string
		Files      []struct{ Name string }
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Errorf("%s: its manifest: %v", rel, err)
		return false
	}
	listed := slices.ContainsFunc(m.Files, func(f struct{ Name string }) bool { return f.Name == name })
	if m.Identities != "vault" || !listed {
		t.Errorf("%s: not declared in its manifest as a file with identities from the vault (identities %q, listed %v)", rel, m.Identities, listed)
		return false
	}
	return true
}
