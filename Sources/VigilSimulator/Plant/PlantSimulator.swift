#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
public import VigilPipeline
import VigilCore

/// Simulates the monitoring points of a pipeline's sensor types for N enterprises, with injected incidents
/// and their ground truth. Deterministic for a seed: the same seed, start time and size give the same readings.
///
/// Normal behaviour per type: a baseline derived from the alarm levels (20 % of AL1 for rising alarms, 7 %
/// above AL1 for falling ones; without alarm levels a quarter into the instrument range, 25 °C for
/// temperatures), Gaussian noise, and a diurnal cycle for temperatures. Incidents (a few per hour per 100 sensors, chosen by the seed):
///
/// | kind | what happens |
/// | --- | --- |
/// | `gas_leak_ramp` | rises linearly to 1.3 × AL2 over the incident |
/// | `spike` | one reading at 1.5 × AL2 |
/// | `level_shift` | jumps to 1.1 × AL1 and stays |
/// | `slow_drift` | drifts to 1.05 × AL1 over the incident |
/// | `stuck` | repeats its last value exactly |
/// | `dropout` | sends nothing (offline) |
/// | `chattering` | alternates just above and below AL1 every reading |
/// | `instrument_fault` | reads 10 % of the span below the instrument range for 3–8 readings (a broken 4–20 mA loop; only when asked for, see `init`) |
public struct PlantSimulator: Sendable {
    public struct Point: Sendable, Hashable {
        public var sensor: String
        public var enterprise: String
        public var type: SensorTypeSpec
        /// The point's normal value and the standard deviation of its noise.
        public var baseline: Double
        public var noise: Double
        /// Where the incidents aim: AL1/AL2 or range-based stand-ins.
        var level1: Double
        var level2: Double
    }

    public struct Incident: Sendable, Hashable {
        public enum Kind: String, Sendable, CaseIterable {
            case gasLeakRamp = "gas_leak_ramp"
            case spike
            case levelShift = "level_shift"
            case slowDrift = "slow_drift"
            case stuck, dropout
            case chattering
            /// A value outside the instrument range (`DOMAIN.md` §5 FAULT): for the device-status rules, not the
            /// anomaly scores, so it is not among the `scheduled` kinds.
            case instrumentFault = "instrument_fault"

            /// The process and data incidents, injected in turn at `incidentsPerSensorHour`.
            public static let scheduled: [Kind] = [.gasLeakRamp, .spike, .levelShift, .slowDrift, .stuck, .dropout, .chattering]
        }
        public var kind: Kind
        public var sensor: String
        public var enterprise: String
        public var start: Int64
        public var end: Int64

        /// One JSON line of the ground-truth file.
        public var json: String {
            "{\"kind\":\"\(kind.rawValue)\",\"sensor\":\"\(sensor)\",\"enterprise\":\"\(enterprise)\",\"start\":\(start),\"end\":\(end)}"
        }
    }

    public let points: [Point]
    public let incidents: [Incident]
    public let start: Int64
    public let end: Int64
    public let period: Int64
    public let seed: UInt64

