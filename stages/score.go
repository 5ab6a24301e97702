package stages

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"qiandun/features"
	"qiandun/pipelines"
	"qiandun/scoring/lakescore"
	"qiandun/scoring/score"
	"qiandun/training/scorecard"
)

// Score writes batch score files: in a run (stage score) the latest
// version of every model under <models> on its feature snapshot at as_of,
// published atomically at <scores>/<as_of>/. With LakeTable (stage
// score_acard) it scores every application with one model and writes
// (key, score) to that lake table, which the B-card features read.
type Score struct {
	AsOf string `yaml:"as_of" json:"as_of,omitempty"`
	// Full re-scores every application of the A-card snapshot, not only
	// the scoring window (applications since the previous published run).
	Full        bool   `yaml:"full" json:"full,omitempty"`
	Name        string `yaml:"name" json:"name,omitempty"` // only the latest version of this model
	MemoryLimit string `yaml:"memory_limit" json:"memory_limit,omitempty"`
	// Rules are the grade cut-offs and decision rules (score.Rules).
	Rules pipelines.Section[score.Rules] `yaml:"rules" json:"rules"`
	// LakeTable: also write the scores to this lake table (one model).
	LakeTable string `yaml:"-" json:"lake_table,omitempty"`
	// Set is the feature set (default: the model's).
	Set string `yaml:"-" json:"set,omitempty"`

	// CLI-only settings (see qiandun score --help).
	Model                         string `yaml:"-" json:"-"` // one model directory instead of <models>
	Data, ID, Target, BadValue    string `yaml:"-" json:"-"`
	BatchRows, Workers            int    `yaml:"-" json:"-"`
	AllowEmpty, AllowDuplicateIDs bool   `yaml:"-" json:"-"`
}

// NewScore returns stage score's defaults.
func NewScore() *Score { return &Score{MemoryLimit: "auto", BatchRows: 1 << 16} }

// NewScoreToLake returns a stage that scores every application of model
// name (feature set set) into a lake table.
func NewScoreToLake(name, table string) *Score {
	s := NewScore()
	s.Name, s.Set, s.LakeTable, s.Full = name, name, table, true
	return s
}

// runDir is where a lake-table run publishes its score files: inside the
// lake, never data ("_").
func (s *Score) runDir(l pipelines.Layout) string {
	if s.LakeTable != "" {
		return filepath.Join(l.Lake, "_"+s.LakeTable+"_runs")
	}
	return l.Scores
}

// IO: the model(s) and feature snapshots in; the score run (or the lake
// table) out.
func (s *Score) IO(l pipelines.Layout) pipelines.IO {
	var io pipelines.IO
	switch {
	case s.Model != "":
		io.Reads = []string{s.Model}
	case s.Name != "":
		io.Reads = []string{filepath.Join(l.Models, s.Name)}
	default:
		io.Reads = []string{l.Models}
	}
	switch {
	case l.Lake == "":
		io.Reads = append(io.Reads, s.Data)
	case s.Set != "":
		io.Reads = append(io.Reads, l.Table("features/"+s.Set))
	default:
		io.Reads = append(io.Reads, l.Tables("features/acard", "features/fraud_flags", "features/bcard")...)
	}
	if s.LakeTable != "" {
		io.Writes = []string{l.Table(s.LakeTable)}
	} else {
		io.Writes = []string{l.Scores}
	}
	if s.AsOf != "" {
		io.Manifests = []string{filepath.Join(s.runDir(l), s.AsOf, "manifest.json")}
	}
	return io
}

