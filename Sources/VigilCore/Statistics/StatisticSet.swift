/// Which statistics a window computes. Only the column groups a set needs are allocated and updated.
///
/// | statistic | meaning |
/// | --- | --- |
/// | `count` | number of readings (always computed) |
/// | `sum`, `mean` | sum and arithmetic mean |
/// | `variance`, `stddev` | population variance and standard deviation (Welford, mergeable) |
/// | `min`, `max` | smallest and largest value |
/// | `first`, `last` | value with the earliest / latest event time (ties: first / last to arrive) |
/// | `rateOfChange` | `(last - first) / (lastTime - firstTime)` per second; absent when both times are equal |
/// | `ewma` | time-decayed EWMA `Σ wᵢxᵢ / Σ wᵢ`, `wᵢ = 2^-(T - tᵢ)/halfLife` (order-independent, mergeable) |
/// | `p50`, `p95`, `p99` | quantiles from a mergeable relative-error sketch (``QuantileSketch``) |
public struct StatisticSet: OptionSet, Sendable, Hashable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let count = StatisticSet(rawValue: 1 << 0)
    public static let sum = StatisticSet(rawValue: 1 << 1)
    public static let mean = StatisticSet(rawValue: 1 << 2)
    public static let variance = StatisticSet(rawValue: 1 << 3)
    public static let stddev = StatisticSet(rawValue: 1 << 4)
    public static let min = StatisticSet(rawValue: 1 << 5)
    public static let max = StatisticSet(rawValue: 1 << 6)
    public static let first = StatisticSet(rawValue: 1 << 7)
    public static let last = StatisticSet(rawValue: 1 << 8)
    public static let rateOfChange = StatisticSet(rawValue: 1 << 9)
    public static let ewma = StatisticSet(rawValue: 1 << 10)
    public static let p50 = StatisticSet(rawValue: 1 << 11)
    public static let p95 = StatisticSet(rawValue: 1 << 12)
    public static let p99 = StatisticSet(rawValue: 1 << 13)

    /// count, mean, min, max, stddev: workload W1.
    public static let basic: StatisticSet = [.count, .mean, .min, .max, .stddev]
    /// Every statistic.
    public static let all = StatisticSet(rawValue: (1 << 14) - 1)

    /// The statistic names as written in pipeline files, in a fixed order.
    public static let names: [(String, StatisticSet)] = [
        ("count", .count), ("sum", .sum), ("mean", .mean), ("variance", .variance), ("stddev", .stddev),
        ("min", .min), ("max", .max), ("first", .first), ("last", .last), ("rate_of_change", .rateOfChange),
        ("ewma", .ewma), ("p50", .p50), ("p95", .p95), ("p99", .p99),
    ]

    /// Parses a statistic name as written in pipeline files (`"stddev"`, `"rate_of_change"`, …).
    public init?(name: String) {
        guard let entry = Self.names.first(where: { $0.0 == name }) else { return nil }
        self = entry.1
    }

    var needsMoments: Bool { !isDisjoint(with: [.sum, .mean, .variance, .stddev]) }
    var needsMinMax: Bool { !isDisjoint(with: [.min, .max]) }
    var needsFirstLast: Bool { !isDisjoint(with: [.first, .last, .rateOfChange]) }
    var needsEwma: Bool { contains(.ewma) }
    var needsSketch: Bool { !isDisjoint(with: [.p50, .p95, .p99]) }
}
