#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Rolling statistics of one key, as a mergeable value.
///
/// Moments use Welford's update and Chan's parallel merge, so two accumulators over disjoint sets of
/// readings merge into exactly what one accumulator over their union would hold (up to rounding). The
/// window engine keeps the same statistics as struct-of-arrays columns for speed; this type is used
/// where state is per key and sparse (session windows, rolling views, merges) and to read results.
public struct StatAccumulator: Sendable {
    /// Number of readings.
    public var count: Int64 = 0
    /// Arithmetic mean (0 when empty).
    public var mean: Double = 0
    /// Sum of squared deviations from the mean (Welford's M2).
    public var m2: Double = 0
    /// Smallest value (`+inf` when empty).
    public var min: Double = .infinity
    /// Largest value (`-inf` when empty).
    public var max: Double = -.infinity
    /// Event time and value of the earliest reading (ties: first to arrive).
    public var firstTime: Int64 = .max
    public var first: Double = .nan
    /// Event time and value of the latest reading (ties: last to arrive).
    public var lastTime: Int64 = .min
    public var last: Double = .nan
    /// Time-decayed EWMA numerator and denominator, relative to ``ewmaReference``.
    public var ewmaNumerator: Double = 0
    public var ewmaDenominator: Double = 0
    /// The reference time of the EWMA sums: the latest event time added.
    public var ewmaReference: Int64 = .min
    /// Quantile sketch, present when the statistics asked for quantiles.
    public var sketch: QuantileSketch?

    /// Creates an empty accumulator.
    ///
    /// - Parameter quantiles: Whether to keep a ``QuantileSketch`` (with relative accuracy `accuracy`).
    public init(quantiles: Bool = false, accuracy: Double = 0.01) {
        sketch = quantiles ? QuantileSketch(relativeAccuracy: accuracy) : nil
    }

    /// Adds one reading.
    ///
    /// - Parameters:
    ///   - time: Event time in ms.
    ///   - value: The value.
    ///   - ewmaInverseHalfLife: `1 / halfLife` in 1/ms, or 0 to skip the EWMA.

    public mutating func add(time: Int64, value x: Double, ewmaInverseHalfLife: Double = 0) {
        count += 1
        let d = x - mean
        mean += d / Double(count)
        m2 += d * (x - mean)
        if x < min { min = x }
        if x > max { max = x }
        if time < firstTime {
            firstTime = time
            first = x
        }
        if time >= lastTime {
            lastTime = time
            last = x
        }
        if ewmaInverseHalfLife > 0 {
            if count == 1 {
                ewmaReference = time
                ewmaNumerator = x
                ewmaDenominator = 1
            } else if time > ewmaReference {
                let scale = exp2(Double(ewmaReference - time) * ewmaInverseHalfLife)
                ewmaNumerator = ewmaNumerator * scale + x
                ewmaDenominator = ewmaDenominator * scale + 1
                ewmaReference = time
            } else {
                let w = exp2(Double(time - ewmaReference) * ewmaInverseHalfLife)
                ewmaNumerator += w * x
                ewmaDenominator += w
            }
        }
        sketch?.add(x)
    }

    /// Adds everything `other` holds (a disjoint set of readings of the same key).
    public mutating func merge(_ other: StatAccumulator, ewmaInverseHalfLife: Double = 0) {
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        let n = count + other.count
        let delta = other.mean - mean
        let na = Double(count)
        let nb = Double(other.count)
        let nt = Double(n)
        mean = (na * mean + nb * other.mean) / nt
        if !mean.isFinite { mean = self.mean + delta * (nb / nt) }
        m2 = m2 + other.m2 + delta * delta * (na * nb / nt)
        count = n
        if other.min < min { min = other.min }
        if other.max > max { max = other.max }
        if other.firstTime < firstTime {
            firstTime = other.firstTime
            first = other.first
        }
        if other.lastTime >= lastTime {
            lastTime = other.lastTime
            last = other.last
        }
        if ewmaInverseHalfLife > 0 {
            let reference = Swift.max(ewmaReference, other.ewmaReference)
            let a = exp2(Double(ewmaReference - reference) * ewmaInverseHalfLife)
            let b = exp2(Double(other.ewmaReference - reference) * ewmaInverseHalfLife)
            ewmaNumerator = ewmaNumerator * a + other.ewmaNumerator * b
            ewmaDenominator = ewmaDenominator * a + other.ewmaDenominator * b
            ewmaReference = reference
        }
        if let o = other.sketch { sketch?.merge(o) }
    }

    /// Sum of the values.
    public var sum: Double { mean * Double(count) }
    /// Population variance (NaN when empty).
    public var variance: Double { count > 0 ? Swift.max(0, m2 / Double(count)) : .nan }
    /// Population standard deviation (NaN when empty).
    public var stddev: Double { variance.squareRoot() }
    /// `(last - first)` per second between the earliest and latest reading; NaN if they share a time.
    public var rateOfChange: Double {
        lastTime > firstTime ? (last - first) * 1000 / Double(lastTime - firstTime) : .nan
    }
    /// The time-decayed EWMA (NaN when not computed or empty).
    public var ewma: Double { ewmaDenominator > 0 ? ewmaNumerator / ewmaDenominator : .nan }
}
