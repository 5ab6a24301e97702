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

.PHONY: all build pipelines data test test-kill test-notebooks lint fmtcheck staticcheck bench bench-large fuzz clean browser-deps notebooks model-bench beam-build beam-test beam-bench guard

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/qiandun

# Build, then run the whole DAG (pipelines/default.yaml): gen writes the
# demo book when $(DEMO)/raw is absent; stages whose inputs and config are
# unchanged since their last run are skipped. RUN_FLAGS passes more, e.g.
# RUN_FLAGS="--from train" or RUN_FLAGS="--force".
pipelines: build
	$(BIN) run --config $(CONFIG) --set root=$(DEMO) $(RUN_FLAGS)

# Notebooks (notebooks/*.ipynb) executed headless with Debian's Python
# (/usr/bin/python3 and the kernelspec in notebooks/kernels) on the outputs
# of the pipeline under NB_DEMO, which is run (or skipped if up to date)
# first; executed copies go to $(NB_DEMO)/notebooks. Fails on any error.
NB_DEMO   ?= $(DEMO)
NB_SET    ?=
notebooks: build
	@sh notebooks/deps.sh
	$(BIN) run --config $(CONFIG) --set root=$(NB_DEMO) $(NB_SET)
	QIANDUN_BIN=$(abspath $(BIN)) QIANDUN_DEMO=$(abspath $(NB_DEMO)) sh notebooks/run.sh $(NB_DEMO)/notebooks

# Debian's chromium and fonts-noto-cjk for the report browser test (a no-op
# when present).
browser-deps:
	@sh report/browser-deps.sh

# (Re)generate the demo raw exports.
data: build
	$(BIN) gen --out $(DEMO)/raw

# go vet and staticcheck first (a build without the duckdb_arrow tag fails
# with one readable line: internal/buildtag); then every Go test (the
# report browser test runs, never skips); then the kill-point harness
# (one pipeline process at a time: about one core) and, beside it, one
# after the other, the Beam module's vet and tests on the Prism runner
# (beam-test), the notebooks on a small 5,000-loan demo in demo-test/ and
# the guard. Each of those prints its output when it ends (--output-sync).
test: browser-deps staticcheck fmtcheck
	$(GO) vet ./...
	bin/staticcheck ./...
	QIANDUN_BROWSER_TEST=1 $(GO) test -count=1 -timeout 20m ./...
	$(MAKE) -j2 --output-sync=target test-kill beam-test test-notebooks guard

# The kill-point harness and the fault injection (-tags killpoints).
test-kill:
	GOFLAGS=-tags=duckdb_arrow,killpoints $(GO) test -count=1 -timeout 30m -run 'Kill|Fault' ./internal/durable/ ./scoring/score/ ./cmd/qiandun/

test-notebooks:
	$(MAKE) notebooks NB_DEMO=demo-test NB_SET="--set loans=5000"

# The small-scale guard (in make test, beside the kill harness): the shipped pipeline
# on a GUARD_LOANS-loan book under a deliberately low DuckDB memory limit,
# GUARD_MEMORY, so a stage whose operators cannot spill fails CI with the
# stage, step and limit it ran out at (ingest's lanes keep their 800MB +
# 300MB floor); then guardcheck asserts every stage
# completed (run and stage manifests) and the score and early-warning files
# hold rows. Reconcile's open-break limit follows the book (the demo's
# 1,000 yuan per loan). The book is written afresh under GUARD_DIR and
# removed when the guard passes (about 3 GB at 200,000 loans).
GUARD_LOANS  ?= 200000
GUARD_MEMORY ?= 512MB
GUARD_DIR    ?= demo-guard
GUARD_SET     = --set root=$(GUARD_DIR) --set loans=$(GUARD_LOANS) --set memory_limit=$(GUARD_MEMORY) --set ingest_memory_limit=$(GUARD_MEMORY) --set reconcile_max_open=$$(($(GUARD_LOANS) * 1000)).00
guard: build
	rm -rf $(GUARD_DIR)
	$(BIN) run --config $(CONFIG) $(GUARD_SET)
	$(GO) run ./internal/cmd/guardcheck --config $(CONFIG) $(GUARD_SET)
	rm -rf $(GUARD_DIR)

# gofmt: every tracked Go file formatted (lists the ones that are not).
fmtcheck:
	@files=$$($$($(GO) env GOROOT)/bin/gofmt -l $$(git ls-files '*.go')); if [ -n "$$files" ]; then echo "gofmt -w these files:"; echo "$$files"; exit 1; fi

# staticcheck (dead code, deprecated calls, lost errors) at a pinned
# version, installed into bin/ from the Go module proxy (once: the target
# is the binary, rebuilt only when the pinned version changes). make test
# runs it after go vet; make lint runs the two alone.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
staticcheck: bin/staticcheck-$(STATICCHECK_VERSION)
bin/staticcheck-$(STATICCHECK_VERSION):
	GOBIN=$(CURDIR)/bin GOFLAGS= $(GO) install $(STATICCHECK)
	touch $@
