//go:build duckdb_arrow

package train

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"

	"qiandun/training/binning"
)

// FileConfig is the --config file (YAML or JSON). Every field is optional.
//
//	binning:   {method: optimal|chimerge|tree|equal_freq, monotonic: auto|ascending|descending|peak|valley|none,
//	            max_bins: 6, min_share: 0.05, share_precision: false, fine_bins: 20, specials: [-999],
//	            merge_missing: false, merge_special: false, bin_count: cv|fixed, cv_folds: 5, cv_rows: 50000}
//	selection: {max_missing: 0.95, max_single_share: 0.95, min_iv: 0.001, max_psi: 0.25, max_corr: 0.7, max_vif: 10,
//	            stepwise: cv|both|forward|backward|none, criterion: aic|bic|pvalue, p_enter: 0.05, p_remove: 0.1,
//	            max_vars: 20, sign_check: true, folds: 5, cv_rows: 50000, cv_tries: 3, cv_repeats: 0 (3 below 20,000 rows, else 1)}
//	scaling:   {base_score: 600, base_odds: 50, pdo: 20, round: false}
//	method:    logistic|boosted
//	boosted:   {shrinkage: 0.1, l2: 1, max_rounds: 3000, patience: 10, validation_share: 0.2, fine_bins: 255, min_share: 0.005,
//	            leaves: 4, gate: 0.3, max_pairs: 3, pair_bins: 6, pair_min_gain: 0.002, pair_min_z: 2,
//	            bags: 0 (auto: 5 up to 200,000 train rows, else 1)}
//	            (each numeric table monotone in the direction of its binning under binning.monotonic; none: free)
//	kinds:     {column: numeric|categorical}
//	test_share: 0.3
//	oot_months: 3
//	max_rows: 0 (lake mode: at most about this many rows of the modelling table, a seeded uniform sample; 0: every row)
//	l2: 0
//	l2_cv: false (true: the final fit's l2 chosen by cross-validation among 0, 1, 3, 10, 30, 100)
//	exclude: [a, b]
type FileConfig struct {
	Binning struct {
		Method    string  `yaml:"method"`
		Monotonic string  `yaml:"monotonic"`
		MaxBins   int     `yaml:"max_bins"`
		MinShare  float64 `yaml:"min_share"`
		// SharePrecision: min_share as a WoE precision (binning.Options.SharePrecision)
		SharePrecision bool      `yaml:"share_precision"`
		FineBins       int       `yaml:"fine_bins"`
		Specials       []float64 `yaml:"specials"`
		MergeMissing   bool      `yaml:"merge_missing"`
		MergeSpecial   bool      `yaml:"merge_special"`
		// BinCount: cv (default) chooses max_bins/min_share per
		// characteristic by cross-validation around the given ones; fixed
		// uses them as given.
		BinCount string `yaml:"bin_count"`
		CVFolds  int    `yaml:"cv_folds"`
		CVRows   int    `yaml:"cv_rows"`
	} `yaml:"binning"`
	Selection struct {
		MaxMissing     float64 `yaml:"max_missing"`
		MaxSingleShare float64 `yaml:"max_single_share"`
		MinIV          float64 `yaml:"min_iv"`
		MaxPSI         float64 `yaml:"max_psi"`
		MaxCorr        float64 `yaml:"max_corr"`
		MaxVIF         float64 `yaml:"max_vif"`
		Stepwise       string  `yaml:"stepwise"`
		Criterion      string  `yaml:"criterion"`
		PEnter         float64 `yaml:"p_enter"`
		PRemove        float64 `yaml:"p_remove"`
		MaxVars        int     `yaml:"max_vars"`
		SignCheck      *bool   `yaml:"sign_check"`
		Folds          int     `yaml:"folds"`
		CVRepeats      int     `yaml:"cv_repeats"`
		CVRows         int     `yaml:"cv_rows"`
		CVTries        int     `yaml:"cv_tries"`
	} `yaml:"selection"`
	Scaling struct {
		BaseScore float64 `yaml:"base_score"`
		BaseOdds  float64 `yaml:"base_odds"`
		PDO       float64 `yaml:"pdo"`
		Round     bool    `yaml:"round"`
	} `yaml:"scaling"`
	Method  string `yaml:"method"` // logistic (default) | boosted
	Boosted struct {
		Shrinkage float64 `yaml:"shrinkage"`
		L2        float64 `yaml:"l2"`
		Bags      int     `yaml:"bags"`
		MaxRounds int     `yaml:"max_rounds"`
		Patience  int     `yaml:"patience"`
		ValShare  float64 `yaml:"validation_share"`
		FineBins  int     `yaml:"fine_bins"`
		MinShare  float64 `yaml:"min_share"`
		// leaves: of each characteristic's tree in a round; gate: the
		// share of the round's best gain a tree needs to be applied.
		Leaves int     `yaml:"leaves"`
		Gate   float64 `yaml:"gate"`
		// Pairs: max_pairs 0 builds none (unset: the default);
		// pair_bins coarse bins per input; pair_min_gain in nats of
		// validation log-likelihood per validation row.
		MaxPairs    *int    `yaml:"max_pairs"`
		PairBins    int     `yaml:"pair_bins"`
		PairMinGain float64 `yaml:"pair_min_gain"`
		PairMinZ    float64 `yaml:"pair_min_z"`
	} `yaml:"boosted"`
	Kinds     map[string]string `yaml:"kinds"`
	TestShare float64           `yaml:"test_share"`
	OOTMonths int               `yaml:"oot_months"`
	MaxRows   int               `yaml:"max_rows"`
	L2        float64           `yaml:"l2"`
	L2CV      bool              `yaml:"l2_cv"`
	Exclude   []string          `yaml:"exclude"`
}

