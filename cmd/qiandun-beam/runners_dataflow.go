//go:build duckdb_arrow && dataflow

package main

// --runner dataflow: go build -tags duckdb_arrow,dataflow (see README).
import _ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
