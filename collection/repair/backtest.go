package repair

import (
	"context"
	"fmt"
	"os"

	"qiandun/data/lake"
)

// TopK is how many lost loans get a reaching channel among their first K
// candidates, by the ranking and by the same candidates in a random order
// (expected).
type TopK struct {
	K      int     `json:"k"`
	Hits   int64   `json:"hits"`
	Share  float64 `json:"share_of_reachable"` // Hits / Reachable
	Random float64 `json:"random_share"`       // expected share of a random order of the same candidates
}

// Backtest is the ranking measured against the channels that would have
// reached each borrower.
type Backtest struct {
	AsOf       string `json:"as_of"`
	Truth      string `json:"truth"`
	LostLoans  int64  `json:"lost_loans"`
	Reachable  int64  `json:"reachable"`        // lost loans with a reaching channel before as-of
	Found      int64  `json:"found"`            // ... with a reaching phone among the candidates
	Candidates int64  `json:"candidates"`       // candidates of the reachable loans
	Top        []TopK `json:"top"`              // k = 1, 3
	TruthLost  int64  `json:"truth_lost"`       // loans the truth lists as lost before as-of
	Missing    int64  `json:"truth_not_listed"` // ... that are not in the list (lost.sql disagrees)
}

// BacktestK are the list depths a back-test reports.
var BacktestK = []int{1, 3}

// RunBacktest ranks the lost loans at o.AsOf and scores the ranking
// against truth, a CSV with columns loan_id, application_id and reaches
// (1 when the phone on that application would reach the loan's borrower;
// the generator's _truth/repair.csv). Only truth applications made before
// as-of count.
func RunBacktest(ctx context.Context, o Options, truth string) (*Backtest, error) {
	if _, err := os.Stat(truth); err != nil {
		return nil, fmt.Errorf("repair: back-test truth: %w", err)
	}
	s, err := open(ctx, o)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if _, err := s.conn.ExecContext(ctx, "CREATE TABLE truth AS SELECT loan_id, application_id, reaches, lost_at FROM read_csv("+
		lake.Quote(truth)+", header = true, all_varchar = true)"); err != nil {
		return nil, fmt.Errorf("repair: back-test truth %s: %w", truth, err)
	}
	bt := &Backtest{AsOf: o.AsOf, Truth: truth}
	if err := s.conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM lost),
  count(DISTINCT loan_id), count(DISTINCT loan_id) FILTER (WHERE loan_id NOT IN (SELECT loan_id FROM lost))
FROM truth WHERE CAST(lost_at AS TIMESTAMP) < CAST(getvariable('as_of') AS TIMESTAMP)`).Scan(&bt.LostLoans, &bt.TruthLost, &bt.Missing); err != nil {
		return nil, fmt.Errorf("repair: back-test: %w", err)
	}
	rows, err := s.conn.QueryContext(ctx, `WITH reach AS (
    SELECT DISTINCT t.loan_id, a.phone_token
    FROM truth t JOIN applications a ON a.application_id = t.application_id
    WHERE t.reaches = '1' AND a.apply_time < CAST(getvariable('as_of') AS TIMESTAMP)
)
SELECT x.loan_id, count(c.rank) AS n,
       count(c.rank) FILTER (WHERE r.phone_token IS NOT NULL) AS hits,
       coalesce(min(c.rank) FILTER (WHERE r.phone_token IS NOT NULL), 0) AS best
FROM lost x
LEFT JOIN candidates c ON c.loan_id = x.loan_id
LEFT JOIN reach r ON r.loan_id = c.loan_id AND r.phone_token = c.phone_token
WHERE x.loan_id IN (SELECT loan_id FROM reach)
GROUP BY x.loan_id ORDER BY x.loan_id`)
	if err != nil {
		return nil, fmt.Errorf("repair: back-test: %w", err)
	}
	defer rows.Close()
	bt.Top = make([]TopK, len(BacktestK))
	random := make([]float64, len(BacktestK))
	for i, k := range BacktestK {
		bt.Top[i].K = k
	}
	for rows.Next() {
		var loan string
		var n, hits, best int
		if err := rows.Scan(&loan, &n, &hits, &best); err != nil {
			return nil, fmt.Errorf("repair: back-test: %w", err)
		}
		bt.Reachable++
		bt.Candidates += int64(n)
		if hits > 0 {
			bt.Found++
		}
		for i, k := range BacktestK {
			if hits > 0 && best <= k {
				bt.Top[i].Hits++
			}
			random[i] += RandomHit(n, hits, k)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repair: back-test: %w", err)
	}
	for i := range bt.Top {
		bt.Top[i].Share = ratio(float64(bt.Top[i].Hits), float64(bt.Reachable))
		bt.Top[i].Random = ratio(random[i], float64(bt.Reachable))
	}
	return bt, nil
}

// RandomHit is the probability that a random order of n candidates, hits
// of which reach, puts at least one reaching candidate among the first k:
// 1 - C(n-hits, k) / C(n, k).
func RandomHit(n, hits, k int) float64 {
	if hits <= 0 || n <= 0 {
		return 0
	}
	if k >= n || n-hits < k {
		return 1
	}
	miss := 1.0 // C(n-hits, k) / C(n, k) = prod_{i<k} (n-hits-i)/(n-i)
	for i := 0; i < k; i++ {
		miss *= float64(n-hits-i) / float64(n-i)
	}
	return 1 - miss
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
