package ingest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"qiandun/data/gen"
	"qiandun/data/schema"
)

// genBook writes a generated book to a new directory.
func genBook(t *testing.T, cfg gen.Config) (string, *gen.DirtyTruth) {
	t.Helper()
	dir := t.TempDir()
	if _, err := gen.Generate(context.Background(), cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	var truth gen.DirtyTruth
	b, err := os.ReadFile(filepath.Join(dir, "_truth", "dirty.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	return dir, &truth
}

// TestDirtyBook ingests a generated book with defects injected in known
// counts and checks, per table, that every data line was read, that each
// reason was found exactly as often as it was injected, and that each
// tolerable form was normalised as often as it was written.
func TestDirtyBook(t *testing.T) {
	for _, enc := range []string{"utf8", "gbk"} {
		t.Run(enc, func(t *testing.T) {
			cfg := gen.DefaultConfig()
			cfg.Loans, cfg.Dirty, cfg.Encoding, cfg.Seed = 2000, 0.01, enc, 7
			raw, truth := genBook(t, cfg)
			res := run(t, testOptions(raw, t.TempDir()))
			for _, tab := range schema.Tables() {
				tt := truth.Tables[tab.Name]
				if tt == nil {
					t.Fatalf("dirty.json has no table %s", tab.Name)
				}
				tr := tableResult(t, res, tab.Name)
				t.Logf("%s: read %d, quarantined %v, normalised %v", tab.Name, tr.Read, tr.Reasons, tr.Normalised)
				if tr.Read != int64(tt.DataLines) {
					t.Errorf("%s: read %d, generator wrote %d data lines", tab.Name, tr.Read, tt.DataLines)
				}
				for _, r := range schema.Reasons() {
					if got, want := tr.Reasons[r], int64(tt.Quarantine[r]); got != want {
						t.Errorf("%s: %s quarantined %d, injected %d", tab.Name, r, got, want)
					}
				}
				for _, n := range []string{schema.NormThousands, schema.NormDateForm, schema.NormChinese} {
					if got, want := tr.Normalised[n], int64(tt.Normalised[n]); got != want {
						t.Errorf("%s: %s normalised %d, injected %d", tab.Name, n, got, want)
					}
				}
				for f, e := range tr.Encodings {
					if want := map[string]string{"utf8": EncUTF8, "gbk": EncGBK}[enc]; e != want && tab.Name == "applications" {
						t.Errorf("%s: detected %s, want %s", f, e, want)
					}
				}
			}
		})
	}
}
