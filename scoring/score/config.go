package score

import (
	"fmt"
	"math"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"

	"qiandun/training/scorecard"
)

// Rules turn a score into a grade and a suggested decision. Every field
// is optional; the defaults are noted. As a YAML/JSON file (--rules):
//
//	grade_cutoffs: [620, 600, 580, 560]  # minimum (integer) score of A, B, C, D; lower is E
//	grade_pd: [0.02, 0.05, 0.10, 0.20]   # used when grade_cutoffs is empty: the highest PD of A, B, C, D
//	decline_grades: [E]
//	review_grades: [D]
//	hard_fraud_flags: [invalid_id, ring_member]  # decline whatever the grade
//	bcard_decisions: [maintain, monitor, act]    # B-card rows' words for approve, review, decline
//
// Decision: decline if the grade is a decline grade or a hard fraud flag
// is present; else review if the grade is a review grade or any fraud
// flag is present; else approve. A B-card row (a loan on book, no
// fraud flags) reads its decision in BCardDecisions: maintain (the
// approve grades), monitor (review grades), act (decline grades).
type Rules struct {
	GradeCutoffs   []float64 `yaml:"grade_cutoffs" json:"grade_cutoffs"`
	GradePD        []float64 `yaml:"grade_pd" json:"grade_pd"`
	DeclineGrades  []string  `yaml:"decline_grades" json:"decline_grades"`
	ReviewGrades   []string  `yaml:"review_grades" json:"review_grades"`
	HardFraudFlags []string  `yaml:"hard_fraud_flags" json:"hard_fraud_flags"`
	BCardDecisions []string  `yaml:"bcard_decisions" json:"bcard_decisions"`
}

// DecisionNames returns the words of the decision codes (approve,
// review, decline) for rows of feature set set: BCardDecisions for
// "bcard", else approve/review/decline.
func (r Rules) DecisionNames(set string) [3]string {
	if set == "bcard" {
		if len(r.BCardDecisions) == 3 {
			return [3]string(r.BCardDecisions)
		}
		return [3]string{Maintain, Monitor, Act}
	}
	return [3]string{Approve, Review, Decline}
}

// Grades are the grade names, best first.
var Grades = [5]string{"A", "B", "C", "D", "E"}

// DefaultRules returns the defaults documented on Rules.
func DefaultRules() Rules {
	return Rules{
		GradePD:        []float64{0.02, 0.05, 0.10, 0.20},
		DeclineGrades:  []string{"E"},
		ReviewGrades:   []string{"D"},
		HardFraudFlags: []string{"invalid_id", "ring_member"},
		BCardDecisions: []string{Maintain, Monitor, Act},
	}
}

// LoadRules reads a rules file over the defaults.
func LoadRules(path string) (Rules, error) {
	r := DefaultRules()
	if path == "" {
		return r, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("score rules: %w", err)
	}
	return ParseRules(raw, path)
}

// ParseRules parses a rules document (named path in errors) over the
// defaults; see LoadRules.
func ParseRules(raw []byte, path string) (Rules, error) {
	r := DefaultRules()
	var f Rules
	if err := yaml.Unmarshal(raw, &f); err != nil {
		return r, fmt.Errorf("score rules %s: %w", path, err)
	}
	if f.GradeCutoffs != nil {
		r.GradeCutoffs = f.GradeCutoffs
	}
	if f.GradePD != nil {
		r.GradePD = f.GradePD
	}
	if f.DeclineGrades != nil {
		r.DeclineGrades = f.DeclineGrades
	}
	if f.ReviewGrades != nil {
		r.ReviewGrades = f.ReviewGrades
	}
	if f.HardFraudFlags != nil {
		r.HardFraudFlags = f.HardFraudFlags
	}
	if f.BCardDecisions != nil {
		r.BCardDecisions = f.BCardDecisions
		if len(r.BCardDecisions) != 3 || slices.Contains(r.BCardDecisions, "") || r.BCardDecisions[0] == r.BCardDecisions[1] || r.BCardDecisions[1] == r.BCardDecisions[2] || r.BCardDecisions[0] == r.BCardDecisions[2] {
			return r, fmt.Errorf("score rules %s: bcard_decisions: want 3 distinct words (for approve, review, decline), got %q", path, r.BCardDecisions)
		}
	}
	if _, err := r.Cutoffs(scorecard.DefaultScaling()); err != nil {
		return r, fmt.Errorf("score rules %s: %w", path, err)
	}
	return r, nil
}

// Cutoffs returns the minimum integer score of grades A..D under the
// card's scaling: GradeCutoffs, or the scores at which the PD equals
// GradePD (rounded up, so that every score of the grade has at most that
// PD).
func (r Rules) Cutoffs(sc scorecard.Scaling) ([4]float64, error) {
	var out [4]float64
	switch {
	case len(r.GradeCutoffs) > 0:
		if len(r.GradeCutoffs) != 4 {
			return out, fmt.Errorf("grade_cutoffs: want 4 scores (A, B, C, D), got %d", len(r.GradeCutoffs))
		}
		copy(out[:], r.GradeCutoffs)
	default:
		if len(r.GradePD) != 4 {
			return out, fmt.Errorf("grade_pd: want 4 PDs (A, B, C, D), got %d", len(r.GradePD))
		}
		for k, p := range r.GradePD {
			if !(p > 0 && p < 1) {
				return out, fmt.Errorf("grade_pd: %v is not a probability", p)
			}
			// PD(s) = 1/(1+exp((s−Offset)/Factor)) <= p  ⇔  s >= Offset + Factor·ln((1−p)/p)
			out[k] = math.Ceil(sc.Offset + sc.Factor*math.Log((1-p)/p) - 1e-9)
		}
	}
	for k := 1; k < 4; k++ {
		if out[k] > out[k-1] {
			return out, fmt.Errorf("grade cut-offs %v are not decreasing from A to D", out)
		}
	}
	return out, nil
}

// decider applies Rules to rows.
type decider struct {
	cuts    [4]float64
	decline [5]bool
	review  [5]bool
	codes   [5]int32 // decision code of each grade without fraud flags
	hard    []string
}

func newDecider(r Rules, sc scorecard.Scaling) (*decider, error) {
	cuts, err := r.Cutoffs(sc)
	if err != nil {
		return nil, err
	}
	d := &decider{cuts: cuts, hard: r.HardFraudFlags}
	for g, name := range Grades {
		d.decline[g] = slices.Contains(r.DeclineGrades, name)
		d.review[g] = slices.Contains(r.ReviewGrades, name)
		d.codes[g] = decisionCode(d.decide(g, ""))
	}
	return d, nil
}

// grade returns the grade index (0 = A) of an integer score.
func (d *decider) grade(score int32) int {
	s := float64(score)
	for k, c := range d.cuts {
		if s >= c {
			return k
		}
	}
	return 4
}

// Decisions of an application (A-card) and, by default, of a loan on
// book (B-card).
const (
	Approve = "approve"
	Review  = "review"
	Decline = "decline"

	Maintain = "maintain"
	Monitor  = "monitor"
	Act      = "act"
)

// decide returns the decision for a grade and the row's ';'-joined flags.
func (d *decider) decide(grade int, flags string) string {
	if d.decline[grade] || d.hardFlag(flags) {
		return Decline
	}
	if d.review[grade] || flags != "" {
		return Review
	}
	return Approve
}

func (d *decider) hardFlag(flags string) bool {
	for flags != "" {
		var f string
		f, flags, _ = cut(flags, ';')
		if slices.Contains(d.hard, f) {
			return true
		}
	}
	return false
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
