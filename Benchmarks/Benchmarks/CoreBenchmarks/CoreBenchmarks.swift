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
