package features

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"qiandun/internal/csvsafe"
)

//go:embed *.sql
var sqlFiles embed.FS

// Sets of features: the application scorecard and the behaviour scorecard.
const (
	SetACard = "acard"
	SetBCard = "bcard"
)

// Key returns the key column of a feature set's rows: application_id for
// the A-card (one row per application), loan_id for the B-card (one row
// per active loan).
func Key(set string) (string, error) {
	switch set {
	case SetACard:
		return "application_id", nil
	case SetBCard:
		return "loan_id", nil
	}
	return "", fmt.Errorf("feature set %q: want %s or %s", set, SetACard, SetBCard)
}

// Feature is one catalog entry, parsed from a feature comment.
type Feature struct {
	Set         string // acard or bcard
	Group       string // SQL file name without .sql, e.g. acard_bureau
	Name        string
	Type        string // int, double, money or category
	Description string
	AsOfRule    string
}

// SQLType returns the DuckDB type of a feature of this catalog type.
func (f Feature) SQLType() string { return sqlType(f.Type) }

func sqlType(t string) string {
	switch t {
	case "int":
		return "INTEGER"
	case "double":
		return "DOUBLE"
	case "money":
		return "DECIMAL(18,2)"
	case "category":
		return "VARCHAR"
	}
	return ""
}

// Catalog is the ordered list of features with the version of the SQL
// files it was parsed from.
type Catalog struct {
	Features []Feature
	// Version is the hex SHA-256 over the embedded SQL files (name and
	// content, in name order).
	Version string
}

// Set returns the features of one set in catalog order.
func (c Catalog) Set(set string) []Feature {
	var out []Feature
	for _, f := range c.Features {
		if f.Set == set {
			out = append(out, f)
		}
	}
	return out
}

// Groups returns the feature groups of a set in file-name order.
func (c Catalog) Groups(set string) []string {
	var out []string
	for _, f := range c.Features {
		if f.Set == set && (len(out) == 0 || out[len(out)-1] != f.Group) {
			out = append(out, f.Group)
		}
	}
	return out
}

// Group returns the features of one group in file order.
func (c Catalog) Group(group string) []Feature {
	var out []Feature
	for _, f := range c.Features {
		if f.Group == group {
			out = append(out, f)
		}
	}
	return out
}

// WriteCSV writes the catalog as CSV with a header row.
func (c Catalog) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"set", "group", "name", "type", "sql_type", "description", "as_of_rule"})
	for _, f := range c.Features {
		cw.Write(csvsafe.Record([]string{f.Set, f.Group, f.Name, f.Type, f.SQLType(), f.Description, f.AsOfRule}))
	}
	cw.Flush()
	return cw.Error()
}

var (
	featureLine = regexp.MustCompile(`^\s*--\s*feature:\s*(.*)$`)
	identRe     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// ParseCatalog derives the catalog from the feature SQL files in fsys:
// every file named acard_*.sql or bcard_*.sql is a group, and every
// comment line "-- feature: name | type | description | as-of rule" in
// it is a feature. It fails, naming file and line, on a malformed comment,
// an unknown type or a name used twice in a set.
func ParseCatalog(fsys fs.FS) (Catalog, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return Catalog{}, err
	}
	sort.Strings(names)
	h := sha256.New()
	var cat Catalog
	seen := map[string]string{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return Catalog{}, fmt.Errorf("catalog: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
		group := strings.TrimSuffix(name, ".sql")
		set, _, _ := strings.Cut(group, "_")
		if set != SetACard && set != SetBCard {
			continue // helper SQL: spines, preparation, rules
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		line := 0
		for sc.Scan() {
			line++
			m := featureLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			parts := strings.Split(m[1], "|")
			if len(parts) != 4 {
				return Catalog{}, fmt.Errorf("catalog: %s:%d: feature comment needs 4 fields name | type | description | as-of rule, got %d", name, line, len(parts))
			}
			for i := range parts {
				parts[i] = strings.TrimSpace(parts[i])
			}
			f := Feature{Set: set, Group: group, Name: parts[0], Type: parts[1], Description: parts[2], AsOfRule: parts[3]}
			if !identRe.MatchString(f.Name) {
				return Catalog{}, fmt.Errorf("catalog: %s:%d: feature name %q is not a lower-case identifier", name, line, f.Name)
			}
			if sqlType(f.Type) == "" {
				return Catalog{}, fmt.Errorf("catalog: %s:%d: feature %s: unknown type %q (want int, double, money or category)", name, line, f.Name, f.Type)
			}
			if f.Description == "" || f.AsOfRule == "" {
				return Catalog{}, fmt.Errorf("catalog: %s:%d: feature %s: empty description or as-of rule", name, line, f.Name)
			}
			key := set + "." + f.Name
			if prev, ok := seen[key]; ok {
				return Catalog{}, fmt.Errorf("catalog: %s:%d: feature %s already defined in %s", name, line, f.Name, prev)
			}
			seen[key] = fmt.Sprintf("%s:%d", name, line)
			cat.Features = append(cat.Features, f)
		}
	}
	cat.Version = hex.EncodeToString(h.Sum(nil))
	return cat, nil
}

// DefaultCatalog returns the catalog of the SQL files built into qiandun.
func DefaultCatalog() (Catalog, error) { return ParseCatalog(sqlFiles) }

func readSQL(name string) (string, error) {
	b, err := sqlFiles.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("features: embedded SQL %s: %w", name, err)
	}
	return string(b), nil
}
