#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import VigilCore

/// A deterministic stream of plant readings for a few enterprises, with injected incidents.
///
/// Each enterprise has a set of monitoring points of the configured ``SensorType``s, sampled every
/// `period` ms with Gaussian noise (and a diurnal cycle for temperatures). Incidents modify one sensor's
/// values over a time range; the ground truth lists them.
public struct PlantStream: Sendable {
    /// An injected incident on one sensor.
    public struct Incident: Sendable, Hashable {
        public enum Kind: String, Sendable {
            /// Gas concentration ramps up linearly to `magnitude` above baseline.
            case gasLeakRamp = "gas_leak_ramp"
            /// A single reading `magnitude` above baseline.
            case spike
            /// The sensor repeats its last value (stuck).
            case stuck
        }

        public var kind: Kind
        public var sensor: String
        public var start: Int64
        public var end: Int64
        public var magnitude: Double

        public init(kind: Kind, sensor: String, start: Int64, end: Int64, magnitude: Double) {
            self.kind = kind
            self.sensor = sensor
            self.start = start
            self.end = end
            self.magnitude = magnitude
        }
    }

    public struct Point: Sendable {
        public var sensor: String
        public var enterprise: String
        public var type: SensorType
    }

    public let points: [Point]
    public let incidents: [Incident]
    public let start: Int64
    public let period: Int64
    public let seed: UInt64

    /// Creates a stream.
    ///
    /// - Parameters:
    ///   - enterprises: Number of enterprises (`E0001` …).
    ///   - types: Sensor types per enterprise, one point each.
    ///   - start: First event time (ms since epoch).
    ///   - period: Sampling period in ms.
    ///   - incidents: Injected incidents.
    public init(
        enterprises: Int, types: [SensorType] = SensorType.allCases, start: Int64, period: Int64 = 1_000,
        incidents: [Incident] = [], seed: UInt64 = 42
    ) {
        var points: [Point] = []
        for e in 1...max(1, enterprises) {
            let enterprise = "E" + String(repeating: "0", count: max(0, 4 - String(e).count)) + String(e)
            for (i, type) in types.enumerated() {
                points.append(Point(sensor: "\(enterprise)-\(type.tag)-\(101 + i)", enterprise: enterprise, type: type))
            }
        }
        self.points = points
        self.incidents = incidents
        self.start = start
        self.period = period
        self.seed = seed
    }

    /// Appends the readings of `[from, to)` (event time) to `batch`, interning ids into the two interners.
    public func fill(
        _ batch: inout ReadingBatch, from: Int64, to: Int64, sensors: inout KeyInterner, enterprises: inout KeyInterner
    ) {
        let slots = points.map { (sensors.intern($0.sensor), enterprises.intern($0.enterprise)) }
        var t = EventTime.alignUp(from - start, period) + start
        while t < to {
            var rng = SplitMix64(seed: seed ^ UInt64(bitPattern: t))
            for (i, point) in points.enumerated() {
                let (base, noise) = point.type.baseline
                var value = base + noise * rng.nextGaussian()
                if point.type == .tankTemperature {
                    value += 3 * sin(2 * Double.pi * Double(t % 86_400_000) / 86_400_000)
                }
                for incident in incidents where incident.sensor == point.sensor && t >= incident.start && t < incident.end {
                    switch incident.kind {
                    case .gasLeakRamp:
                        value += incident.magnitude * Double(t - incident.start) / Double(incident.end - incident.start)
                    case .spike:
                        if t - incident.start < period { value += incident.magnitude }
                    case .stuck:
                        value = base
                    }
                }
                batch.append(eventTime: t, sensor: slots[i].0, enterprise: slots[i].1, value: value)
            }
            t += period
        }
    }
}
