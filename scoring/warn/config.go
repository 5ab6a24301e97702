package warn

import (
	"fmt"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Rule is one early-warning rule: whether it is on, the priority it
// gives a loan (1 = highest), and the action and work queue it
// recommends.
type Rule struct {
	Name     string `yaml:"-" json:"name"`
	Enabled  bool   `yaml:"enabled" json:"enabled"`
	Priority int    `yaml:"priority" json:"priority"`
	Action   string `yaml:"action" json:"action"`
	Queue    string `yaml:"queue" json:"queue"`
}

// Thresholds parameterise the rules (see signals.sql for each rule's
// exact definition). The defaults are calibrated on the 50,000-loan demo
// book's twelve month ends with six months of outcomes (qiandun warn
// --backtest prints each rule's coverage and lift): multi_lending fires
// above what 99% of performing (current) loans show - their 95th/99th
// percentiles are 1/2 inquiries in 30 days and 2/3 in 90 days; at the
// 95th percentile the loans it alone adds go bad no more often than the
// book. paid_to_due_falling and ltv_breach have no lift on the demo book
// (0.8x and 0.9x: a current loan paying less than due in a 3-month window
// is mostly a timing effect there, and collateral cover does not predict
// default), so they are off by default, with thresholds kept for books
// where they do discriminate.
type Thresholds struct {
	PTDDrop         float64 `yaml:"ptd_drop" json:"ptd_drop"`                   // paid_to_due_falling: 3-month ratio at least this below the 6-month one ...
	PTDBase         float64 `yaml:"ptd_base" json:"ptd_base"`                   // ... from a 6-month ratio of at least this
	MinInquiries    int     `yaml:"min_inquiries" json:"min_inquiries"`         // multi_lending: inquiries since issue (0 = this test off)
	MinInquiries30d int     `yaml:"min_inquiries_30d" json:"min_inquiries_30d"` // multi_lending: inquiries in the last 30 days
	MinInquiries90d int     `yaml:"min_inquiries_90d" json:"min_inquiries_90d"` // multi_lending: inquiries in the last 90 days
	MaxLTV          float64 `yaml:"max_ltv" json:"max_ltv"`                     // ltv_breach: outstanding / collateral value above this
	MinPD           float64 `yaml:"min_pd" json:"min_pd"`                       // high_risk_score: B-score PD at or above this
}

// vars returns the DuckDB variables signals.sql reads.
func (t Thresholds) vars() map[string]float64 {
	return map[string]float64{"ptd_drop": t.PTDDrop, "ptd_base": t.PTDBase, "min_inquiries": float64(t.MinInquiries),
		"min_inquiries_30d": float64(t.MinInquiries30d), "min_inquiries_90d": float64(t.MinInquiries90d),
		"max_ltv": t.MaxLTV, "min_pd": t.MinPD}
}

// Config is the warn configuration (--config, YAML or JSON). Rules are
// evaluated in the order of RuleNames; a loan's priority, action and
// queue are those of its highest-priority rule (the earlier rule on a
// tie). Defaults:
//
//	thresholds: {ptd_drop: 0.3, ptd_base: 0.7, min_inquiries: 0, min_inquiries_30d: 3, min_inquiries_90d: 4, max_ltv: 1.0, min_pd: 0.3}
//	rules:
//	  lost_contact:         {enabled: true, priority: 1, action: lost_contact_repair, queue: skip_trace}
//	  m4_plus:              {enabled: true, priority: 1, action: legal,               queue: legal}
//	  m2_m3:                {enabled: true, priority: 2, action: field_visit,         queue: field_collection}
//	  ltv_breach:           {enabled: false, priority: 2, action: field_visit,        queue: asset_review}
//	  first_payment_missed: {enabled: true, priority: 2, action: call,                queue: fraud_review}
//	  entering_m1:          {enabled: true, priority: 3, action: call,                queue: early_collection}
//	  high_risk_score:      {enabled: true, priority: 3, action: call,                queue: pre_collection}
//	  paid_to_due_falling:  {enabled: false, priority: 4, action: sms_reminder,       queue: pre_collection}
//	  multi_lending:        {enabled: true, priority: 4, action: sms_reminder,        queue: pre_collection}
type Config struct {
	Thresholds Thresholds       `yaml:"thresholds" json:"thresholds"`
	Rules      map[string]*Rule `yaml:"rules" json:"-"`
}

// RuleNames lists the rules in evaluation order.
var RuleNames = []string{"lost_contact", "m4_plus", "m2_m3", "ltv_breach", "first_payment_missed", "entering_m1",
	"high_risk_score", "paid_to_due_falling", "multi_lending"}

// Actions are the recommended actions a rule may name.
var Actions = []string{"sms_reminder", "call", "field_visit", "lost_contact_repair", "legal"}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	r := func(p int, action, queue string) *Rule {
		return &Rule{Enabled: true, Priority: p, Action: action, Queue: queue}
	}
	off := func(r *Rule) *Rule { r.Enabled = false; return r }
	return Config{
		Thresholds: Thresholds{PTDDrop: 0.3, PTDBase: 0.7, MinInquiries30d: 3, MinInquiries90d: 4, MaxLTV: 1.0, MinPD: 0.3},
		Rules: map[string]*Rule{
			"lost_contact":         r(1, "lost_contact_repair", "skip_trace"),
			"m4_plus":              r(1, "legal", "legal"),
			"m2_m3":                r(2, "field_visit", "field_collection"),
			"ltv_breach":           off(r(2, "field_visit", "asset_review")),
			"first_payment_missed": r(2, "call", "fraud_review"),
			"entering_m1":          r(3, "call", "early_collection"),
			"high_risk_score":      r(3, "call", "pre_collection"),
			"paid_to_due_falling":  off(r(4, "sms_reminder", "pre_collection")),
			"multi_lending":        r(4, "sms_reminder", "pre_collection"),
		},
	}
}

