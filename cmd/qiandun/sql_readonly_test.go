package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lakeState is every entry under root: a file's sha256, a link's target,
// a directory's mode, so any write, removal, creation or re-link shows.
func lakeState(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "link " + target
		case d.IsDir():
			if rel == "_tmp" || rel == "_audit" {
				return filepath.SkipDir // DuckDB's spill area; the audit trail of the queries
			}
			out[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			out[rel] = hex.EncodeToString(h[:])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSQLReadOnly runs the attacks of issue 12 (defect 7) through the CLI:
// each is refused with a one-line error, reads nothing it should not, and
// leaves the lake byte for byte as it was.
func TestSQLReadOnly(t *testing.T) {
	lk := ingestSmallBook(t)
	// A secret in the lake's key directory and one outside the lake.
	keyIn := filepath.Join(lk, "_keys", "secret.key")
	os.MkdirAll(filepath.Dir(keyIn), 0o700)
	outside := t.TempDir()
	keyOut := filepath.Join(outside, "pii.key")
	for _, p := range []string{keyIn, keyOut} {
		if err := os.WriteFile(p, []byte("TOPSECRETKEYMATERIAL"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	loanFiles, _ := filepath.Glob(filepath.Join(lk, "loans", "*.parquet"))
	qFiles, _ := filepath.Glob(filepath.Join(lk, "_quarantine", "*", "*.csv"))
	if len(loanFiles) == 0 || len(qFiles) == 0 {
		t.Fatalf("the small book has no loans files (%v) or no quarantine (%v)", loanFiles, qFiles)
	}
	before := lakeState(t, lk)
	attacks := []struct{ name, query string }{
		{"COPY over a table file", "COPY (SELECT 1 AS x) TO '" + loanFiles[0] + "' (FORMAT parquet)"},
		{"COPY PARTITION_BY OVERWRITE over the lake", "COPY (SELECT 1 AS x, 'a' AS p) TO '" + lk + "' (FORMAT parquet, PARTITION_BY (p), OVERWRITE)"},
		{"COPY PARTITION_BY OVERWRITE over the quarantine", "COPY (SELECT 1 AS x, 'a' AS p) TO '" + filepath.Join(lk, "_quarantine") + "' (FORMAT csv, PARTITION_BY (p), OVERWRITE)"},
		{"COPY a table out", "COPY loans TO '" + filepath.Join(outside, "loans.csv") + "'"},
		{"read_text of the key file", "SELECT content FROM read_text('" + keyIn + "')"},
		{"read_text of a key outside the lake", "SELECT content FROM read_text('" + keyOut + "')"},
		{"read_text through ..", "SELECT content FROM read_text('" + filepath.Join(lk, "loans") + "/../_keys/secret.key')"},
		{"read_blob of the key file", "SELECT content FROM read_blob('" + keyIn + "')"},
		{"read_csv of /etc/passwd", "SELECT * FROM read_csv('/etc/passwd', sep = ':')"},
		{"quarantine without --quarantine", "SELECT * FROM read_csv('" + qFiles[0] + "')"},
		{"manifests", "SELECT * FROM read_text('" + filepath.Join(lk, "_manifests", "*") + "')"},
		{"ATTACH creating a file", "ATTACH '" + filepath.Join(outside, "x.db") + "' AS x"},
		{"ATTACH inside a table dir", "ATTACH '" + filepath.Join(lk, "loans", "x.db") + "' AS x"},
		{"INSTALL", "INSTALL httpfs"},
		{"LOAD", "LOAD httpfs"},
		{"SET re-enabling access", "SET enable_external_access = true"},
		{"RESET", "RESET enable_external_access"},
		{"PRAGMA re-enabling access", "PRAGMA enable_external_access = true"},
		{"SET allowed_directories", "SET allowed_directories = ['/']"},
		{"SELECT then COPY", "SELECT 1; COPY (SELECT 1 AS x) TO '" + loanFiles[0] + "' (FORMAT parquet)"},
		{"EXPLAIN ANALYZE COPY", "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '" + loanFiles[0] + "' (FORMAT parquet)"},
		{"CREATE TABLE", "CREATE TABLE t AS SELECT * FROM loans"},
		{"EXPORT DATABASE", "EXPORT DATABASE '" + filepath.Join(outside, "exp") + "'"},
	}
	for _, a := range attacks {
		var out, errb bytes.Buffer
		code := realMain([]string{"sql", "--lake", lk, a.query}, &out, &errb)
		msg := errb.String()
		if code == 0 {
			t.Errorf("%s: accepted, output %q", a.name, out.String())
			continue
		}
		if strings.Count(strings.TrimRight(msg, "\n"), "\n") != 0 || !strings.HasPrefix(msg, "qiandun sql: ") {
			t.Errorf("%s: want a one-line error, got %q", a.name, msg)
		}
		if strings.Contains(out.String()+msg, "TOPSECRET") {
			t.Errorf("%s: the secret leaked: %q %q", a.name, out.String(), msg)
		}
	}
	if after := lakeState(t, lk); !equalStates(before, after) {
		t.Errorf("the lake changed:\nbefore %v\nafter  %v", before, after)
	}
	for _, p := range []string{"x.db", "loans.csv", "exp"} {
		if _, err := os.Stat(filepath.Join(outside, p)); err == nil {
			t.Errorf("%s was created outside the lake", p)
		}
	}

	// What a reader may do still works: the views, the tables' files by
	// path, DESCRIBE, and the quarantine with --quarantine.
	for _, q := range []struct{ args []string }{
		{[]string{"SELECT count(*) AS n FROM loans"}},
		{[]string{"SELECT count(*) AS n FROM read_parquet('" + loanFiles[0] + "')"}},
		{[]string{"DESCRIBE loans"}},
		{[]string{"--quarantine", "SELECT count(*) AS n FROM quarantine_loans"}},
	} {
		var out, errb bytes.Buffer
		if code := realMain(append([]string{"sql", "--lake", lk}, q.args...), &out, &errb); code != 0 {
			t.Errorf("%v: exit %d: %s", q.args, code, errb.String())
		}
	}

	// --output: written by qiandun, whole, 0600; never inside the lake.
	res := filepath.Join(outside, "loans.csv")
	var out, errb bytes.Buffer
	if code := realMain([]string{"sql", "--lake", lk, "--format", "csv", "--output", res, "SELECT loan_id FROM loans"}, &out, &errb); code != 0 {
		t.Fatalf("--output: exit %d: %s", code, errb.String())
	}
	if b, err := os.ReadFile(res); err != nil || string(b) != "loan_id\nL1\n" || out.Len() != 0 {
		t.Errorf("--output wrote %q (%v), stdout %q", b, err, out.String())
	}
	if st, _ := os.Stat(res); st == nil || st.Mode().Perm() != 0o600 {
		t.Errorf("--output mode %v", st)
	}
	for _, bad := range []string{filepath.Join(lk, "loans", "x.csv"), filepath.Join(lk, "q.csv")} {
		errb.Reset()
		if code := realMain([]string{"sql", "--lake", lk, "--output", bad, "SELECT 1"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "inside the lake") {
			t.Errorf("--output %s: exit %d %q", bad, code, errb.String())
		}
	}
	if after := lakeState(t, lk); !equalStates(before, after) {
		t.Errorf("the lake changed after the allowed queries:\nbefore %v\nafter  %v", before, after)
	}
}

func equalStates(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
