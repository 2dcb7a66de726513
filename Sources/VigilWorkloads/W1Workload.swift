public import VigilCore

/// Workload W1, the window-engine benchmark (same shape as `shared/bench/w1-data.py`).
///
/// 2,000 enterprises × 20 sensors = 40,000 sensors, one reading per sensor per second, in event-time
/// order: second `s`, then sensor `k`, at `(T0 + s)·1000 + k / 40` ms. Values are a per-sensor Gaussian
/// random walk (start uniform in 15…25, steps N(0, 0.1)). Windows: 60 s tumbling, count, mean, min, max,
/// standard deviation per sensor. Sensor slot = `k`, enterprise slot = `k / 20`.
public struct W1Workload: Sendable {
    public static let enterprises = 2_000
    public static let sensorsPerEnterprise = 20
    public static let sensors = enterprises * sensorsPerEnterprise
    /// Epoch seconds, a multiple of 60 so windows align with the data.
    public static let t0: Int64 = 1_700_000_040
    public static let windowSize: Int64 = 60_000

    public let records: Int
    public let batchSize: Int
    public let seed: UInt64

    public init(records: Int = 10_000_000, batchSize: Int = 8_192, seed: UInt64 = 20_240_601) {
        self.records = records
        self.batchSize = batchSize
        self.seed = seed
    }

    /// The window spec of W1 (`quantiles: true` adds p95 and EWMA: the W1-quantiles variant).
    public static func spec(quantiles: Bool = false) -> WindowSpec {
        WindowSpec(
            kind: .tumbling(size: windowSize),
            statistics: quantiles ? StatisticSet.basic.union([.p95, .ewma]) : .basic
        )
    }

    /// Generates the readings as batches of `batchSize` (generation is not part of any measurement).
    public func makeBatches() -> [ReadingBatch] {
        var rng = SplitMix64(seed: seed)
        let k = Self.sensors
        var current = (0..<k).map { _ in 15 + 10 * rng.nextUnit() }
        var batches: [ReadingBatch] = []
        batches.reserveCapacity(records / batchSize + 1)
        var batch = ReadingBatch(capacity: batchSize)
        var produced = 0
        var second: Int64 = 0
        outer: while true {
            for sensor in 0..<k {
                if produced == records { break outer }
                if second > 0 { current[sensor] += 0.1 * rng.nextGaussian() }
                let ts = (Self.t0 + second) * 1000 + Int64(sensor / 40)
                batch.append(
                    eventTime: ts, sensor: UInt32(sensor), enterprise: UInt32(sensor / Self.sensorsPerEnterprise),
                    value: current[sensor], offset: Int64(produced)
                )
                produced += 1
                if batch.count == batchSize {
                    batches.append(batch)
                    batch = ReadingBatch(capacity: batchSize)
                }
            }
            second += 1
        }
        if !batch.isEmpty { batches.append(batch) }
        return batches
    }
}
