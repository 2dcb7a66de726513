/// Why a window row was emitted.
public enum WindowRowKind: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// A periodic update of a window that is still open.
    case early = 0
    /// The watermark passed the window end.
    case onTime = 1
    /// Readings arrived within the allowed lateness after the window was emitted; this row replaces it.
    case revision = 2
    /// The only row of the window (``WindowSpec/EmitMode/final``).
    case final = 3

    public var description: String {
        switch self {
        case .early: "early"
        case .onTime: "on_time"
        case .revision: "revision"
        case .final: "final"
        }
    }
}

/// One emitted window row, for reading results one at a time (``WindowResults`` stores them as columns).
public struct WindowRow: Sendable, Hashable {
    public var kind: WindowRowKind
    public var windowStart: Int64
    public var windowEnd: Int64
    public var sensor: UInt32
    public var enterprise: UInt32
    public var count: Int64
    public var sum: Double
    public var mean: Double
    public var variance: Double
    public var min: Double
    public var max: Double
    public var firstTime: Int64
    public var first: Double
    public var lastTime: Int64
    public var last: Double
    public var ewma: Double
    public var p50: Double
    public var p95: Double
    public var p99: Double

    public init(
        kind: WindowRowKind, windowStart: Int64, windowEnd: Int64, sensor: UInt32, enterprise: UInt32, count: Int64, sum: Double, mean: Double,
        variance: Double, min: Double, max: Double, firstTime: Int64, first: Double, lastTime: Int64, last: Double, ewma: Double, p50: Double,
        p95: Double, p99: Double
    ) {
        self.kind = kind
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.sensor = sensor
        self.enterprise = enterprise
        self.count = count
        self.sum = sum
        self.mean = mean
        self.variance = variance
        self.min = min
        self.max = max
        self.firstTime = firstTime
        self.first = first
        self.lastTime = lastTime
        self.last = last
        self.ewma = ewma
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
    }

    /// Population standard deviation.
    public var stddev: Double { variance.squareRoot() }
    /// `(last - first)` per second, NaN when first and last share a time.
    public var rateOfChange: Double {
        lastTime > firstTime ? (last - first) * 1000 / Double(lastTime - firstTime) : .nan
    }
}

/// Window rows as struct-of-arrays columns, filled by window operators and drained by sinks.
///
/// Like ``ReadingBatch`` it is reused: ``removeAll()`` keeps capacity. Statistics a window did not
/// compute are NaN.
public struct WindowResults: Sendable {
    public var kind: [WindowRowKind] = []
    public var windowStart: [Int64] = []
    public var windowEnd: [Int64] = []
    public var sensor: [UInt32] = []
    public var enterprise: [UInt32] = []
    public var count: [Int64] = []
    public var sum: [Double] = []
    public var mean: [Double] = []
    public var variance: [Double] = []
    public var min: [Double] = []
    public var max: [Double] = []
    public var firstTime: [Int64] = []
    public var first: [Double] = []
    public var lastTime: [Int64] = []
    public var last: [Double] = []
    public var ewma: [Double] = []
    public var p50: [Double] = []
    public var p95: [Double] = []
    public var p99: [Double] = []

    public init() {}

    /// Number of rows.
    public var rowCount: Int { kind.count }

    /// Row `i` as a value.
    public subscript(i: Int) -> WindowRow {
        WindowRow(
            kind: kind[i], windowStart: windowStart[i], windowEnd: windowEnd[i], sensor: sensor[i],
            enterprise: enterprise[i], count: count[i], sum: sum[i], mean: mean[i], variance: variance[i],
            min: min[i], max: max[i], firstTime: firstTime[i], first: first[i], lastTime: lastTime[i],
            last: last[i], ewma: ewma[i], p50: p50[i], p95: p95[i], p99: p99[i]
        )
    }

    /// All rows as values (allocates; for tests and diagnostics).
    public var rows: [WindowRow] { (0..<rowCount).map { self[$0] } }

    /// Appends a row.

    public mutating func append(_ r: WindowRow) {
        kind.append(r.kind)
        windowStart.append(r.windowStart)
        windowEnd.append(r.windowEnd)
        sensor.append(r.sensor)
        enterprise.append(r.enterprise)
        count.append(r.count)
        sum.append(r.sum)
        mean.append(r.mean)
        variance.append(r.variance)
        min.append(r.min)
        max.append(r.max)
        firstTime.append(r.firstTime)
        first.append(r.first)
        lastTime.append(r.lastTime)
        last.append(r.last)
        ewma.append(r.ewma)
        p50.append(r.p50)
        p95.append(r.p95)
        p99.append(r.p99)
    }

