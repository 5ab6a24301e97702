// Command modelbench is `make model-bench`: it trains the default card
// (and each further --method given) with the qiandun binary on every
// public data set of testdata/reference/model_baselines.json, split as
// that file says (row i, 0-based without the header, is test when
// i % 10 >= 7), and prints test AUC and KS beside the open baselines'
// figures recorded there. It is a comparison, not a timed test.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"qiandun/training/scorecard"
)

type baselines struct {
	Datasets map[string]struct {
		File     string                        `json:"file"`
		Target   string                        `json:"target"`
		BadValue string                        `json:"bad_value"`
		Source   string                        `json:"source"`
		Test     map[string]map[string]float64 `json:"test"`
	} `json:"datasets"`
}

func main() {
	bin := flag.String("bin", "bin/qiandun", "the qiandun binary")
	refs := flag.String("baselines", "testdata/reference/model_baselines.json,testdata/reference/model_bench_extra.json", "baseline figures (one or more files, comma-separated)")
	data := flag.String("data", "testdata", "directory of the data sets (file names as in the baselines)")
	methods := flag.String("methods", "default", "comma-separated training methods: default, or a --method value")
	flag.Parse()
	if err := run(os.Stdout, *bin, strings.Split(*refs, ","), *data, strings.Split(*methods, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "model-bench:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, bin string, refs []string, data string, methods []string) error {
	var all baselines
	all.Datasets = map[string]struct {
		File     string                        `json:"file"`
		Target   string                        `json:"target"`
		BadValue string                        `json:"bad_value"`
		Source   string                        `json:"source"`
		Test     map[string]map[string]float64 `json:"test"`
	}{}
	for _, r := range refs {
		raw, err := os.ReadFile(r)
		if err != nil {
			return err
		}
		var b baselines
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
		for k, v := range b.Datasets {
			all.Datasets[k] = v
		}
	}
	tmp, err := os.MkdirTemp("", "qiandun-model-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var names []string
	for n := range all.Datasets {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "data set\tmodel\ttest AUC\ttest KS\tcharacteristics")
	for _, n := range names {
		d := all.Datasets[n]
		src := filepath.Join(data, filepath.Base(d.File))
		trainCSV, testCSV := filepath.Join(tmp, n+"_train.csv"), filepath.Join(tmp, n+"_test.csv")
		if err := split(src, trainCSV, testCSV); err != nil {
			return err
		}
		for _, m := range methods {
			m = strings.TrimSpace(m)
			out := filepath.Join(tmp, "models-"+n+"-"+m)
			args := []string{"train", "--data", trainCSV, "--test", testCSV, "--target", d.Target, "--bad-value", d.BadValue,
				"--name", n, "--out", out}
			// boosted:max_pairs=0 is --method boosted with boosted
			// options (key=value, several joined by ";") in a --config file.
			method, opts, _ := strings.Cut(m, ":")
			if method != "default" {
				args = append(args, "--method", method)
			}
			if opts != "" {
				cfg := filepath.Join(tmp, n+"-"+strings.NewReplacer(":", "_", "=", "_", ";", "_").Replace(m)+".yaml")
				body := "boosted:\n"
				for _, kv := range strings.Split(opts, ";") {
					k, v, _ := strings.Cut(kv, "=")
					body += "  " + k + ": " + v + "\n"
				}
				if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
					return err
				}
				args = append(args, "--config", cfg)
			}
			cmd := exec.Command(bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
			}
			vs, err := os.ReadDir(filepath.Join(out, n))
			if err != nil || len(vs) != 1 {
				return fmt.Errorf("%s: %d versions, %v", out, len(vs), err)
			}
			card, err := scorecard.Load(filepath.Join(out, n, vs[0].Name()))
			if err != nil {
				return err
			}
			for _, s := range card.Metrics {
				if s.Sample == "test" {
					fmt.Fprintf(tw, "%s\tqiandun %s\t%.4f\t%.4f\t%d\n", n, m, s.AUC, s.KS, len(card.Chars))
				}
			}
		}
		var bs []string
		for b := range d.Test {
			bs = append(bs, b)
		}
		sort.Strings(bs)
		for _, b := range bs {
			ks := "-"
			if v, ok := d.Test[b]["ks"]; ok {
				ks = fmt.Sprintf("%.4f", v)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.4f\t%s\t\n", n, b, d.Test[b]["auc"], ks)
		}
	}
	return tw.Flush()
}

// split writes the header and rows i%10 < 7 of src to train, the header
// and the others to test (i counts data rows from 0; one row per line,
// as in the public files).
func split(src, train, test string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	tr, err := os.Create(train)
	if err != nil {
		return err
	}
	defer tr.Close()
	te, err := os.Create(test)
	if err != nil {
		return err
	}
	defer te.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	i := -1
	for sc.Scan() {
		line := sc.Text() + "\n"
		switch {
		case i < 0:
			if _, err := io.WriteString(tr, line); err != nil {
				return err
			}
			if _, err := io.WriteString(te, line); err != nil {
				return err
			}
		case i%10 >= 7:
			if _, err := io.WriteString(te, line); err != nil {
				return err
			}
		default:
			if _, err := io.WriteString(tr, line); err != nil {
				return err
			}
		}
		i++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	return nil
}
