// Package gcredit loads the public German credit data and the independent
// reference scorecard in testdata/ for the training packages' tests.
package gcredit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"qiandun/training/binning"
)

// Root returns the module root (found from this file's location).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// CSVPath is testdata/germancredit.csv.
func CSVPath() string { return filepath.Join(Root(), "testdata", "germancredit.csv") }

// Data is the table: columns by name (numeric where every value parses)
// and y (1 = bad).
type Data struct {
	Names []string
	Cols  map[string]*binning.Column
	Y     []float64
}

// Load reads the CSV; target creditability, bad = "bad".
func Load() (*Data, error) {
	f, err := os.Open(CSVPath())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CSVPath(), err)
	}
	head := recs[0]
	d := &Data{Cols: map[string]*binning.Column{}}
	for j, name := range head {
		if name == "creditability" {
			for _, r := range recs[1:] {
				v := 0.0
				if r[j] == "bad" {
					v = 1
				}
				d.Y = append(d.Y, v)
			}
			continue
		}
		d.Names = append(d.Names, name)
		num := make([]float64, 0, len(recs)-1)
		isNum := true
		for _, r := range recs[1:] {
			v, err := strconv.ParseFloat(r[j], 64)
			if err != nil {
				isNum = false
				break
			}
			num = append(num, v)
		}
		if isNum {
			d.Cols[name] = &binning.Column{Name: name, Kind: binning.Numeric, Num: num}
			continue
		}
		c := &binning.Column{Name: name, Kind: binning.Categorical}
		code := map[string]int32{}
		for _, r := range recs[1:] {
			k, ok := code[r[j]]
			if !ok {
				k = int32(len(c.Dict))
				code[r[j]] = k
				c.Dict = append(c.Dict, r[j])
			}
			c.Codes = append(c.Codes, k)
		}
		d.Cols[name] = c
	}
	return d, nil
}

// RefBin is one bin of the reference.
type RefBin struct {
	Bin    string   `json:"bin"`
	Count  int64    `json:"count"`
	Good   int64    `json:"good"`
	Bad    int64    `json:"bad"`
	WoE    float64  `json:"woe"`
	BinIV  float64  `json:"bin_iv"`
	Values []string `json:"values"`
}

// RefVar is one characteristic of the reference.
type RefVar struct {
	Type    string     `json:"type"`
	Breaks  []float64  `json:"breaks"`
	Groups  [][]string `json:"groups"`
	TotalIV float64    `json:"total_iv"`
	Bins    []RefBin   `json:"bins"`
}

// Reference is testdata/reference/germancredit_scorecard.json.
type Reference struct {
	Variables map[string]RefVar `json:"variables"`
	Logit     struct {
		Variables []string           `json:"variables_iv_ge_0.02"`
		Coef      map[string]float64 `json:"coef"`
		StdErr    map[string]float64 `json:"std_err"`
		LogLik    float64            `json:"loglik"`
		AIC       float64            `json:"aic"`
		TrainAUC  float64            `json:"train_auc"`
		TrainKS   float64            `json:"train_ks"`
	} `json:"logit"`
}

// LoadReference reads the reference figures.
func LoadReference() (*Reference, error) {
	p := filepath.Join(Root(), "testdata", "reference", "germancredit_scorecard.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var r Reference
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &r, nil
}

// Spec returns the reference's bins of a variable as a binning.Spec.
func (v RefVar) Spec() binning.Spec {
	if v.Type == "numeric" {
		return binning.Spec{Breaks: v.Breaks}
	}
	return binning.Spec{Groups: v.Groups}
}
