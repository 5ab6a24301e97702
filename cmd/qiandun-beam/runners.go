//go:build duckdb_arrow

package main

// The runners --runner can name. prism runs the pipeline in this process
// (loopback workers); dataflow submits it to Google Cloud Dataflow; flink,
// spark and universal to a Beam job server (--endpoint). Dataflow's runner
// adds five packages to the ~920 Beam and prism already link.
import (
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
)