// LoadConfig reads a config file and applies it to c.
func (c *Config) LoadConfig(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return c.ParseConfig(raw, path)
}

// ParseConfig applies a config document (named path in errors) over c;
// see LoadConfig.
func (c *Config) ParseConfig(raw []byte, path string) error {
	var f FileConfig
	if err := yaml.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	b := f.Binning
	c.Binning = binning.Options{Method: binning.Method(b.Method), Monotonic: binning.Monotonic(b.Monotonic), MaxBins: b.MaxBins,
		MinShare: b.MinShare, SharePrecision: b.SharePrecision, FineBins: b.FineBins, Specials: b.Specials, MergeMissing: b.MergeMissing, MergeSpecial: b.MergeSpecial,
		BinCount: b.BinCount, CVFolds: b.CVFolds, CVRows: b.CVRows}
	switch c.Binning.BinCount {
	case "":
		c.Binning.BinCount = "cv"
	case "cv", "fixed":
	default:
		return fmt.Errorf("config %s: binning.bin_count %q: want cv or fixed", path, b.BinCount)
	}
	switch c.Binning.Method {
	case "", binning.Optimal, binning.ChiMerge, binning.Tree, binning.EqualFreq:
	default:
		return fmt.Errorf("config %s: binning.method %q: want optimal, chimerge, tree or equal_freq", path, b.Method)
	}
	switch c.Binning.Monotonic {
	case "", binning.Auto, binning.Ascending, binning.Descending, binning.Peak, binning.Valley, binning.None:
	default:
		return fmt.Errorf("config %s: binning.monotonic %q", path, b.Monotonic)
	}
	s := f.Selection
	c.Selection.MaxMissing, c.Selection.MaxSingleShare, c.Selection.MinIV = s.MaxMissing, s.MaxSingleShare, s.MinIV
	c.Selection.MaxPSI, c.Selection.MaxCorr, c.Selection.MaxVIF = s.MaxPSI, s.MaxCorr, s.MaxVIF
	c.Selection.Stepwise, c.Selection.Criterion, c.Selection.PEnter, c.Selection.PRemove = s.Stepwise, s.Criterion, s.PEnter, s.PRemove
	c.Selection.MaxVars = s.MaxVars
	c.Selection.Folds, c.Selection.CVRows, c.Selection.CVTries, c.Selection.CVRepeats = s.Folds, s.CVRows, s.CVTries, s.CVRepeats
	switch s.Stepwise {
	case "", "cv", "both", "forward", "backward", "none":
	default:
		return fmt.Errorf("config %s: selection.stepwise %q: want cv, both, forward, backward or none", path, s.Stepwise)
	}
	if s.SignCheck != nil {
		c.Selection.NoSignCheck = !*s.SignCheck
	}
	c.Scaling.BaseScore, c.Scaling.BaseOdds, c.Scaling.PDO, c.Scaling.Round = f.Scaling.BaseScore, f.Scaling.BaseOdds, f.Scaling.PDO, f.Scaling.Round
	for k, v := range f.Kinds {
		switch v {
		case "numeric":
			c.Kinds[k] = binning.Numeric
		case "categorical":
			c.Kinds[k] = binning.Categorical
		default:
			return fmt.Errorf("config %s: kinds.%s = %q: want numeric or categorical", path, k, v)
		}
	}
	if f.TestShare > 0 {
		c.TestShare = f.TestShare
	}
	if f.OOTMonths > 0 {
		c.OOTMonths = f.OOTMonths
	}
	if f.MaxRows < 0 {
		return fmt.Errorf("config %s: max_rows = %d: want 0 (every row) or more", path, f.MaxRows)
	}
	c.MaxRows = f.MaxRows
	c.L2 = f.L2
	c.L2CV = f.L2CV
	if f.Method != "" {
		c.Method = f.Method
	}
	bb := f.Boosted
	if bb.PairMinGain >= 0.1 {
		// A validation log-likelihood gain of 0.1 nats a row is more
		// than any pair gives; configs from before it was per row said 2.
		return fmt.Errorf("config %s: boosted.pair_min_gain = %g: it is in nats of validation log-likelihood per validation row (default 0.002); a value of 0.1 or more keeps no pair", path, bb.PairMinGain)
	}
	if bb.Bags < 0 {
		return fmt.Errorf("config %s: boosted.bags = %d: want 0 (auto: %d up to %d train rows, else 1) or more", path, bb.Bags, BagsSmall, BagRows)
	}
	c.Boost = BoostOptions{Shrinkage: bb.Shrinkage, L2: bb.L2, Bags: bb.Bags, MaxRounds: bb.MaxRounds, Patience: bb.Patience, ValShare: bb.ValShare, FineBins: bb.FineBins, MinShare: bb.MinShare,
		Leaves: bb.Leaves, Gate: bb.Gate, PairBins: bb.PairBins, PairMinGain: bb.PairMinGain, PairMinZ: bb.PairMinZ}
	if bb.MaxPairs != nil {
		c.Boost.MaxPairs = *bb.MaxPairs
		if *bb.MaxPairs == 0 {
			c.Boost.MaxPairs = -1 // none, not the default
		}
	}
	c.Exclude = append(c.Exclude, f.Exclude...)
	return nil
}

