//go:build duckdb_arrow

// Package buildtag stops a build without the duckdb_arrow tag with one
// readable error. DuckDB's Arrow interface (duckdb.NewArrowFromConn) is
// compiled only under that tag, and qiandun moves every large result as
// Arrow batches, so a plain `go build ./...` or `go vet ./...` would
// otherwise fail deep inside data/ingest or features with "undefined:
// duckdb.NewArrowFromConn". Every package that needs the tag imports this
// one (data/lake does, so its importers are covered); without the tag this
// package does not compile and the go command reports only its error:
//
//	cannot convert "qiandun builds only with the duckdb_arrow tag: use the Makefile (make build, make test) or go … -tags=duckdb_arrow" …
//
// The Makefile exports GOFLAGS=-tags=duckdb_arrow.
package buildtag