lint: staticcheck fmtcheck
	$(GO) vet ./...
	bin/staticcheck ./...

# Benchmarks at the realistic scale the floors name; each package runs in
# its own process, so peak-RSS-MiB is that package's peak.
bench:
	QIANDUN_BENCH_SCALE=full $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./... | tee bench.out
	$(MAKE) beam-bench

# qiandun-beam (cmd/qiandun-beam): the heavy stages on Apache Beam. It is
# its own Go module (with a replace of qiandun to this tree), so that
# qiandun never links Beam and the root's `go vet ./...` and `go test
# ./...` do not compile Beam's packages; these targets build, vet and test
# it (its tests run the score, perf panel and B-card features pipelines on
# the Prism runner over 3,000-loan books and compare with the DuckDB
# stages). beam-bench scores a 1M-row B-card snapshot and builds a
# 200k-loan book's B-card snapshot with DuckDB and with Beam on Prism.
# beam-test runs in `make test`, beside the kill-point harness (which
# keeps about one core busy). Its cost: 86-104 CPU-s with its packages in
# the Go build cache (five test binaries linked, vet, the tests); from an
# empty GOCACHE in which the root module's packages were built first, 426
# CPU-s (478 of its 977 packages to compile: Beam and what its harness and
# Prism import, gRPC's xds, the Google Cloud clients, Docker's client; 644
# CPU-s before the root's go.mod took Beam's x/exp, x/net and genproto
# versions and the DoFns left register.DoFnNxM). make test from an empty
# GOCACHE is over 17 min of the two cores with or without it (2,043 CPU-s
# without, 6 Dec 2026; 28 min wall with it on a shared machine): over the
# 15-minute budget from an empty cache (README, Performance).
BEAM_DIR := cmd/qiandun-beam
beam-build:
	cd $(BEAM_DIR) && $(GO) build -ldflags "$(LDFLAGS)" -o $(CURDIR)/bin/qiandun-beam .

beam-test:
	cd $(BEAM_DIR) && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./...

beam-bench:
	cd $(BEAM_DIR) && QIANDUN_BENCH_SCALE=full $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./... | tee -a $(CURDIR)/bench.out

# The whole pipeline on 1M, 3M and 10M-loan books, one stage per process:
# wall, CPU, rows and peak RSS per stage, a CSV and a chart in
# bench-large/. Not in CI: the 10M book takes hours and tens of GB of
# disk. The raw exports are gzipped (raw_gzip=true: a 1M-loan book is 9.8
# GB as CSV, ~2.1 GB gzipped) and removed once ingested (--drop-raw).
# SIZES and BENCH_SET (e.g. memory_limit=2GB) override; MERGE names
# earlier runs' bench-large.csv files to add to the table and the chart
# (e.g. SIZES=3000000 MERGE=bench-large-1m.csv).
SIZES     ?= 1000000,3000000,10000000
BENCH_SET ?= raw_gzip=true
MERGE     ?=
bench-large: build
	$(GO) run ./internal/cmd/benchlarge --bin $(BIN) --config $(CONFIG) --sizes $(SIZES) --set "$(BENCH_SET)" --drop-raw $(if $(MERGE),--merge $(MERGE))

# Every fuzz target, each for FUZZTIME (60s by default); the seed corpora
# are committed under each package's testdata/fuzz/<Target>/. An ingest
# run opens DuckDB (~50 runs/s), so minimising a new input is capped at
# 20 runs: the default (60 s per input) looks like a stall.
FUZZTIME  ?= 60s
FUZZ_TARGETS := \
	./data/ingest/:FuzzIngestFile \
	./data/ingest/:FuzzReadRecords \
	./data/ingest/normalize/:FuzzParseAmount \
	./data/ingest/normalize/:FuzzParseDate \
	./training/train/:FuzzParseBins \
	./pipelines/:FuzzParse \
	./training/scorecard/:FuzzDecode
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 20x $$pkg; \
	done

# Test AUC and KS of qiandun's cards on the public data sets in testdata/
# (German credit, HMEQ), split as testdata/reference/model_baselines.json
# says, beside the open baselines recorded there. MODEL_METHODS adds
# methods (default: the default card, the boosted card, and the boosted card
# without pairs), e.g. MODEL_METHODS=default,boosted.
MODEL_METHODS ?= default,boosted,boosted:max_pairs=0
model-bench: build
	$(GO) run ./training/internal/modelbench --bin $(BIN) --methods $(MODEL_METHODS)

clean:
	rm -rf bin $(DEMO) demo-test demo-guard bench.out bench-large
