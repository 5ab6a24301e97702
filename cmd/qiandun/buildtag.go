//go:build !duckdb_arrow

package main

// qiandun moves columns between DuckDB and Go through DuckDB's Arrow
// interface, which duckdb-go compiles only with the duckdb_arrow build tag.
// Without it the build stops here with a message that says what to do.
var _ = build_qiandun_with__GOFLAGS_tags_duckdb_arrow__or_use_make
