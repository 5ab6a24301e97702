//go:build !duckdb_arrow

package buildtag

// The one error a build without the tag prints (see the package comment).
const _ = int("qiandun builds only with the duckdb_arrow tag: use the Makefile (make build, make test) or go build/test/vet -tags=duckdb_arrow")
