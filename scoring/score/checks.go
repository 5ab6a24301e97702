//go:build duckdb_arrow

package score

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"qiandun/data/lake"
	"qiandun/training/scorecard"
)

// inputStats watches the input go by, batch by batch in input order, on
// the reading goroutine: the NULLs of every characteristic column, and
// whether the entity ids arrive in strictly increasing byte order (a lake
// snapshot, and most exports, are sorted by their key). Ids in strictly
// increasing order are unique, which costs one comparison per row and no
// memory; only an input whose ids are not in order is checked for
// duplicates by a second query (see checkInput).
type inputStats struct {
	chars  []int   // the Layout's characteristic columns
	id     int     // the Layout's id column, or −1
	Nulls  []int64 // per characteristic, card order
	Sorted bool    // the non-NULL ids are strictly increasing
	prev   []byte
	have   bool
}

func newInputStats(lay Layout) *inputStats {
	return &inputStats{chars: lay.Chars, id: lay.ID, Nulls: make([]int64, len(lay.Chars)), Sorted: true}
}

func (st *inputStats) add(rec arrow.RecordBatch) {
	for j, c := range st.chars {
		st.Nulls[j] += int64(rec.Column(c).NullN())
	}
	if st.id < 0 || !st.Sorted {
		return
	}
	x, ok := rec.Column(st.id).(*array.String)
	if !ok {
		st.Sorted = false // Score reports the type
		return
	}
	for i := range x.Len() {
		if x.IsNull(i) {
			continue
		}
		v := x.Value(i)
		if st.have && v <= string(st.prev) {
			st.Sorted = false
			return
		}
		st.prev, st.have = append(st.prev[:0], v...), true
	}
}

// errEmptyInput and its kin let callers and tests tell the refusals apart.
var (
	errEmptyInput = errors.New("no rows to score")
	errNullColumn = errors.New("a characteristic is NULL in every row")
	errDuplicate  = errors.New("duplicate entity id")
)

// nullChance is the probability below which a characteristic NULL in
// every row of a batch is taken for a column lost from the feed rather
// than chance: a batch of n rows, each missing with the training share p
// independently, is all NULL with probability p^n.
const nullChance = 1e-6

// nullImprobable reports whether n rows all NULL is too improbable to be
// chance for a characteristic missing in a share p of the training rows
// (p^n < nullChance); always when p is 0.
func nullImprobable(p float64, n int64) bool {
	if p <= 0 {
		return true
	}
	return float64(n)*math.Log(p) < math.Log(nullChance)
}

// missingShare is the share of a characteristic's training rows that were
// missing: the counts of its missing bin over all its bins' (an upper
// bound when the missing bin was merged with a regular one, which only
// makes the check more lenient). known is false when the card carries no
// counts (a card built elsewhere), and the check then refuses any
// all-NULL column, as it always did.
func missingShare(c scorecard.Characteristic) (share float64, known bool) {
	var miss, all int64
	for _, b := range c.Bins {
		all += b.Count
		if b.Missing {
			miss += b.Count
		}
	}
	if all == 0 {
		return 0, false
	}
	return float64(miss) / float64(all), true
}

// inputError reports whether err is about the input rather than the model.
func inputError(err error) bool {
	return errors.Is(err, errEmptyInput) || errors.Is(err, errNullColumn) || errors.Is(err, errDuplicate)
}

// checkFile refuses a flat file with nothing in it before DuckDB reads
// it (DuckDB would describe an empty CSV file as one VARCHAR column).
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(bufio.NewReader(f), head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if n < len(head) && len(bytes.TrimSpace(bytes.TrimPrefix(head[:n], []byte("\xef\xbb\xbf")))) == 0 {
		return fmt.Errorf("%s is empty: no header line and no rows: %w; nothing is published", path, errEmptyInput)
	}
	return nil
}