    /// Appends a row built from an accumulator, keeping only the statistics in `statistics`.

    public mutating func append(
        kind: WindowRowKind, start: Int64, end: Int64, sensor: UInt32, enterprise: UInt32,
        _ a: StatAccumulator, statistics: StatisticSet
    ) {
        let nan = Double.nan
        let sketch = a.sketch
        append(
            WindowRow(
                kind: kind, windowStart: start, windowEnd: end, sensor: sensor, enterprise: enterprise,
                count: a.count,
                sum: statistics.contains(.sum) ? a.sum : nan,
                mean: statistics.contains(.mean) ? a.mean : nan,
                variance: statistics.isDisjoint(with: [.variance, .stddev]) ? nan : a.variance,
                min: statistics.contains(.min) ? a.min : nan,
                max: statistics.contains(.max) ? a.max : nan,
                firstTime: statistics.needsFirstLast ? a.firstTime : 0,
                first: statistics.needsFirstLast ? a.first : nan,
                lastTime: statistics.needsFirstLast ? a.lastTime : 0,
                last: statistics.needsFirstLast ? a.last : nan,
                ewma: statistics.contains(.ewma) ? a.ewma : nan,
                p50: statistics.contains(.p50) ? (sketch?.quantile(0.5) ?? nan) : nan,
                p95: statistics.contains(.p95) ? (sketch?.quantile(0.95) ?? nan) : nan,
                p99: statistics.contains(.p99) ? (sketch?.quantile(0.99) ?? nan) : nan
            )
        )
    }

    /// Removes every row but keeps the columns' capacity.
    public mutating func removeAll() {
        kind.removeAll(keepingCapacity: true)
        windowStart.removeAll(keepingCapacity: true)
        windowEnd.removeAll(keepingCapacity: true)
        sensor.removeAll(keepingCapacity: true)
        enterprise.removeAll(keepingCapacity: true)
        count.removeAll(keepingCapacity: true)
        sum.removeAll(keepingCapacity: true)
        mean.removeAll(keepingCapacity: true)
        variance.removeAll(keepingCapacity: true)
        min.removeAll(keepingCapacity: true)
        max.removeAll(keepingCapacity: true)
        firstTime.removeAll(keepingCapacity: true)
        first.removeAll(keepingCapacity: true)
        lastTime.removeAll(keepingCapacity: true)
        last.removeAll(keepingCapacity: true)
        ewma.removeAll(keepingCapacity: true)
        p50.removeAll(keepingCapacity: true)
        p95.removeAll(keepingCapacity: true)
        p99.removeAll(keepingCapacity: true)
    }
}

/// Readings that arrived too late for any window (after end + allowed lateness): reported, never dropped.
public struct LateRecords: Sendable {
    /// Indices into the batch passed to `process` of the readings that were late.
    public var indices: [Int32] = []
    /// Total number of late readings seen by the operator since it was created.
    public var total: Int64 = 0

    public init() {}

    /// Forgets the indices of the last batch (the running total stays).
    public mutating func removeAll() { indices.removeAll(keepingCapacity: true) }
}

extension WindowRow {
    /// A row of zeros (placeholder for buffers).
    public static let zero = WindowRow(
        kind: .onTime, windowStart: 0, windowEnd: 0, sensor: 0, enterprise: 0, count: 0, sum: 0, mean: 0,
        variance: 0, min: 0, max: 0, firstTime: 0, first: 0, lastTime: 0, last: 0, ewma: 0, p50: 0, p95: 0, p99: 0
    )
}

extension WindowResults {
    /// Reserves room for `n` rows in every column.
    public mutating func reserve(_ n: Int) {
        kind.reserveCapacity(n)
        windowStart.reserveCapacity(n)
        windowEnd.reserveCapacity(n)
        sensor.reserveCapacity(n)
        enterprise.reserveCapacity(n)
        count.reserveCapacity(n)
        sum.reserveCapacity(n)
        mean.reserveCapacity(n)
        variance.reserveCapacity(n)
        min.reserveCapacity(n)
        max.reserveCapacity(n)
        firstTime.reserveCapacity(n)
        first.reserveCapacity(n)
        lastTime.reserveCapacity(n)
        last.reserveCapacity(n)
        ewma.reserveCapacity(n)
        p50.reserveCapacity(n)
        p95.reserveCapacity(n)
        p99.reserveCapacity(n)
    }
}
