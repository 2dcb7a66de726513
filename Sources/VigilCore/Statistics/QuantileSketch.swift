#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A mergeable quantile sketch with a relative-error guarantee (the DDSketch design).
///
/// Values are counted in logarithmic buckets: bucket `i` holds magnitudes in `(γ^(i-1), γ^i]` with
/// `γ = (1 + α) / (1 - α)`. A quantile estimate is the bucket's representative `2γ^i / (γ + 1)`, which is
/// within relative error `α` of the exact item at rank `⌊q·(n - 1)⌋`. Negative values use a mirrored store;
/// magnitudes below `Double.leastNormalMagnitude · γ` count as zero. Two sketches with the same `α` merge
/// exactly (bucket counts add), so panes merge into hopping windows without losing the guarantee.
///
/// Storage is dense over the range of bucket indices seen; ``reset()`` keeps it, so a sketch reused
/// across windows stops allocating once its range has settled.
public struct QuantileSketch: Sendable {
    /// The relative accuracy α (default 0.01, i.e. 1 %).
    public let relativeAccuracy: Double
    let gamma: Double
    let multiplier: Double  // 1 / ln γ
    var positive = _BucketStore()
    var negative = _BucketStore()
    /// Number of values counted as zero.
    public private(set) var zeroCount: UInt64 = 0
    /// Total number of values added.
    public private(set) var count: UInt64 = 0
    /// Smallest value added (estimates are clamped to `[min, max]`).
    public private(set) var min: Double = .infinity
    /// Largest value added.
    public private(set) var max: Double = -.infinity

    static let minIndexable = Double.leastNormalMagnitude * 1.1

    /// Creates an empty sketch.
    ///
    /// - Parameter relativeAccuracy: α in `(0, 1)`; 0.01 keeps estimates within 1 %.
    public init(relativeAccuracy: Double = 0.01) {
        precondition(relativeAccuracy > 0 && relativeAccuracy < 1, "QuantileSketch: relativeAccuracy must be in (0, 1)")
        self.relativeAccuracy = relativeAccuracy
        self.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
        self.multiplier = 1 / log(gamma)
    }

    /// Whether no value was added.
    public var isEmpty: Bool { count == 0 }

    @inline(__always)
    func index(_ magnitude: Double) -> Int32 {
        Int32(ceil(log(magnitude) * multiplier))
    }

    func value(_ index: Int32) -> Double {
        2 * pow(gamma, Double(index)) / (gamma + 1)
    }

    /// Adds one value. Non-finite values are ignored (callers filter them before statistics).
    ///
    /// - Complexity: O(1) amortized; allocates only when the value extends the bucket range.

    public mutating func add(_ x: Double) {
        guard x.isFinite else { return }
        count &+= 1
        if x < min { min = x }
        if x > max { max = x }
        if x >= Self.minIndexable {
            positive.add(index: index(x), count: 1)
        } else if x <= -Self.minIndexable {
            negative.add(index: index(-x), count: 1)
        } else {
            zeroCount &+= 1
        }
    }

    /// Adds every count of `other` (which must use the same relative accuracy).
    public mutating func merge(_ other: QuantileSketch) {
        precondition(other.relativeAccuracy == relativeAccuracy, "QuantileSketch: cannot merge sketches of different accuracy")
        guard other.count > 0 else { return }
        count &+= other.count
        zeroCount &+= other.zeroCount
        if other.min < min { min = other.min }
        if other.max > max { max = other.max }
        positive.merge(other.positive)
        negative.merge(other.negative)
    }

    /// Removes every value but keeps the allocated buckets.
    public mutating func reset() {
        positive.reset()
        negative.reset()
        zeroCount = 0
        count = 0
        min = .infinity
        max = -.infinity
    }

    /// The estimated `q`-quantile (`q` in `[0, 1]`), or `nil` for an empty sketch.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let q = Swift.min(Swift.max(q, 0), 1)
        let rank = q * Double(count - 1)
        var seen: UInt64 = 0
        var result: Double? = nil
        // Most negative first: the negative store walked from the largest magnitude down.
        negative.forEachDescending { index, c in
            seen &+= c
            if Double(seen) > rank {
                result = -value(index)
                return false
            }
            return true
        }
        if result == nil {
            seen &+= zeroCount
            if Double(seen) > rank { result = 0 }
        }
        if result == nil {
            positive.forEachAscending { index, c in
                seen &+= c
                if Double(seen) > rank {
                    result = value(index)
                    return false
                }
                return true
            }
        }
        let estimate = result ?? max
        return Swift.min(Swift.max(estimate, min), max)
    }
}

