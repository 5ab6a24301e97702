package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"qiandun/data/ingest/normalize"
	"qiandun/reporting/reconcile"
)

// custodyRun is what the portfolio report shows of one published custody
// reconciliation run (qiandun reconcile: <out>/<to>/). Money is in fen,
// summed exactly from the files' decimals, never through a float.
type custodyRun struct {
	From, To string // the period, from the first and last rows of summary.csv
	// From summary.csv's last day (the run's end): the open breaks, by
	// kind, and their amount; and the records matched over the period.
	Open          map[string]int64
	OpenCount     int64
	OpenAmount    int64
	MatchedCount  int64
	MatchedAmount int64
	// From breaks.csv: per kind, the open breaks' amount and count, and
	// the breaks closed in the period.
	BreakOpenAmount map[string]int64
	BreakOpen       map[string]int64
	BreakClosed     map[string]int64
	Migration       []migrationRow
}

// migrationRow is one row of migration.csv.
type migrationRow struct {
	OldBank, NewBank, Day   string
	SubAccounts, Broken     int64
	Held, MovedOut, MovedIn int64 // fen
}

// ok is the migration's check: no sub-account broken, and as much moved
// in at the new bank as moved out of the old and as was held there.
func (m migrationRow) ok() bool {
	return m.Broken == 0 && m.NewBank != "" && m.Held == m.MovedOut && m.MovedOut == m.MovedIn
}

// csvRows reads a CSV file with a header and calls row for each record
// with a lookup of its columns by name. Errors name the file and line.
func csvRows(path string, need []string, row func(col func(string) string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	idx := map[string]int{}
	for i, h := range head {
		idx[h] = i
	}
	for _, n := range need {
		if _, ok := idx[n]; !ok {
			return fmt.Errorf("%s: no column %q", path, n)
		}
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if err := row(func(c string) string { return rec[idx[c]] }); err != nil {
			return fmt.Errorf("%s line %d: %w", path, line, err)
		}
	}
}

// fen parses a decimal amount ("" is 0).
func fen(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	v, _, err := normalize.ParseAmount(s)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	return v, nil
}

func count(s string) (int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("count %q: %w", s, err)
	}
	return v, nil
}