// LoadConfig reads path over the defaults (fields not given keep their
// default) and validates it.
func LoadConfig(path string) (Config, error) {
	if path == "" {
		c := DefaultConfig()
		return c, c.Validate()
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return DefaultConfig(), fmt.Errorf("warn config: %w", err)
	}
	return ParseConfig(raw, path)
}

// ParseConfig parses a config document (named path in errors) over the
// defaults and validates it; see LoadConfig.
func ParseConfig(raw []byte, path string) (Config, error) {
	c := DefaultConfig()
	if raw != nil {
		var f struct {
			Thresholds map[string]any            `yaml:"thresholds"`
			Rules      map[string]map[string]any `yaml:"rules"`
		}
		if err := yaml.Unmarshal(raw, &f); err != nil {
			return c, fmt.Errorf("warn config %s: %w", path, err)
		}
		// Decode over the defaults so that absent fields keep them.
		var th struct {
			Thresholds *Thresholds `yaml:"thresholds"`
		}
		th.Thresholds = &c.Thresholds
		if err := yaml.Unmarshal(raw, &th); err != nil {
			return c, fmt.Errorf("warn config %s: %w", path, err)
		}
		for name, fields := range f.Rules {
			if !slices.Contains(RuleNames, name) {
				return c, fmt.Errorf("warn config %s: unknown rule %q (rules: %v)", path, name, RuleNames)
			}
			b, err := yaml.Marshal(fields)
			if err != nil {
				return c, err
			}
			if err := yaml.Unmarshal(b, c.Rules[name]); err != nil {
				return c, fmt.Errorf("warn config %s: rule %s: %w", path, name, err)
			}
		}
	}
	return c, c.Validate()
}

// Validate checks the rules.
func (c Config) Validate() error {
	for _, n := range RuleNames {
		r := c.Rules[n]
		if r == nil {
			return fmt.Errorf("warn config: rule %s missing", n)
		}
		r.Name = n
		if !r.Enabled {
			continue
		}
		if r.Priority < 1 {
			return fmt.Errorf("warn config: rule %s: priority %d, want 1 or more", n, r.Priority)
		}
		if !slices.Contains(Actions, r.Action) {
			return fmt.Errorf("warn config: rule %s: action %q, want one of %v", n, r.Action, Actions)
		}
		if r.Queue == "" {
			return fmt.Errorf("warn config: rule %s: no queue", n)
		}
	}
	return nil
}

// Enabled returns the enabled rules in evaluation order.
func (c Config) Enabled() []*Rule { return c.enabled() }

// enabled returns the enabled rules in evaluation order.
func (c Config) enabled() []*Rule {
	var out []*Rule
	for _, n := range RuleNames {
		if r := c.Rules[n]; r != nil && r.Enabled {
			r.Name = n
			out = append(out, r)
		}
	}
	return out
}
