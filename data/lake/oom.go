package lake

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// OutOfMemoryError is a stage that ran out of DuckDB memory: which stage,
// which step (the SQL file its error names) and how much memory DuckDB
// had. Its message is one line that says which setting to raise; DuckDB's
// own multi-line text (its "Possible solutions") is cut to its first line.
type OutOfMemoryError struct {
	Stage string // the stage (or subcommand) that failed
	Step  string // the SQL file or step the error names; "" when it names none
	Limit string // DuckDB's memory limit when it ran out, e.g. "512.0 MiB"; "" when unknown
	Err   error  // the stage's error
}

// oomMarker is how DuckDB's out-of-memory errors begin.
const oomMarker = "Out of Memory Error"

var (
	// stepRe finds the step a stage's error names: a .sql file, with its
	// directory when it has one (perf/panel.sql, prep_installments.sql).
	stepRe = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_]\.sql\b`)
	// usedRe finds DuckDB's "(used/limit used)".
	usedRe = regexp.MustCompile(`\(([0-9.]+ (?:bytes|[KMGT]?i?B))/([0-9.]+ [KMGT]?i?B) used\)`)
)

// IsOutOfMemory reports whether err is (or wraps) a DuckDB out-of-memory
// error.
func IsOutOfMemory(err error) bool {
	return err != nil && strings.Contains(err.Error(), oomMarker)
}

// WrapOutOfMemory returns err unchanged unless it is a DuckDB
// out-of-memory error, which it returns as an *OutOfMemoryError of stage.
// It is applied once, where every stage is run (qiandun's runAudited).
func WrapOutOfMemory(stage string, err error) error {
	if !IsOutOfMemory(err) {
		return err
	}
	var o *OutOfMemoryError
	if errors.As(err, &o) {
		return err
	}
	msg := err.Error()
	o = &OutOfMemoryError{Stage: stage, Err: err}
	// The step is the last .sql named before DuckDB's own text: the
	// stage's innermost wrapping.
	head, _, _ := strings.Cut(msg, oomMarker)
	if steps := stepRe.FindAllString(head, -1); len(steps) > 0 {
		o.Step = steps[len(steps)-1]
	} else if segs := strings.Split(strings.TrimSuffix(strings.TrimSpace(head), ":"), ": "); len(segs) > 1 {
		// No SQL file named: the innermost context the stage gave, unless
		// that is only the stage's own name.
		if last := strings.TrimSpace(segs[len(segs)-1]); last != stage {
			o.Step = last
		}
	}
	if m := usedRe.FindStringSubmatch(msg); m != nil {
		o.Limit = m[2]
	}
	return o
}

func (o *OutOfMemoryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stage %s", o.Stage)
	if o.Step != "" {
		fmt.Fprintf(&b, ", step %s,", o.Step)
	}
	b.WriteString(" ran out of DuckDB memory")
	if o.Limit != "" {
		fmt.Fprintf(&b, " at its limit of %s", o.Limit)
	}
	fmt.Fprintf(&b, ": raise memory_limit (vars.memory_limit in pipelines/default.yaml, or qiandun run --set memory_limit=%s; --memory-limit of a single command); DuckDB spills to <lake>/_tmp/duckdb beyond it. ", suggestLimit(o.Limit))
	line, _, _ := strings.Cut(o.Err.Error(), "\n")
	b.WriteString(strings.TrimSpace(line))
	return b.String()
}

func (o *OutOfMemoryError) Unwrap() error { return o.Err }

// suggestLimit is twice limit ("512.0 MiB" -> "1GB"), rounded up to a
// whole number of MB or GB; "4GB" when limit is unknown.
func suggestLimit(limit string) string {
	num, unit, ok := strings.Cut(limit, " ")
	v, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil {
		return "4GB"
	}
	mib := map[string]float64{"B": 1.0 / (1 << 20), "KiB": 1.0 / 1024, "MiB": 1, "GiB": 1024, "TiB": 1 << 20, "KB": 1.0 / 1024, "MB": 1, "GB": 1024, "TB": 1 << 20}[unit]
	if mib == 0 {
		return "4GB"
	}
	want := 2 * v * mib
	if want >= 1024 {
		return fmt.Sprintf("%dGB", int(want/1024+0.999))
	}
	return fmt.Sprintf("%dMB", max(int(want+0.999), 64))
}
