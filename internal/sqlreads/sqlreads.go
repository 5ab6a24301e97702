// Package sqlreads parses the header every SQL model of qiandun carries:
//
//	-- reads: loans, perf/installment_payoff
//	-- uses: spine_bcard, installments
//
// `reads` names the lake tables the query reads (lake-relative, as the
// layout names them: ingest's raw tables, perf/*, labels/*, features/*,
// scores_acard), or "(none)"; `uses` names the tables and views its own
// stage creates in the DuckDB session before it runs (perf_params, a
// feature spine, ...). A stage's lake reads are the union of its SQL
// files' reads, which is what its declared inputs must cover.
//
// Tables returns the tables a query's body references (FROM and JOIN
// targets, comments and string literals removed, its own CTEs left out),
// so a header can be checked against the query it describes.
package sqlreads

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Header is what a SQL file's header declares.
type Header struct {
	Reads []string // lake tables
	Uses  []string // session tables of the stage
}

// Parse returns the header of the SQL text src (the leading comment
// lines). It is an error when there is no reads line or a line repeats.
func Parse(src string) (Header, error) {
	var h Header
	seen := map[string]bool{}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			break
		}
		body := strings.TrimSpace(strings.TrimPrefix(line, "--"))
		key, val, ok := strings.Cut(body, ":")
		if !ok || (key != "reads" && key != "uses") {
			continue
		}
		if seen[key] {
			return h, fmt.Errorf("two %q lines in the header", key)
		}
		seen[key] = true
		list := splitList(val)
		if key == "reads" {
			h.Reads = list
		} else {
			h.Uses = list
		}
	}
	if !seen["reads"] {
		return h, fmt.Errorf("no `-- reads:` line in the header")
	}
	return h, nil
}

func splitList(s string) []string {
	s = strings.TrimSpace(s)
	if s == "(none)" || s == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

var (
	lineComment  = regexp.MustCompile(`--[^\n]*`)
	blockComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	stringLit    = regexp.MustCompile(`'(?:[^']|'')*'`)
	cteName      = regexp.MustCompile(`(?i)(?:\bWITH|,)\s+([a-z_][a-z0-9_]*)\s*(?:\([^()]*\))?\s+AS\s*(?:(?:NOT\s+)?MATERIALIZED\s*)?\(`)
	fromJoin     = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)\b\s*(\()?`)
	keywords     = map[string]bool{"lateral": true, "select": true, "unnest": true, "values": true}
)

// Tables returns, sorted and lower-cased, the tables and views the body
// of src reads: the names after FROM and JOIN that are not its own CTEs
// and not table functions.
func Tables(src string) []string {
	s := blockComment.ReplaceAllString(src, " ")
	s = lineComment.ReplaceAllString(s, " ")
	s = stringLit.ReplaceAllString(s, "''")
	ctes := map[string]bool{}
	for _, m := range cteName.FindAllStringSubmatch(s, -1) {
		ctes[strings.ToLower(m[1])] = true
	}
	set := map[string]bool{}
	for _, m := range fromJoin.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if m[2] != "" || ctes[name] || keywords[name] {
			continue // a function call, a CTE, a subquery keyword
		}
		set[name] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