// readCustodyRun reads a run's summary.csv, breaks.csv and migration.csv.
func readCustodyRun(dir string) (*custodyRun, error) {
	c := &custodyRun{Open: map[string]int64{}, BreakOpenAmount: map[string]int64{}, BreakOpen: map[string]int64{},
		BreakClosed: map[string]int64{}}
	need := []string{"date", "matched_count", "matched_amount", "open_count", "open_amount"}
	for _, k := range reconcile.Kinds {
		need = append(need, "open_"+k)
	}
	err := csvRows(filepath.Join(dir, "summary.csv"), need, func(col func(string) string) error {
		if c.From == "" {
			c.From = col("date")
		}
		c.To = col("date")
		n, err := count(col("matched_count"))
		if err != nil {
			return err
		}
		amt, err := fen(col("matched_amount"))
		if err != nil {
			return err
		}
		c.MatchedCount += n
		c.MatchedAmount += amt
		// The last row is the run's end: the breaks open then.
		if c.OpenCount, err = count(col("open_count")); err != nil {
			return err
		}
		if c.OpenAmount, err = fen(col("open_amount")); err != nil {
			return err
		}
		for _, k := range reconcile.Kinds {
			if c.Open[k], err = count(col("open_" + k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = csvRows(filepath.Join(dir, "breaks.csv"), []string{"kind", "status", "amount"}, func(col func(string) string) error {
		k := col("kind")
		switch col("status") {
		case "open":
			amt, err := fen(col("amount"))
			if err != nil {
				return err
			}
			c.BreakOpen[k]++
			c.BreakOpenAmount[k] += amt
		case "closed":
			c.BreakClosed[k]++
		default:
			return fmt.Errorf("status %q", col("status"))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = csvRows(filepath.Join(dir, "migration.csv"), []string{"old_bank", "new_bank", "mig_date", "sub_accounts", "broken",
		"held", "moved_out", "moved_in"}, func(col func(string) string) error {
		m := migrationRow{OldBank: col("old_bank"), NewBank: col("new_bank"), Day: col("mig_date")}
		var err error
		for _, v := range []struct {
			dst *int64
			s   string
			f   func(string) (int64, error)
		}{{&m.SubAccounts, col("sub_accounts"), count}, {&m.Broken, col("broken"), count}, {&m.Held, col("held"), fen},
			{&m.MovedOut, col("moved_out"), fen}, {&m.MovedIn, col("moved_in"), fen}} {
			if *v.dst, err = v.f(v.s); err != nil {
				return err
			}
		}
		c.Migration = append(c.Migration, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// yuan formats fen as an exact decimal with thousands separators.
func yuan(f int64) string {
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	s := strconv.FormatInt(f/100, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s%s.%02d", sign, b.String(), f%100)
}

// custodySection summarises a reconciliation run: the breaks open at its
// end by kind (counts from summary.csv, amounts from breaks.csv), the
// custody migration's check, and links to the run's files (link: the run
// directory relative to the report).
func custodySection(p *Page, dir, link string) {
	s := p.Add("custody", "资金存管对账 Custody reconciliation")
	c, err := readCustodyRun(dir)
	if err != nil {
		p.Note("custody reconciliation: %v", err)
		s.P("The reconciliation run could not be read: " + err.Error())
		return
	}
	s.P(fmt.Sprintf("对账期 Period %s – %s: %d 笔平台记录已匹配 platform records matched (%s 元 yuan); %d 笔差错未决 breaks open at the end, %s 元 yuan.",
		c.From, c.To, c.MatchedCount, yuan(c.MatchedAmount), c.OpenCount, yuan(c.OpenAmount)))
	t := Table{Caption: "未决差错 Open breaks by kind (" + c.To + ")",
		Head: []string{"类型 kind", "未决 open", "金额 amount (元 yuan)", "本期已关闭 closed in the period"}}
	var sumAmt, sumClosed int64
	for _, k := range reconcile.Kinds {
		if c.BreakOpen[k] != c.Open[k] {
			p.Note("custody reconciliation: %s: breaks.csv has %d open %s breaks, summary.csv %d", dir, c.BreakOpen[k], k, c.Open[k])
		}
		sumAmt += c.BreakOpenAmount[k]
		sumClosed += c.BreakClosed[k]
		t.Rows = append(t.Rows, []Cell{T(k), I(c.Open[k]), {Text: yuan(c.BreakOpenAmount[k]), Num: true}, I(c.BreakClosed[k])})
	}
	if sumAmt != c.OpenAmount {
		p.Note("custody reconciliation: %s: open breaks in breaks.csv amount to %s, summary.csv says %s", dir, yuan(sumAmt), yuan(c.OpenAmount))
	}
	t.Rows = append(t.Rows, []Cell{T("合计 total"), I(c.OpenCount), {Text: yuan(c.OpenAmount), Num: true}, I(sumClosed)})
	s.Table(t)
	mt := Table{Caption: "存管迁移 Custody migration",
		Head: []string{"原存管行 from", "新存管行 to", "日期 day", "子账户 sub-accounts", "不符 broken", "原行余额 held", "转出 moved out", "转入 moved in", "核对 check"}}
	for _, m := range c.Migration {
		check := "通过 ok"
		if !m.ok() {
			check = fmt.Sprintf("不符 mismatch: %d sub-accounts, moved in − held = %s", m.Broken, yuan(m.MovedIn-m.Held))
		}
		mt.Rows = append(mt.Rows, []Cell{T(m.OldBank), T(m.NewBank), T(m.Day), I(m.SubAccounts), I(m.Broken),
			{Text: yuan(m.Held), Num: true}, {Text: yuan(m.MovedOut), Num: true}, {Text: yuan(m.MovedIn), Num: true}, T(check)})
	}
	if len(mt.Rows) == 0 {
		s.P("No custody migration in the period.")
	} else {
		s.Table(mt)
	}
	if link != "" {
		link = strings.TrimSuffix(link, "/")
		var b strings.Builder
		b.WriteString("<p>对账文件 Files: ")
		for i, f := range []string{"breaks.csv", "summary.csv", "migration.csv"} {
			if i > 0 {
				b.WriteString(" · ")
			}
			b.WriteString(string(htmlf(`<a href="%s">%s</a>`, link+"/"+f, f)))
		}
		b.WriteString("</p>")
		s.Raw(template.HTML(b.String()))
	}
}
