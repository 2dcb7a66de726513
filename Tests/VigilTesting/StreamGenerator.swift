import VigilCore

/// Generates randomized reading streams that stress window engines: out-of-order arrival, duplicates,
/// readings far behind the watermark, idle gaps, bursts that bridge sessions, and extreme but finite
/// values (1e-300 … 1e300, negative zero).
public struct StreamGenerator {
    public struct Options: Sendable {
        public var sensors: Int = 5
        public var records: Int = 200
        /// Mean spacing between readings of the stream, ms.
        public var step: Int64 = 700
        /// Maximum backwards jitter of an out-of-order reading, ms.
        public var jitter: Int64 = 3_000
        public var outOfOrderProbability = 0.2
        public var duplicateProbability = 0.05
        /// Probability of a reading far in the past (likely late).
        public var veryLateProbability = 0.03
        /// Probability of an idle gap (a long jump forward).
        public var gapProbability = 0.02
        public var gap: Int64 = 120_000
        public var extremeValues = true
        public init() {}
    }

    public struct Record: Sendable {
        public var time: Int64
        public var sensor: UInt32
        public var enterprise: UInt32
        public var value: Double
    }

    public static func generate(seed: UInt64, options o: Options) -> [Record] {
        var rng = TestRandom(seed: seed)
        var scales: [Double] = (0..<o.sensors).map { _ in
            guard o.extremeValues else { return 1 }
            let exponent = rng.double(in: -300...300)
            return (rng.bool(0.5) ? 1 : -1) * pow10(exponent)
        }
        if o.extremeValues && o.sensors > 1 { scales[0] = 1 }  // one sensor on an ordinary scale
        var out: [Record] = []
        var clock: Int64 = 1_700_000_000_000 + Int64(rng.int(in: 0...59_999))
        while out.count < o.records {
            if rng.bool(o.duplicateProbability), let previous = out.last {
                out.append(previous)
                continue
            }
            clock += Int64(rng.int(in: 0...Int(2 * o.step)))
            if rng.bool(o.gapProbability) { clock += o.gap }
            var t = clock
            if rng.bool(o.outOfOrderProbability) { t -= Int64(rng.int(in: 0...Int(o.jitter))) }
            if rng.bool(o.veryLateProbability) { t -= Int64(rng.int(in: 0...Int(10 * o.jitter + 60_000))) }
            let sensor = UInt32(rng.int(in: 0...(o.sensors - 1)))
            let scale = scales[Int(sensor)]
            var value = scale * (1 + 0.1 * rng.double(in: -1...1))
            if o.extremeValues {
                if rng.bool(0.01) { value = -0.0 }
                if rng.bool(0.01) { value = 0.0 }
            }
            out.append(Record(time: t, sensor: sensor, enterprise: sensor / 2, value: value))
        }
        return out
    }
}

func pow10(_ e: Double) -> Double {
    var r = 1.0
    var k = Int(e.rounded(.down))
    let frac = e - Double(k)
    r = exp2(frac * 3.321928094887362)
    while k > 0 {
        r *= 10
        k -= 1
    }
    while k < 0 {
        r /= 10
        k += 1
    }
    return r
}

#if canImport(Glibc)
    import Glibc
#endif

/// A deterministic generator for tests: ``SplitMix64`` with helpers for ranges and probabilities.
public struct TestRandom: RandomNumberGenerator {
    var base: SplitMix64
    public init(seed: UInt64) { base = SplitMix64(seed: seed &+ 0x1234_5678) }
    public mutating func next() -> UInt64 { base.next() }
    public mutating func unit() -> Double { base.nextUnit() }
    public mutating func bool(_ p: Double) -> Bool { unit() < p }
    public mutating func int(in r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
    public mutating func double(in r: ClosedRange<Double>) -> Double {
        r.lowerBound + (r.upperBound - r.lowerBound) * unit()
    }
}

@available(*, unavailable)
extension TestRandom: Sendable {}
@available(*, unavailable)
extension StreamGenerator: Sendable {}
