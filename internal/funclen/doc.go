// Package funclen holds the test that keeps every function of the module
// within the project's limit of 120 lines (MaxLines), generated code and
// table code (lines inside large composite literals) aside.
package funclen

// MaxLines is the longest a function may be, in lines from its func
// keyword to its closing brace, not counting the lines of composite
// literals of more than TableLines lines (tables of cases, columns,
// rules).
const MaxLines = 120

// TableLines is the size from which a composite literal counts as table
// code.
const TableLines = 10
