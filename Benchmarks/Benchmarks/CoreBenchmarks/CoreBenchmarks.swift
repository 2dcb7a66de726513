import Benchmark
import VigilCore
import VigilSimulator
import VigilTesting

// W1 through the window engine, and the same readings through the naive reference, measured in the same run.
// Throughput is reported per reading (scalingFactor .mega: one "iteration" = 1 M readings); the gate is on
// allocations, which are deterministic (wall clock on these shared machines is not).

let w1Records = 1_000_000
let w1Batches = W1Workload(records: w1Records).makeBatches()
let referenceRecords = 200_000
let referenceBatches = W1Workload(records: referenceRecords).makeBatches()

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

    // The naive reference (dictionaries of arrays, statistics recomputed per emission) on 200 k readings;
    // compare per-reading time with W1_windowEngine_1M / 5.
    Benchmark(
        "W1_naiveReference_200k",
        configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(10), maxIterations: 3)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            let engine = ReferenceWindowEngine(spec: W1Workload.spec(), outOfOrderness: 0)
            for batch in referenceBatches {
                for i in 0..<batch.count {
                    engine.process(
                        time: batch.eventTime[i], sensor: batch.sensor[i], enterprise: batch.enterprise[i],
                        value: batch.value[i]
                    )
                }
            }
            engine.finish()
            blackHole(engine.rows.count)
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
        configuration: .init(metrics: [.mallocCountTotal, .wallClock], maxIterations: 40, thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])
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