    /// - Parameters:
    ///   - types: The pipeline's sensor types (one point of each per enterprise).
    ///   - enterprises: Number of enterprises (`E0001`…).
    ///   - start: First event time (ms). - end: Event time after the last reading.
    ///   - period: Sampling period of every point (ms).
    ///   - incidentsPerSensorHour: Expected incidents per sensor and hour of event time.
    ///   - instrumentFaultsPerSensorHour: Expected instrument faults per sensor (with an instrument range) and
    ///     hour, drawn from their own random stream: the other incidents do not depend on it. Default none.
    public init(
        types: [SensorTypeSpec], enterprises: Int, start: Int64, end: Int64, period: Int64, seed: UInt64,
        incidentsPerSensorHour: Double = 0.05, instrumentFaultsPerSensorHour: Double = 0
    ) {
        var points: [Point] = []
        for e in 1...max(1, enterprises) {
            let enterprise = "E" + String(repeating: "0", count: max(0, 4 - String(e).count)) + String(e)
            for type in types {
                let match = type.match.first ?? "-\(type.name.uppercased())-"
                let sensor = enterprise + (match.hasPrefix("-") ? "" : "-") + match + (match.hasSuffix("-") ? "" : "-") + "001"
                // Types sharing a pattern (e.g. oxygen deficiency and enrichment on one O2 detector) are one
                // physical point; the first type sets its behaviour.
                if points.contains(where: { $0.sensor == sensor }) { continue }
                points.append(Self.point(sensor: sensor, enterprise: enterprise, type: type))
            }
        }
        var rng = SplitMix64(seed: seed)
        var incidents: [Incident] = []
        let hours = Double(max(0, end - start)) / 3_600_000
        let expected = incidentsPerSensorHour * hours * Double(points.count)
        let count = Int(expected.rounded(.down)) + (rng.nextUnit() < expected - expected.rounded(.down) ? 1 : 0)
        let span = max(1, end - start)
        for i in 0..<count {
            let point = points[Int(rng.next() % UInt64(points.count))]
            let kind = Incident.Kind.scheduled[i % Incident.Kind.scheduled.count]
            let length = kind == .spike ? period : Int64(Double(span) * (0.05 + 0.1 * rng.nextUnit()))
            let begin = start + Int64(Double(span - length) * rng.nextUnit())
            incidents.append(Incident(kind: kind, sensor: point.sensor, enterprise: point.enterprise, start: begin, end: begin + length))
        }
        let ranged = points.filter { $0.type.rangeMin != nil && $0.type.rangeMax != nil }
        if !ranged.isEmpty && instrumentFaultsPerSensorHour > 0 {
            var faults = SplitMix64(seed: seed ^ 0xFA17_0000)
            let expected = instrumentFaultsPerSensorHour * hours * Double(ranged.count)
            let count = Int(expected.rounded(.down)) + (faults.nextUnit() < expected - expected.rounded(.down) ? 1 : 0)
            for _ in 0..<count {
                let point = ranged[Int(faults.next() % UInt64(ranged.count))]
                let length = period * Int64(3 + faults.next() % 6)
                let begin = start + Int64(Double(max(0, span - length)) * faults.nextUnit())
                incidents.append(
                    Incident(kind: .instrumentFault, sensor: point.sensor, enterprise: point.enterprise, start: begin, end: begin + length))
            }
        }
        self.points = points
        self.incidents = incidents.sorted { a, b in a.start != b.start ? a.start < b.start : a.sensor < b.sensor }
        self.start = start
        self.end = end
        self.period = period
        self.seed = seed
    }

    static func point(sensor: String, enterprise: String, type: SensorTypeSpec) -> Point {
        let lo = type.rangeMin ?? 0
        let hi = type.rangeMax ?? max(lo + 100, (type.alarm2 ?? type.alarm1 ?? 100) * 2)
        var baseline = type.unit == "degC" && lo <= 25 && hi >= 25 ? 25 : lo + 0.25 * (hi - lo)
        var level1 = lo + 0.8 * (hi - lo)
        var level2 = lo + 0.9 * (hi - lo)
        if let a1 = type.alarm1 {
            level1 = a1
            level2 = type.alarm2 ?? (type.direction == .high ? a1 * 1.5 : a1 * 0.8)
            baseline = type.direction == .high ? max(lo, a1 * 0.2) : a1 * 1.07
        } else if let sides = type.sides, !sides.high.isNaN {
            // Two-sided (oxygen): normal between L and H, incidents aim upwards.
            baseline = sides.low.isNaN ? max(lo, sides.high * 0.2) : (sides.low + sides.high) / 2
            level1 = sides.high
            level2 = sides.highHigh.isNaN ? sides.high + (sides.high - baseline) : sides.highHigh
        }
        let noise = max(abs(level1 - baseline) * 0.03, (hi - lo) * 0.002)
        return Point(sensor: sensor, enterprise: enterprise, type: type, baseline: baseline, noise: noise, level1: level1, level2: level2)
    }

