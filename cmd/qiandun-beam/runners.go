//go:build duckdb_arrow

package main

// The runners --runner can name. prism runs the pipeline in this process
// (loopback workers); flink, spark and universal submit it to a Beam job
// server (--endpoint). The Dataflow runner is in runners_dataflow.go,
// behind the dataflow build tag: it links the Google Cloud client
// libraries, which the local build and CI need not compile.
import (
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
)
