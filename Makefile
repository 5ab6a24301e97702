# qiandun — the two commands a newcomer needs are `make pipelines` and `make test`.
GO        ?= go
# DuckDB's Arrow interface is behind a build tag; every build and test uses it.
export GOFLAGS    := -tags=duckdb_arrow
export CGO_ENABLED := 1
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X qiandun/internal/version.Version=$(VERSION)
BIN       := bin/qiandun
DEMO      ?= demo
CONFIG    ?= pipelines/default.yaml

.PHONY: all build pipelines data test bench fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/qiandun

# Build, generate the demo book if absent, run every stage.
pipelines: build
	@if [ ! -d $(DEMO)/raw ]; then $(BIN) gen --out $(DEMO)/raw; fi
	$(BIN) ingest --raw $(DEMO)/raw --lake $(DEMO)/lake

# (Re)generate the demo raw exports.
data: build
	$(BIN) gen --out $(DEMO)/raw

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# Benchmarks at the realistic scale the floors name; each package runs in
# its own process, so peak-RSS-MiB is that package's peak.
bench:
	QIANDUN_BENCH_SCALE=full $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./... | tee bench.out

clean:
	rm -rf bin $(DEMO) bench.out
