# Vigil — build, test, demo and benchmark commands. `.ci/run` calls `make test`.
SWIFT ?= swift
STRICT := -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error
# Keep test builds apart from release builds so switching does not rebuild everything.
TEST_SCRATCH := .build

.PHONY: deps build test soak demo bench bench-workers bench-latency bench-check bench-core bench-checkpoint bench-w1-reference bench-memory-floor bench-anomaly format validate clean help

help:
	@echo "make demo    install missing system packages, build, run the demo"
	@echo "make test    install missing system packages, build with warnings as errors, run all tests"
	@echo "make soak    the kill -9 / SIGTERM / takeover test with 40 kills (SOAK_KILLS=n, SOAK_SEED=s)"
	@echo "make bench   run the benchmark package (Benchmarks/) and the W1 comparison with the C reference"
	@echo "make bench-anomaly  score the anomaly detectors on the labelled evaluation set"
	@echo "make bench-workers  W2 and the job with 1 and 2 workers (scaling)"
	@echo "make bench-latency  W3: reading-to-alert latency per input rate"
	@echo "make validate  module-boundary checks, and that the sources are formatted (make format)"
	@echo "make format  apply .swift-format to Sources, Tests and Benchmarks"

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product vigil

test: deps validate
	$(SWIFT) build --build-tests $(STRICT)
	$(SWIFT) test --skip-build

# The fault-tolerance test at length: more kills, slower stream (about 9 minutes with 40 kills).
SOAK_KILLS ?= 40
soak: deps
	$(SWIFT) build --build-tests
	VIGIL_SOAK_KILLS=$(SOAK_KILLS) $(if $(SOAK_SEED),VIGIL_SOAK_SEED=$(SOAK_SEED)) $(SWIFT) test --skip-build --filter FaultToleranceTests

demo: deps
	$(SWIFT) build -c release --product vigil
	.build/release/vigil demo --duration 30s

bench-core: deps
	$(SWIFT) build -c release --product vigil-bench
	.build/release/vigil-bench core
	.build/release/vigil-bench core --quantiles

# W1 against the C reference in ../shared/bench (same data, same machine, same run).
bench-w1-reference: deps
	$(SWIFT) build -c release --product vigil-bench
	./scripts/bench-w1-reference.sh

# The anomaly scorer's memory floor on W1 (its state traffic alone) beside W1 and W1+detectors.
bench-memory-floor: deps
	$(SWIFT) build -c release --product vigil-bench
	./scripts/bench-memory-floor.sh

# Detection quality on the labelled evaluation set (NAB-style; not a timing benchmark).
bench-anomaly: deps
	$(SWIFT) build -c release --product vigil-bench
	.build/release/vigil-bench anomaly

# The throughput cost of checkpointing on W2 (none vs directory vs kafka store).
bench-checkpoint: deps
	$(SWIFT) build -c release --product vigil-bench
	.build/release/vigil-bench checkpoint --passes 3

# W2 and the job with 1 and 2 workers, and W3 (reading-to-alert latency at 10 k…200 k readings/s and the maximum).
bench-workers: deps
	$(SWIFT) build -c release --product vigil-bench
	.build/release/vigil-bench e2e --workers 1,2 --passes 3
	.build/release/vigil-bench checkpoint --modes none,detectors --workers 1,2 --passes 2

bench-latency: deps
	$(SWIFT) build -c release --product vigil-bench
	.build/release/vigil-bench latency

bench: bench-core
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark

# Allocation gate (deterministic): fails if steady-state batch processing allocates.
bench-check: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark thresholds check --path Thresholds/6.3 --filter W1_processBatch_8k_steadyState

validate:
	@./scripts/validate.sh

# Applies the checked-in .swift-format (the toolchain's swift-format); `make test` checks it is applied.
format:
	$(SWIFT) format format --in-place --recursive --parallel Sources Tests Benchmarks/Benchmarks Package.swift

clean:
	rm -rf .build Benchmarks/.build