    /// Setpoint records (`safety.setpoints.v1`) for the points of sensor types with `setpoints: true`: H and HH
    /// where the incidents aim (the type's levels, or 80 % and 90 % into the instrument range), L and LL at 10 %
    /// and 5 % into the range, and a major-hazard grade 1–4 per point. Deterministic for the seed.
    public func setpointRecords() -> [(sensor: String, json: String)] {
        var rng = SplitMix64(seed: seed ^ 0x5E79)
        return points.filter(\.type.setpoints).map { point in
            let lo = point.type.rangeMin ?? 0
            let hi = point.type.rangeMax ?? max(lo + 100, point.level2 * 1.2)
            let grade = 1 + rng.next() % 4
            let json =
                "{\"enterprise\":\"\(point.enterprise)\",\"sensor\":\"\(point.sensor)\",\"h\":\(point.level1),\"hh\":\(point.level2),"
                + "\"l\":\(lo + 0.1 * (hi - lo)),\"ll\":\(lo + 0.05 * (hi - lo)),\"major_hazard_grade\":\(grade)}"
            return (point.sensor, json)
        }
    }

    /// Calls `emit` for every reading with event time in `[from, to)`, in time order; stops at the first
    /// error `emit` throws, and throws it.
    public func readings<E: Error>(from: Int64, to: Int64, _ emit: (Point, Int64, Double) throws(E) -> Void) throws(E) {
        var t = max(start, from - ((from - start) % period + period) % period)
        if t < from { t += period }
        while t < min(to, end) {
            for (i, point) in points.enumerated() {
                if let v = value(of: point, index: i, at: t) { try emit(point, t, v) }
            }
            t += period
        }
    }

    /// The value of `point` at `t`, or nil while it is offline.
    func value(of point: Point, index: Int, at t: Int64) -> Double? {
        let timeBits = UInt64(bitPattern: t) &* 0x9E37_79B9
        let indexBits = UInt64(index) &* 0x85EB_CA6B
        var rng = SplitMix64(seed: seed ^ timeBits ^ indexBits)
        var v = point.baseline + point.noise * rng.nextGaussian()
        if point.type.unit == "degC" {
            let phase = Double(t % 86_400_000) / 86_400_000
            v += 3 * sin(2 * Double.pi * phase)
        }
        let up = point.type.direction == .high ? 1.0 : -1.0
        for incident in incidents where incident.sensor == point.sensor && t >= incident.start && t < incident.end {
            let progress = Double(t - incident.start) / Double(max(1, incident.end - incident.start))
            switch incident.kind {
            case .gasLeakRamp: v = point.baseline + (point.level2 * (1 + 0.3 * up) - point.baseline) * progress
            case .spike: v = point.level2 + up * abs(point.level2) * 0.5
            case .levelShift: v = point.level1 + up * abs(point.level1) * 0.1 + point.noise * rng.nextGaussian()
            case .slowDrift: v = point.baseline + (point.level1 * (1 + 0.05 * up) - point.baseline) * progress
            case .stuck: v = point.baseline
            case .dropout: return nil
            case .chattering:
                let side: Double = ((t - incident.start) / period) % 2 == 0 ? 1 : -1
                v = point.level1 + up * side * max(point.noise, abs(point.level1) * 0.02)
            case .instrumentFault: continue
            }
        }
        if let lo = point.type.rangeMin { v = max(lo, v) }
        if let hi = point.type.rangeMax { v = min(hi, v) }
        // A broken loop reads below the range whatever the process does.
        if let lo = point.type.rangeMin, let hi = point.type.rangeMax,
            incidents.contains(where: { $0.kind == .instrumentFault && $0.sensor == point.sensor && t >= $0.start && t < $0.end })
        {
            v = lo - 0.1 * (hi - lo)
        }
        return v
    }
}
