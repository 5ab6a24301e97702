// Package frame reads a DuckDB query result into typed Go columns for the
// training numerics, moving the data as Arrow record batches
// (duckdb.NewArrowFromConn), never row by row through database/sql.
//
// Integer, floating-point and DECIMAL columns become numeric columns
// (float64, NULL → NaN; decimals are converted exactly to the nearest
// float64); VARCHAR and BOOLEAN columns become categorical columns
// (dictionary codes, NULL → −1). Kinds can be overridden per column. Other
// types (dates, timestamps, lists) are reported in Skipped.
package frame

// qiandun builds only with the duckdb_arrow tag; without it this import
// stops the build with one readable error (package buildtag).
import _ "qiandun/internal/buildtag"