// explainTypes is asked when a characteristic's column has the wrong
// type: a CSV file with a header and no rows, or a column empty in every
// row, is read by DuckDB as VARCHAR, and saying so is more use than a
// type mismatch. It returns nil when neither is the case.
func explainTypes(ctx context.Context, db *sql.DB, src, input string, cols []string) error {
	sel := []string{"count(*)"}
	for _, c := range cols {
		sel = append(sel, "count("+lake.Ident(c)+")")
	}
	counts := make([]int64, len(sel))
	ptrs := make([]any, len(sel))
	for i := range counts {
		ptrs[i] = &counts[i]
	}
	if err := db.QueryRowContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+src).Scan(ptrs...); err != nil {
		return fmt.Errorf("read %s: %w", input, err)
	}
	if counts[0] == 0 {
		return fmt.Errorf("%s has a header line but no data rows: %w; nothing is published", input, errEmptyInput)
	}
	var empty []string
	for i, c := range cols {
		if counts[i+1] == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) > 0 {
		return fmt.Errorf("%s: column(s) %s empty (NULL) in all %d rows: %w", input, strings.Join(empty, ", "), counts[0], errNullColumn)
	}
	return nil
}

// checkInput refuses, after the input was scored and before anything is
// published: an input with no rows (unless o.AllowEmpty, or the rows are
// the A-card's scoring window, which may hold no application), a card
// characteristic NULL in every row where that is improbable by chance
// (nullImprobable: a column lost from the feed), and duplicate entity ids (unless
// o.AllowDuplicateIDs, which scores every row and logs a warning).
func (p *plan) checkInput(ctx context.Context, db *sql.DB, o Options, log *slog.Logger, rows int64, st *inputStats) error {
	if rows == 0 {
		if p.window != nil {
			// The A-card's scoring window holds no application: a quiet
			// period, not a lost feed (the snapshot itself is not empty).
			log.Info("score: no applications in the A-card scoring window", "model", p.m.Name, "window", p.window.String())
			return nil
		}
		if o.AllowEmpty {
			log.Warn("score: the input has no rows; publishing an empty batch (--allow-empty)", "input", p.input)
			return nil
		}
		what := "has no rows"
		if strings.HasPrefix(p.src, "read_csv(") {
			what = "has a header line but no data rows"
		}
		return fmt.Errorf("%s %s: %w; nothing is published (--allow-empty publishes an empty batch)", p.input, what, errEmptyInput)
	}
	var empty, whys []string
	for j, n := range st.Nulls {
		if n != rows {
			continue
		}
		c := p.m.Chars[j]
		share, known := missingShare(c)
		if known && !nullImprobable(share, rows) {
			// A small batch of a characteristic often missing in training
			// (e.g. collateral on a mostly unsecured book) may be all NULL
			// by chance: scored in the missing bin, and said.
			log.Warn("score: a characteristic is NULL in every row, which its training missing share makes plausible in so few rows",
				"model", p.m.Name, "characteristic", c.Name, "rows", rows, "training_missing_share", share)
			continue
		}
		why := c.Name + " was never missing in training"
		if known && share > 0 {
			why = fmt.Sprintf("%s was missing in %.1f%% of training rows: all %d NULL by chance has probability %.1g", c.Name, 100*share, rows, math.Pow(share, float64(rows)))
		}
		empty, whys = append(empty, c.Name), append(whys, why)
	}
	if len(empty) > 0 {
		return fmt.Errorf("%s: characteristic(s) %s NULL in all %d rows (a column lost from the feed? %s): %w", p.input, strings.Join(empty, ", "), rows, strings.Join(whys, "; "), errNullColumn)
	}
	if p.layout.ID < 0 || st.Sorted {
		return nil
	}
	var id string
	var n, ids int64
	q := `SELECT __id, n, count(*) OVER () FROM (
  SELECT __id, count(*) AS n, min(__rn) AS first FROM (SELECT ` + p.idExpr + ` AS __id, row_number() OVER () AS __rn FROM ` + p.src + ` f)
  WHERE __id IS NOT NULL GROUP BY __id HAVING count(*) > 1)
ORDER BY first LIMIT 1`
	switch err := db.QueryRowContext(ctx, q).Scan(&id, &n, &ids); {
	case err == sql.ErrNoRows:
		return nil
	case err != nil:
		return fmt.Errorf("%s: check entity ids: %w", p.input, err)
	}
	if o.AllowDuplicateIDs {
		log.Warn("score: duplicate entity ids scored once per row (--allow-duplicate-ids)", "input", p.input,
			"first_duplicate", id, "its_rows", n, "duplicated_ids", ids)
		return nil
	}
	return fmt.Errorf("%s: %w %q appears %d times (%d ids appear more than once); nothing is published (--allow-duplicate-ids scores every row)", p.input, errDuplicate, id, n, ids)
}
