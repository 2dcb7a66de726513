import Benchmark
import VigilCore
import VigilWorkloads
import VigilTesting

// W1 through the window engine, and the same readings through the naive reference, measured in the same run.
// Throughput is reported per reading (scalingFactor .mega: one "iteration" = 1 M readings); the gate is on
// allocations, which are deterministic (wall clock on these shared machines is not).

let w1Records = 1_000_000
let w1Batches = W1Workload(records: w1Records).makeBatches()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(5),
        maxIterations: 20,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 200])]
    )

    Benchmark("W1_windowEngine_1M") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(W1Runner.run(batches: w1Batches, spec: W1Workload.spec()).checksum)
        }
    }

    Benchmark("W1quantiles_windowEngine_1M") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(W1Runner.run(batches: w1Batches, spec: W1Workload.spec(quantiles: true)).checksum)
        }
    }

    // Baseline in the same run: a plain Dictionary<(window, sensor), StatAccumulator> implementation.
    Benchmark("W1_dictionaryBaseline_1M") { benchmark in
        for _ in benchmark.scaledIterations {
            let baseline = DictionaryWindowBaseline(size: W1Workload.windowSize)
            for batch in w1Batches { baseline.process(batch) }
            baseline.finish()
            blackHole(baseline.checksum)
        }
    }

    // W2 with one and two workers (threads with their own consumers on disjoint partitions) on the embedded
    // broker, producing excluded: the custom metric is (b) consume + decode + windows in readings/s. Compare the
    // two in the same run; `vigil-bench e2e --workers 1,2` prints the ratio.
    for workers in [1, 2] {
        Benchmark(
            "W2_consumeDecodeWindows_\(workers)worker\(workers == 1 ? "" : "s")_400k",
            configuration: .init(
                metrics: [.wallClock, .custom("readings_per_s", polarity: .prefersLarger, useScalingFactor: false)], maxIterations: 3)
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                let o = try E2EBenchmark.run(records: 400_000, partitions: 16, passes: 1, workers: [workers])[0]
                benchmark.measurement(.custom("readings_per_s", polarity: .prefersLarger, useScalingFactor: false), Int(o.fullPerSecond))
            }
        }
    }

    // W3: reading-to-alert latency at 100 k readings/s through the job (default settings), µs percentiles as
    // custom metrics; `vigil-bench latency` runs all rates and the window-close path.
    Benchmark(
        "W3_readingToAlert_100k",
        configuration: .init(
            metrics: [
                .custom("alert_p50_us", useScalingFactor: false), .custom("alert_p99_us", useScalingFactor: false),
                .custom("alert_max_us", useScalingFactor: false),
            ], maxDuration: .seconds(60), maxIterations: 1)
    ) { benchmark in
        var options = LatencyBenchmark.Options()
        options.rates = [100_000]
        options.findMaximum = false
        let point = try await LatencyBenchmark.run(options).points[0]
        benchmark.measurement(.custom("alert_p50_us", useScalingFactor: false), Int(point.alerts.p50 * 1_000))
        benchmark.measurement(.custom("alert_p99_us", useScalingFactor: false), Int(point.alerts.p99 * 1_000))
        benchmark.measurement(.custom("alert_max_us", useScalingFactor: false), Int(point.alerts.max * 1_000))
    }

    // Steady state per batch: one 8,192-reading batch into windows that are already open.
    // Expected 0 allocations: this is the "zero allocations per record" gate.
    let steady = W1Workload(records: 40_000 * 30).makeBatches()
    let op = PaneWindowOperator(spec: W1Workload.spec(), watermark: Watermark(outOfOrderness: 0), expectedSensors: 40_000)
    var output = WindowResults()
    output.reserve(100_000)
    var late = LateRecords()
    late.indices.reserveCapacity(1_000)
    for batch in steady.prefix(100) { op.process(batch, into: &output, late: &late) }
    nonisolated(unsafe) var next = 100
    Benchmark(
        "W1_processBatch_8k_steadyState",
        configuration: .init(
            metrics: [.mallocCountTotal, .wallClock], maxIterations: 40, thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            benchmark.startMeasurement()
            op.process(steady[next], into: &output, late: &late)
            benchmark.stopMeasurement()
            next += 1
            output.removeAll()
        }
    }
}
