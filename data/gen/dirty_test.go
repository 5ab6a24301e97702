package gen

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"qiandun/data/schema"
)

// classifier is an independent, deliberately plain reading of the input
// contract: it decides for each physical line whether ingestion must
// accept it (and which tolerable forms it normalises) or reject it, and
// for which reason. The dirty test checks the generator's recorded counts
// against it.
type classifier struct {
	loans      map[string]time.Time // loan_id -> issue date
	quarantine map[string]map[string]int
	normalised map[string]map[string]int
	lines      map[string]int
}

var (
	reSlashDate = regexp.MustCompile(`^\d{4}/\d{1,2}/\d{1,2}$`)
	reCompact   = regexp.MustCompile(`^\d{8}$`)
	rePlainAmt  = regexp.MustCompile(`^-?\d+\.\d{2}$`)
	reThousands = regexp.MustCompile(`^\d{1,3}(,\d{3})+\.\d{2}$`)
)

func (c *classifier) classify(t *testing.T, dir string, tb schema.Table) {
	raw, err := os.ReadFile(filepath.Join(dir, tb.Name+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	q, nz := map[string]int{}, map[string]int{}
	c.quarantine[tb.Name], c.normalised[tb.Name] = q, nz
	c.lines[tb.Name] = len(lines) - 1
	aliases := schema.ChineseAliases()
	seenRow, seenKey := map[string]bool{}, map[string]bool{}
	var keyIdx []int
	for _, k := range tb.Key {
		keyIdx = append(keyIdx, slices.Index(tb.Names(), k))
	}
	loanIdx := slices.Index(tb.Names(), "loan_id")
	for _, line := range lines[1:] {
		line = strings.TrimSuffix(line, "\r")
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil || len(rec) != len(tb.Columns) {
			q[schema.ReasonMalformed]++
			continue
		}
		reason, norm := "", ""
		vals := make([]string, len(rec))
		for i, col := range tb.Columns {
			v := rec[i]
			vals[i] = v
			if v == "" {
				if !col.Nullable {
					reason = schema.ReasonMissing
				}
				continue
			}
			switch col.Kind {
			case schema.Date:
				switch {
				case reSlashDate.MatchString(v) || reCompact.MatchString(v):
					d, err := time.Parse("2006/1/2", v)
					if err != nil {
						d, err = time.Parse("20060102", v)
					}
					if err != nil {
						reason = schema.ReasonBadDate
					} else {
						norm, vals[i] = schema.NormDateForm, d.Format("2006-01-02")
					}
				default:
					if _, err := time.Parse("2006-01-02", v); err != nil {
						reason = schema.ReasonBadDate
					}
				}
			case schema.Timestamp:
				if _, err := time.Parse("2006-01-02 15:04:05", v); err != nil {
					reason = schema.ReasonBadDate
				}
			case schema.Money:
				switch {
				case reThousands.MatchString(v):
					norm, vals[i] = schema.NormThousands, strings.ReplaceAll(v, ",", "")
				case !rePlainAmt.MatchString(v):
					reason = schema.ReasonBadAmount
				case strings.HasPrefix(v, "-") && col.NonNeg:
					reason = schema.ReasonNegative
				}
			case schema.Enum:
				if en, ok := aliases[v]; ok && slices.Contains(col.Enum, en) {
					norm, vals[i] = schema.NormChinese, en
				} else if !slices.Contains(col.Enum, v) {
					reason = schema.ReasonBadEnum
				}
			}
		}
		if reason == "" {
			row := strings.Join(vals, "\x00")
			var key []string
			for _, k := range keyIdx {
				key = append(key, vals[k])
			}
			ks := strings.Join(key, "\x00")
			switch {
			case seenRow[row]:
				reason = schema.ReasonDuplicate
			case len(keyIdx) > 0 && seenKey[ks]:
				reason = schema.ReasonDuplicateKey
			case loanIdx >= 0 && tb.Name != "loans" && refersToLoans(tb) && c.loans[vals[loanIdx]].IsZero():
				reason = schema.ReasonOrphan
			case tb.Name == "repayments":
				paid, _ := time.Parse("2006-01-02 15:04:05", vals[3])
				if paid.Before(c.loans[vals[loanIdx]]) {
					reason = schema.ReasonDateOrder
				}
			}
			if reason == "" {
				seenRow[row], seenKey[ks] = true, true
			}
		}
		if reason != "" {
			q[reason]++
		} else if norm != "" {
			nz[norm]++
		}
	}
}

func TestDirtyCounts(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Loans, cfg.Seed, cfg.Dirty = 4000, 3, 0.02
	if _, err := Generate(context.Background(), cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(dir, "_truth", "dirty.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth DirtyTruth
	if err := json.Unmarshal(js, &truth); err != nil {
		t.Fatal(err)
	}
	c := &classifier{loans: map[string]time.Time{}, quarantine: map[string]map[string]int{},
		normalised: map[string]map[string]int{}, lines: map[string]int{}}
	for _, r := range table(t, dir, "loans.csv") {
		c.loans[r["loan_id"]] = mustDate(t, r["issue_date"])
	}
	totalQ, totalN := 0, 0
	for _, tb := range schema.Tables() {
		c.classify(t, dir, tb)
		tt := truth.Tables[tb.Name]
		if tt == nil {
			t.Fatalf("dirty.json has no %s", tb.Name)
		}
		if tt.DataLines != c.lines[tb.Name] {
			t.Errorf("%s: data_lines %d, file has %d", tb.Name, tt.DataLines, c.lines[tb.Name])
		}
		for _, r := range schema.Reasons() {
			if got, want := c.quarantine[tb.Name][r], tt.Quarantine[r]; got != want {
				t.Errorf("%s %s: recorded %d, found %d in the file", tb.Name, r, want, got)
			}
			totalQ += tt.Quarantine[r]
		}
		for _, n := range []string{schema.NormThousands, schema.NormDateForm, schema.NormChinese} {
			if got, want := c.normalised[tb.Name][n], tt.Normalised[n]; got != want {
				t.Errorf("%s %s: recorded %d, found %d in the file", tb.Name, n, want, got)
			}
			totalN += tt.Normalised[n]
		}
		if tb.Name == "loans" {
			for r, n := range tt.Quarantine {
				if n != 0 {
					t.Errorf("loans carry %d %s defects; loans must stay clean", n, r)
				}
			}
		}
	}
	t.Logf("%d quarantine and %d normalisation defects recorded", totalQ, totalN)
	// Every reason the brief names is exercised somewhere.
	for _, r := range []string{schema.ReasonMalformed, schema.ReasonBadDate, schema.ReasonBadAmount, schema.ReasonBadEnum,
		schema.ReasonNegative, schema.ReasonMissing, schema.ReasonDuplicate, schema.ReasonDuplicateKey,
		schema.ReasonOrphan, schema.ReasonDateOrder} {
		n := 0
		for _, tt := range truth.Tables {
			n += tt.Quarantine[r]
		}
		if n == 0 {
			t.Errorf("no %s defects injected", r)
		}
	}
	rep, _ := os.ReadFile(filepath.Join(dir, "repayments.csv"))
	ev, _ := os.ReadFile(filepath.Join(dir, "collection_events.csv"))
	if !bytes.HasPrefix(rep, []byte("\ufeff")) || !truth.Tables["repayments"].BOM {
		t.Error("repayments.csv should start with a BOM")
	}
	if bytes.Count(ev, []byte("\r\n")) != bytes.Count(ev, []byte("\n")) || !truth.Tables["collection_events"].CRLF {
		t.Error("collection_events.csv should have CRLF line ends")
	}
}

func TestGBKRoundTrip(t *testing.T) {
	gen := func(enc string) string {
		dir := t.TempDir()
		cfg := DefaultConfig()
		cfg.Loans, cfg.Encoding, cfg.Dirty = 1500, enc, 0.01
		if _, err := Generate(context.Background(), cfg, dir, nil); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	u, g := gen("utf8"), gen("gbk")
	dec := simplifiedchinese.GBK.NewDecoder()
	for _, tb := range schema.Tables() {
		ub, _ := os.ReadFile(filepath.Join(u, tb.Name+".csv"))
		gb, _ := os.ReadFile(filepath.Join(g, tb.Name+".csv"))
		ub = bytes.TrimPrefix(ub, []byte("\ufeff")) // the BOM is UTF-8 only
		if tb.Name == "applications" && bytes.Equal(ub, gb) {
			t.Fatal("GBK applications are byte-identical to UTF-8: nothing was encoded")
		}
		back, err := dec.Bytes(gb)
		if err != nil {
			t.Fatalf("%s: %v", tb.Name, err)
		}
		if !bytes.Equal(back, ub) {
			t.Errorf("%s: GBK decodes to different text", tb.Name)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"loans", func(c *Config) { c.Loans = 0 }, "--loans"},
		{"months", func(c *Config) { c.Months = 3 }, "--months"},
		{"encoding", func(c *Config) { c.Encoding = "latin1" }, "--encoding"},
		{"dirty", func(c *Config) { c.Dirty = 0.5 }, "--dirty"},
		{"start", func(c *Config) { c.StartMonth = 13 }, "start month"},
	}
	for _, tc := range tests {
		cfg := DefaultConfig()
		tc.mod(&cfg)
		_, err := Generate(context.Background(), cfg, t.TempDir(), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want mention of %q", tc.name, err, tc.want)
		}
	}
}

// TestVocabularyEncodesInGBK checks every fixed Chinese word the generator
// can write, so a rare name character cannot break --encoding gbk.
func TestVocabularyEncodesInGBK(t *testing.T) {
	var words []string
	words = append(words, surnames...)
	words = append(words, givenMale...)
	words = append(words, givenFemale...)
	words = append(words, productNames[:]...)
	words = append(words, channelNames[:]...)
	words = append(words, educationNames[:]...)
	words = append(words, maritalNames[:]...)
	words = append(words, creditPurposes...)
	words = append(words, housePurposes...)
	words = append(words, badEnums...)
	words = append(words, "购车")
	for zh := range schema.ChineseAliases() {
		words = append(words, zh)
	}
	pl := newPlaces()
	for i, p := range pl.provs {
		words = append(words, p.name)
		words = append(words, pl.nameCity[i]...)
	}
	enc := simplifiedchinese.GBK.NewEncoder()
	for _, w := range words {
		if _, err := enc.String(w); err != nil {
			t.Errorf("%q does not encode in GBK: %v", w, err)
		}
	}
}