// Check validates the arguments (and an explicitly named model) before
// anything is written.
func (s *Score) Check(l pipelines.Layout) error {
	switch {
	case s.Model != "" && l.Models != "":
		return errors.New("give --model or --models, not both")
	case s.Model == "" && l.Models == "":
		return errors.New("--model (or --models) is required")
	}
	if s.runDir(l) == "" {
		return errors.New("score: --out is required")
	}
	if l.Lake != "" && s.AsOf == "" {
		return errors.New("score: --as-of is required with --lake")
	}
	if (s.Target == "") != (s.BadValue == "") {
		return errors.New("score: --target and --bad-value go together")
	}
	if s.LakeTable != "" && (l.Lake == "" || (s.Model == "" && s.Name == "")) {
		return errors.New("--lake-table needs lake mode (--lake) and one model (--model, or --models with --name)")
	}
	if s.Model != "" {
		if _, err := scorecard.Load(s.Model); err != nil {
			return fmt.Errorf("score: refusing model %s: %w", s.Model, err)
		}
	}
	if s.Rules.IsSet() {
		if _, err := s.rules(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Score) rules() (score.Rules, error) {
	if !s.Rules.IsSet() {
		return score.DefaultRules(), nil
	}
	b, err := s.Rules.YAML()
	if err != nil {
		return score.Rules{}, err
	}
	return score.ParseRules(b, s.Rules.Source)
}

// models resolves the model directories to score.
func (s *Score) models(l pipelines.Layout) ([]string, error) {
	if s.Model != "" {
		return []string{s.Model}, nil
	}
	dirs, err := score.LatestModels(l.Models)
	if err != nil {
		return nil, err
	}
	if s.Name == "" {
		return dirs, nil
	}
	var only []string
	for _, d := range dirs {
		if filepath.Base(filepath.Dir(d)) == s.Name {
			only = append(only, d)
		}
	}
	if len(only) == 0 {
		return nil, fmt.Errorf("--name %s: no such model under %s", s.Name, l.Models)
	}
	return only, nil
}

// Run scores, publishes the run and, with LakeTable, commits the lake
// table; it prints a line per model.
func (s *Score) Run(ctx context.Context, env *pipelines.Env) error {
	l := env.Layout
	o := score.Options{Lake: l.Lake, AsOf: s.AsOf, Set: s.Set, Data: s.Data, ID: s.ID, Target: s.Target, BadValue: s.BadValue,
		Out: s.runDir(l), BatchRows: s.BatchRows, Workers: s.Workers, Memory: s.MemoryLimit, Log: env.Log,
		AllowEmpty: s.AllowEmpty, AllowDuplicateIDs: s.AllowDuplicateIDs, Full: s.Full || s.LakeTable != ""}
	var err error
	if o.Models, err = s.models(l); err != nil {
		return err
	}
	if s.LakeTable != "" && len(o.Models) != 1 {
		return errors.New("--lake-table needs lake mode (--lake) and one model (--model, or --models with --name)")
	}
	if o.Rules, err = s.rules(); err != nil {
		return err
	}
	man, dir, err := score.Run(ctx, o)
	if err != nil {
		return err
	}
	w := env.Stdout
	if s.LakeTable != "" {
		m := man.Models[0]
		id, err := features.Key(m.Set)
		if err != nil {
			return fmt.Errorf("--lake-table: model %s: %w", m.Name, err)
		}
		n, err := lakescore.Write(ctx, lakescore.Options{Run: dir, Lake: l.Lake, Table: s.LakeTable, Model: m.Name, IDCol: id, MemoryLimit: s.MemoryLimit})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "lake table %s: %d rows (%s, score)\n", s.LakeTable, n, id)
	}
	fmt.Fprintf(w, "scores %s: %d rows\n", dir, man.Rows)
	for _, m := range man.Models {
		names := o.Rules.DecisionNames(m.Set)
		win := ""
		if m.Window != nil {
			win = fmt.Sprintf(" (%s)", m.Window)
		}
		fmt.Fprintf(w, "  %s %s: %d rows%s, grades A-E %d/%d/%d/%d/%d, decisions %s %d %s %d %s %d, score PSI %.4f (%s)\n",
			m.Name, m.Version, m.Rows, win, m.Grades["A"], m.Grades["B"], m.Grades["C"], m.Grades["D"], m.Grades["E"],
			names[0], m.Decisions[names[0]], names[1], m.Decisions[names[1]], names[2], m.Decisions[names[2]], m.Monitoring.ScorePSI, m.Monitoring.ScoreLevel)
		if v := m.Validation; v != nil {
			fmt.Fprintf(w, "  validation on %s: n %d bads %d AUC %.4f KS %.4f Gini %.4f\n", v.Target, v.N, v.Bads, v.AUC, v.KS, v.Gini)
		}
	}
	return nil
}