/// Dense bucket counts over a contiguous range of indices `[offset, offset + counts.count)`.

struct _BucketStore: Sendable {
    var counts: [UInt64] = []
    var offset: Int32 = 0
    /// Lowest and highest non-empty index (valid when `total > 0`).
    var lo: Int32 = 0
    var hi: Int32 = 0
    var total: UInt64 = 0

    init() {}

    @inline(__always)
    mutating func add(index: Int32, count c: UInt64) {
        let rel = Int(index) - Int(offset)
        if rel >= 0 && rel < counts.count {
            counts[rel] &+= c
        } else {
            grow(toInclude: index)
            counts[Int(index) - Int(offset)] &+= c
        }
        if total == 0 {
            lo = index
            hi = index
        } else {
            if index < lo { lo = index }
            if index > hi { hi = index }
        }
        total &+= c
    }

    mutating func grow(toInclude index: Int32) {
        if counts.isEmpty {
            // Start with a small window centred on the first index: typical sensor windows span a few dozen buckets.
            let width = 64
            counts = Array(repeating: 0, count: width)
            offset = index - Int32(width / 2)
            return
        }
        let newLo = Swift.min(Int(index), Int(offset))
        let newHi = Swift.max(Int(index), Int(offset) + counts.count - 1)
        // Grow geometrically, extending on the side that needs it.
        let needed = newHi - newLo + 1
        let width = Swift.max(needed, counts.count * 2)
        let slack = width - needed
        let start = Int(index) < Int(offset) ? newLo - slack : newLo
        var fresh = [UInt64](repeating: 0, count: width)
        let shift = Int(offset) - start
        for i in 0..<counts.count where counts[i] != 0 { fresh[i + shift] = counts[i] }
        counts = fresh
        offset = Int32(start)
    }

    mutating func merge(_ other: _BucketStore) {
        guard other.total > 0 else { return }
        for index in other.lo...other.hi {
            let c = other.counts[Int(index) - Int(other.offset)]
            if c != 0 { add(index: index, count: c) }
        }
    }

    mutating func reset() {
        if total > 0 {
            for index in lo...hi { counts[Int(index) - Int(offset)] = 0 }
        }
        total = 0
    }

    func forEachAscending(_ body: (Int32, UInt64) -> Bool) {
        guard total > 0 else { return }
        for index in lo...hi {
            let c = counts[Int(index) - Int(offset)]
            if c != 0 && !body(index, c) { return }
        }
    }

    func forEachDescending(_ body: (Int32, UInt64) -> Bool) {
        guard total > 0 else { return }
        for index in (lo...hi).reversed() {
            let c = counts[Int(index) - Int(offset)]
            if c != 0 && !body(index, c) { return }
        }
    }
}

// MARK: - Snapshot

extension QuantileSketch {
    /// Appends the sketch's state (counts, extremes, non-empty bucket ranges).
    public func write(to w: inout SnapshotWriter) {
        w.u64(count)
        w.u64(zeroCount)
        w.f64(min)
        w.f64(max)
        for store in [positive, negative] {
            w.u64(store.total)
            guard store.total > 0 else { continue }
            w.u32(UInt32(bitPattern: store.lo))
            w.u32(UInt32(bitPattern: store.hi))
            for index in store.lo...store.hi { w.u64(store.counts[Int(index) - Int(store.offset)]) }
        }
    }

    /// Reads a sketch written by ``write(to:)`` (with the same relative accuracy).
    public init(reading r: inout SnapshotReader, relativeAccuracy: Double) throws(SnapshotError) {
        self.init(relativeAccuracy: relativeAccuracy)
        count = try r.u64()
        zeroCount = try r.u64()
        min = try r.f64()
        max = try r.f64()
        for which in 0..<2 {
            let total = try r.u64()
            guard total > 0 else { continue }
            let lo = Int32(bitPattern: try r.u32())
            let hi = Int32(bitPattern: try r.u32())
            guard lo <= hi, Int(hi) - Int(lo) < 1 << 20 else { throw SnapshotError("quantile sketch bucket range \(lo)…\(hi) is invalid") }
            for index in lo...hi {
                let c = try r.u64()
                if c > 0 {
                    if which == 0 { positive.add(index: index, count: c) } else { negative.add(index: index, count: c) }
                }
            }
        }
    }
}
