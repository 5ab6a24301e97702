package report

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"qiandun/internal/synthbook"
	"qiandun/training/scorecard"
	"qiandun/training/train"
)

// writeXORBook writes n rows of x1..x4 and bad, with log odds driven by
// a pure interaction of x1 and x2 (synthbook.XOR), as training/train's
// TestBoostedPairFindsInteraction does.
func writeXORBook(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	if err := synthbook.WriteFile(path, n, seed, synthbook.XOR); err != nil {
		t.Fatal(err)
	}
}

// trainBoosted trains a boosted card (maxPairs: 0 the default, negative
// none) on an XOR book and returns it and its artifact directory.
func trainBoosted(t *testing.T, maxPairs int) (*scorecard.Model, string) {
	t.Helper()
	dir := t.TempDir()
	trainCSV, testCSV := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	writeXORBook(t, trainCSV, 4000, 1)
	writeXORBook(t, testCSV, 2000, 2)
	c := train.NewConfig()
	c.Data, c.Test, c.Target, c.BadValue, c.Name = trainCSV, testCSV, "bad", "1", "book"
	c.Out = filepath.Join(dir, "models")
	c.Method, c.Boost.MaxPairs = "boosted", maxPairs
	res, err := train.Run(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return res.Model, res.Dir
}

var (
	pairsSectionRE = regexp.MustCompile(`(?s)<section id="pairs">.*?</section>`)
	tableRE        = regexp.MustCompile(`(?s)<table>.*?</table>`)
	rowRE          = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	tdRE           = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
)

// cells returns the data rows' cells (text) of an HTML table.
func cells(table string) [][]string {
	body := table[strings.Index(table, "<tbody>"):]
	var out [][]string
	for _, r := range rowRE.FindAllStringSubmatch(body, -1) {
		var row []string
		for _, c := range tdRE.FindAllStringSubmatch(r[1], -1) {
			row = append(row, c[1])
		}
		out = append(out, row)
	}
	return out
}

// TestReportPairs: the model report of a boosted card trained on an XOR
// book lists every pair tried, the pair x1 × x2 first and kept with its
// reason, and shows its points as a grid of the inputs' coarse bins; a
// card without pairs (a logistic card, a boosted card with no pair tried)
// has no pair section.
func TestReportPairs(t *testing.T) {
	logistic := filepath.Join(t.TempDir(), "acard", "v1")
	writeModelFixture(t, logistic)
	withPairs, withDir := trainBoosted(t, 0)
	_, noneDir := trainBoosted(t, -1)
	for _, tc := range []struct {
		name  string
		dir   string
		model *scorecard.Model // nil: no pair section
	}{
		{"boosted XOR, pairs tried", withDir, withPairs},
		{"boosted, no pair tried", noneDir, nil},
		{"logistic", logistic, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, err := WriteModelReport(tc.dir, "", t.TempDir(), Options{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			html := string(b)
			sec := pairsSectionRE.FindString(html)
			if tc.model == nil {
				if sec != "" || strings.Contains(html, "Interaction pairs") {
					t.Fatalf("a card without pairs has a pair section:\n%s", sec)
				}
				return
			}
			if sec == "" || !strings.Contains(html, `<a href="#pairs">`) {
				t.Fatal("no pair section (or no link to it)")
			}
			m := tc.model
			if len(m.Pairs) == 0 {
				t.Fatal("the model tried no pair")
			}
			tables := tableRE.FindAllString(sec, -1)
			if len(tables) == 0 {
				t.Fatal("no table in the pair section")
			}
			// The pairs tried: one row each, in rank order.
			rows := cells(tables[0])
			if len(rows) != len(m.Pairs) {
				t.Fatalf("%d rows for %d pairs tried", len(rows), len(m.Pairs))
			}
			for i, c := range m.Pairs {
				kept := "✗ no"
				if c.Kept {
					kept = "✓ yes"
				}
				want := []string{fmt.Sprint(c.Rank), c.Inputs[0] + " × " + c.Inputs[1], kept, template.HTMLEscapeString(c.Reason)}
				got := []string{rows[i][0], rows[i][1], rows[i][7], rows[i][8]}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("row %d: %q, want %q", i, got, want)
				}
			}
			if r := rows[0]; r[1] != "x1 × x2" || r[7] != "✓ yes" || !strings.HasPrefix(r[8], "kept: validation log-likelihood") {
				t.Errorf("first pair tried: %q, want x1 × x2 kept, and why", r)
			}
			// Each kept pair's grid: rows the first input's bins, columns
			// the second's, each cell's points.
			var grids []*scorecard.Characteristic
			for j := range m.Chars {
				if m.Chars[j].IsPair() {
					grids = append(grids, &m.Chars[j])
				}
			}
			if len(grids) != 1 || grids[0].Name != "x1_x_x2" {
				t.Fatalf("kept pairs %d, want x1_x_x2", len(grids))
			}
			for _, g := range grids {
				at := strings.Index(sec, `<h3 id="pair-`+g.Name+`">`)
				if at < 0 {
					t.Fatalf("no grid of %s", g.Name)
				}
				pts := tableRE.FindString(sec[at:])
				na, nb := len(g.Inputs[0].Bins), len(g.Inputs[1].Bins)
				if na < 2 || nb < 2 {
					t.Fatalf("%s: %d × %d bins", g.Name, na, nb)
				}
				grid := cells(pts)
				if len(grid) != na {
					t.Fatalf("%s: %d grid rows, want %d", g.Name, len(grid), na)
				}
				for i, r := range grid {
					if len(r) != nb+1 || r[0] != scorecard.ReadableLabel(g.Inputs[0].Bins[i].Bin) {
						t.Fatalf("%s: grid row %d %q: want %d cells after the label %q", g.Name, i, r, nb, scorecard.ReadableLabel(g.Inputs[0].Bins[i].Bin))
					}
					for j := range nb {
						if want := fmt.Sprintf("%.1f", g.Bins[g.Cell(i, j)].Points); r[j+1] != want {
							t.Errorf("%s: cell (%d, %d) %q, want %q", g.Name, i, j, r[j+1], want)
						}
					}
				}
				for j, y := range g.Inputs[1].Bins {
					if !strings.Contains(pts, "<th>"+template.HTMLEscapeString(scorecard.ReadableLabel(y.Bin))+"</th>") {
						t.Errorf("%s: no column %d %q", g.Name, j, scorecard.ReadableLabel(y.Bin))
					}
				}
			}
		})
	}
}

// TestLoadPairs: model.json's pairs and pair characteristics are read; a
// pair whose cells do not fill its inputs' grid is an error, not a
// broken grid.
func TestLoadPairs(t *testing.T) {
	bins := func(n int) string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf(`{"label":"b%d","points":%d}`, i, i))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	pair := func(cells int) string {
		return `{"name":"a_x_b","kind":"pair","bins":` + bins(cells) + `,"inputs":[{"name":"a","bins":` + bins(2) + `},{"name":"b","bins":` + bins(3) + `}]}`
	}
	for _, tc := range []struct {
		name, json   string
		pairs, grids int
		err          string
	}{
		{"logistic", `{"characteristics":[{"name":"a","bins":` + bins(2) + `}]}`, 0, 0, ""},
		{"tried, none kept", `{"pairs":[{"pair":"a_x_b","inputs":["a","b"],"rank":1,"kept":false,"reason":"no better"}],"characteristics":[]}`, 1, 0, ""},
		{"kept", `{"pairs":[{"pair":"a_x_b","inputs":["a","b"],"rank":1,"kept":true,"reason":"kept"}],"characteristics":[` + pair(6) + `]}`, 1, 1, ""},
		{"cells short", `{"characteristics":[` + pair(5) + `]}`, 0, 0, "5 cells for 2×3 bins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Model
			err := m.loadPairs([]byte(tc.json))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(m.Pairs) != tc.pairs || len(m.PairGrids) != tc.grids {
				t.Fatalf("pairs %d, grids %d, error %v; want %d, %d", len(m.Pairs), len(m.PairGrids), err, tc.pairs, tc.grids)
			}
		})
	}
}