// LoadBins reads a --bins file (YAML or JSON): per variable either fixed
// bins, breaks: [numbers] or groups: [[values], ...], or overrides of the
// search: monotonic (auto|ascending|descending|peak|valley|none),
// max_bins, min_share; and in both cases optionally specials: [codes],
// the variable's special values, each a bin of its own (a bureau's -1,
// 9999, ...).
func LoadBins(path string) (map[string]binning.Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bins: %w", err)
	}
	return ParseBins(raw, path)
}

// ParseBins parses a --bins document (named path in errors); see LoadBins.
func ParseBins(raw []byte, path string) (map[string]binning.Spec, error) {
	var m map[string]binning.Spec
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("bins %s: %w", path, err)
	}
	for v, s := range m {
		if len(s.Breaks) > 0 && len(s.Groups) > 0 {
			return nil, fmt.Errorf("bins %s: %s has both breaks and groups", path, v)
		}
		if len(s.Breaks) == 0 && len(s.Groups) == 0 && len(s.Specials) == 0 && s.Monotonic == "" && s.MaxBins == 0 && s.MinShare == 0 {
			return nil, fmt.Errorf("bins %s: %s has none of breaks, groups, specials, monotonic, max_bins, min_share", path, v)
		}
		switch s.Monotonic {
		case "", binning.Auto, binning.Ascending, binning.Descending, binning.Peak, binning.Valley, binning.None:
		default:
			return nil, fmt.Errorf("bins %s: %s: monotonic %q: want auto, ascending, descending, peak, valley or none", path, v, s.Monotonic)
		}
		if s.MaxBins < 0 || s.MinShare < 0 || s.MinShare >= 1 {
			return nil, fmt.Errorf("bins %s: %s: max_bins %d, min_share %g out of range", path, v, s.MaxBins, s.MinShare)
		}
	}
	return m, nil
}
