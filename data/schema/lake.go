package schema

import (
	"fmt"
	"strings"
)

// SQLType returns the DuckDB type a column of this kind has in the lake.
func (k Kind) SQLType() string {
	switch k {
	case Date:
		return "DATE"
	case Timestamp:
		return "TIMESTAMP"
	case Money:
		return "DECIMAL(18,2)"
	case Int:
		return "INTEGER"
	case Rate:
		return "DECIMAL(9,6)"
	default:
		return "VARCHAR"
	}
}

// LakeColumn is one column of a typed lake table.
type LakeColumn struct {
	Name string
	Type string // DuckDB type
}

// LakeColumns returns the columns of table's typed lake table, in order.
// They are the raw contract's columns with each PII column replaced by
// its HMAC token (<name>_token) and, for applications, the attributes
// derived from the ID number before it is tokenised:
//
//	age             INTEGER  whole years at apply_time, from the ID's birth date
//	id_gender       VARCHAR  male/female from the ID's 17th digit
//	birth_province  VARCHAR  province name from the ID's first two digits
//	id_checksum_ok  BOOLEAN  GB 11643 check digit valid (false also for a malformed ID)
//
// and, for bureau_reports, the band derived from the bureau's code:
//
//	worst_overdue_band  INTEGER  OverdueBand(worst_status_24m): 0 for N, 1..7
//	                             for the overdue codes, NULL for the others
func LakeColumns(t Table) []LakeColumn {
	var out []LakeColumn
	for _, c := range t.Columns {
		if c.Kind == PII {
			out = append(out, LakeColumn{c.Name + "_token", "VARCHAR"})
			continue
		}
		out = append(out, LakeColumn{c.Name, c.Kind.SQLType()})
	}
	if t.Name == "applications" {
		out = append(out,
			LakeColumn{"age", "INTEGER"},
			LakeColumn{"id_gender", "VARCHAR"},
			LakeColumn{"birth_province", "VARCHAR"},
			LakeColumn{"id_checksum_ok", "BOOLEAN"},
		)
	}
	if t.Name == "bureau_reports" {
		out = append(out, LakeColumn{"worst_overdue_band", "INTEGER"})
	}
	return out
}

// LakeDDL returns a CREATE TABLE statement for table's typed lake table
// under the given SQL name. Tests use it to build small hand-made lakes
// with exactly the types ingestion writes.
func LakeDDL(t Table, sqlName string) string {
	cols := LakeColumns(t)
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf("%s %s", c.Name, c.Type)
	}
	return fmt.Sprintf("CREATE TABLE %s (%s)", sqlName, strings.Join(parts, ", "))
}
