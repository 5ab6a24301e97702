package main

// The runners --runner can name. prism runs the pipeline in this process
// (loopback workers); the others submit it (see README: Dataflow, Flink).
import (
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
)
