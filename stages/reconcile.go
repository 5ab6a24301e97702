package stages

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"qiandun/data/ingest/normalize"
	"qiandun/pipelines"
	"qiandun/reporting/reconcile"
)

// Reconcile matches the platform's disbursements, repayments and
// investments against the custodian's statement, checks every
// sub-account's balance chain and the custody migration, and publishes the
// breaks at <reconcile>/<to>/ (reporting/reconcile).
type Reconcile struct {
	From   string `yaml:"from" json:"from,omitempty"` // YYYY-MM-DD
	To     string `yaml:"to" json:"to"`               // YYYY-MM-DD
	Window int    `yaml:"window" json:"window"`       // posting window, days
	// Tolerance and MaxOpenAmount are yuan amounts ("1.00"; MaxOpenAmount
	// "-1" for no limit).
	Tolerance     string `yaml:"tolerance" json:"tolerance"`
	MaxOpenAmount string `yaml:"max_open_amount" json:"max_open_amount"`
	MemoryLimit   string `yaml:"memory_limit" json:"memory_limit"`
}

// NewReconcile returns reconcile's defaults.
func NewReconcile() *Reconcile {
	return &Reconcile{Window: reconcile.DefaultWindow, Tolerance: "1.00", MaxOpenAmount: "0.00", MemoryLimit: "auto"}
}

// IO: the loan, repayment and custody tables in; the breaks out.
func (s *Reconcile) IO(l pipelines.Layout) pipelines.IO {
	io := pipelines.IO{Reads: l.Tables("loans", "repayments", "investments", "custody_transactions"), Writes: []string{l.Reconcile}}
	if s.To != "" {
		io.Manifests = []string{filepath.Join(l.Reconcile, s.To, "manifest.json")}
	}
	return io
}

// Check validates the directories, dates and amounts.
func (s *Reconcile) Check(l pipelines.Layout) error {
	if l.Lake == "" || l.Reconcile == "" {
		return errors.New("--lake and --out are required")
	}
	_, err := s.options(l)
	return err
}

func (s *Reconcile) options(l pipelines.Layout) (reconcile.Options, error) {
	o := reconcile.Options{Lake: l.Lake, Out: l.Reconcile, Window: s.Window, MemoryLimit: s.MemoryLimit}
	var err error
	for _, d := range []struct {
		flag, v string
		t       *time.Time
	}{{"from", s.From, &o.From}, {"to", s.To, &o.To}} {
		if d.v == "" {
			continue
		}
		if *d.t, err = time.Parse("2006-01-02", d.v); err != nil {
			return o, fmt.Errorf("--%s %q: want YYYY-MM-DD", d.flag, d.v)
		}
	}
	if o.Tolerance, _, err = normalize.ParseAmount(s.Tolerance); err != nil {
		return o, fmt.Errorf("--tolerance %q: %w", s.Tolerance, err)
	}
	if s.MaxOpenAmount == "-1" {
		o.MaxOpenAmount = -1
	} else if o.MaxOpenAmount, _, err = normalize.ParseAmount(s.MaxOpenAmount); err != nil || o.MaxOpenAmount < 0 {
		return o, fmt.Errorf("--max-open-amount %q: want an amount in yuan, or -1", s.MaxOpenAmount)
	}
	return o, nil
}

// Run reconciles and prints a summary line; it fails (after publishing)
// when the open breaks exceed MaxOpenAmount.
func (s *Reconcile) Run(ctx context.Context, env *pipelines.Env) error {
	o, err := s.options(env.Layout)
	if err != nil {
		return err
	}
	o.Log = env.Log
	m, dir, err := reconcile.Run(ctx, o)
	if m != nil {
		fmt.Fprintf(env.Stdout, "reconcile %s..%s: %d matched; breaks %v (open %v), open amount %s; %s\n",
			m.From, m.To, m.Matched, m.Breaks, m.Open, m.OpenAmount, dir)
	}
	return err
}
