package demo

// qiandun builds only with the duckdb_arrow tag; without it this import
// stops the build with one readable error (package buildtag).
import _ "qiandun/internal/buildtag"
