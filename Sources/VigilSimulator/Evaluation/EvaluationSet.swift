import VigilCore

/// A labelled set of time series for evaluating anomaly detectors on data that is *not* the plant simulator's:
/// cadences from 1 s to 1 h, regular, jittered and Poisson timestamps, short missing stretches, daily and weekly
/// cycles, trends, correlated, quantised and flat signals, Gaussian, Laplace and Student-t noise, with labelled
/// anomalies (spikes, level shifts, variance changes, drifts, flatlines, dropouts) and series with none at all.
///
/// Generated deterministically from a seed: the same seed gives the same series on every machine
/// (``SplitMix64``, no platform random source). ``EvaluationSet/Series/csv`` writes one as `timestamp,value`.
public enum EvaluationSet: Sendable {
    public enum AnomalyKind: String, Sendable, Hashable, CaseIterable {
        case spike, levelShift = "level_shift", varianceChange = "variance_change", drift, flatline, dropout
    }

    /// One labelled anomaly: its kind, the row where it starts (for a dropout, the first row after the gap) and
    /// the rows of its scoring window.
    public struct Anomaly: Sendable, Hashable {
        public var kind: AnomalyKind
        public var onset: Int
        public var window: Range<Int>
    }

    public struct Series: Sendable {
        public var name: String
        /// The nominal cadence (ms).
        public var cadence: Int64
        public var times: [Int64] = []
        public var values: [Double] = []
        public var anomalies: [Anomaly] = []
        public var count: Int { times.count }

        /// The series as `timestamp,value` CSV (epoch milliseconds), the input of `vigil score-csv`.
        public var csv: String {
            var out = "timestamp,value\n"
            out.reserveCapacity(count * 24)
            for i in 0..<count { out += "\(times[i]),\(values[i])\n" }
            return out
        }

        /// The labels as CSV: kind, onset row, window start and end rows (end exclusive; rows count from 0).
        public var labelsCSV: String {
            "kind,onset,window_start,window_end\n"
                + anomalies.map { "\($0.kind.rawValue),\($0.onset),\($0.window.lowerBound),\($0.window.upperBound)\n" }.joined()
        }
    }

    enum Noise: String { case gaussian, laplace, studentT = "t3" }
    enum Timing: String { case regular, jittered, poisson }

    /// The recipe of one series.
    struct Recipe {
        var cadence: Int64
        var count: Int
        var noise = Noise.gaussian
        var sigma = 1.0
        var level = 50.0
        /// Amplitude of the daily cycle (peak at 14:00 local), and the weekend level offset.
        var daily = 0.0
        var weekend = 0.0
        var trendPerDay = 0.0
        /// AR(1) coefficient of the noise (0: white).
        var ar = 0.0
        /// Round values to this step (0: no rounding).
        var quantum = 0.0
        /// The value stays exactly at `level` from 22:00 to 06:00 (a unit shut down at night).
        var flatNights = false
        var timing = Timing.regular
        /// Probability per reading that a short stretch (1–3 readings) is missing.
        var missing = 0.0
        var anomalies: [AnomalyKind] = []
    }

    /// Cadences and lengths: 1 s to 1 h, spans from 1.4 hours to 125 days.
    static let cadences: [(Int64, Int)] = [(1_000, 5_000), (10_000, 5_000), (60_000, 6_000), (300_000, 6_000), (900_000, 4_000), (3_600_000, 3_000)]

    /// The recipes: three kinds of clean series and five of anomalous ones, at every cadence (48 series).
    static func recipes() -> [(String, Recipe)] {
        var out: [(String, Recipe)] = []
        for (cadence, count) in cadences {
            let c = cadence >= 3_600_000 ? "\(cadence / 3_600_000)h" : cadence >= 60_000 ? "\(cadence / 60_000)m" : "\(cadence / 1_000)s"
            let long = Int64(count) * cadence >= 3 * 86_400_000
            let weeks = Int64(count) * cadence >= 21 * 86_400_000
            var r = Recipe(cadence: cadence, count: count)
            // Clean: white noise with a trend; a daily (and weekly) cycle with Laplace noise, jitter and gaps;
            // a quantised correlated signal with heavy tails (flat at night where the span allows), Poisson times.
            var clean0 = r
            clean0.trendPerDay = 2
            out.append(("clean-white-\(c)", clean0))
            var clean1 = r
            clean1.noise = .laplace
            clean1.daily = 8
            clean1.weekend = weeks ? -3 : 0
            clean1.timing = .jittered
            clean1.missing = 0.005
            out.append(("clean-daily-\(c)", clean1))
            var clean2 = r
            clean2.noise = .studentT
            clean2.ar = 0.8
            clean2.quantum = 0.5
            clean2.daily = long ? 6 : 0
            clean2.flatNights = long
            clean2.timing = .poisson
            out.append(("clean-quantised-\(c)", clean2))
            // Anomalous.
            r.anomalies = [.spike, .dropout, .spike]
            r.timing = .jittered
            out.append(("spikes-dropout-\(c)", r))
            var shift = Recipe(cadence: cadence, count: count)
            shift.daily = long ? 6 : 0
            shift.missing = 0.005
            shift.anomalies = [.varianceChange, .levelShift]
            out.append(("shift-variance-\(c)", shift))
            var drift = Recipe(cadence: cadence, count: count)
            drift.noise = .laplace
            drift.timing = .poisson
            drift.anomalies = [.flatline, .drift]
            out.append(("flatline-drift-\(c)", drift))
            var quantised = Recipe(cadence: cadence, count: count)
            quantised.ar = 0.9
            quantised.quantum = 0.5
            quantised.sigma = 2
            quantised.anomalies = [.spike, .flatline, .levelShift]
            out.append(("quantised-\(c)", quantised))
            var heavy = Recipe(cadence: cadence, count: count)
            heavy.noise = .studentT
            heavy.daily = 8
            heavy.weekend = weeks ? -3 : 0
            heavy.trendPerDay = long ? 0.5 : 0
            heavy.anomalies = [.spike, .dropout, .levelShift]
            out.append(("heavy-tailed-\(c)", heavy))
        }
        return out
    }

    /// The whole set (48 series, about 240,000 rows).
    public static func generate(seed: UInt64 = 2026) -> [Series] {
        recipes().enumerated().map { k, named in series(named.0, named.1, seed: seed &+ UInt64(k) &* 0x9E37_79B9) }
    }

    static func series(_ name: String, _ r: Recipe, seed: UInt64) -> Series {
        var rng = SplitMix64(seed: seed)
        var s = Series(name: name, cadence: r.cadence)
        let start: Int64 = 1_704_067_200_000  // 2024-01-01T00:00:00Z, a Monday
        let day = 86_400_000.0
        // The marginal spread of the noise is `sigma` whatever the AR coefficient.
        let innovation = r.sigma * (1 - r.ar * r.ar).squareRoot()
        var noiseState = 0.0
        // A spike far out in the noise's own distribution: 9 σ for Gaussian noise is as rare as 12 σ for Laplace
        // and about 30 σ for Student-t with 3 degrees of freedom (which reaches 9 σ once in ~1,700 readings).
        let spike = r.noise == .gaussian ? 9.0 : r.noise == .laplace ? 12 : 30
        // Anomalies at fixed fractions of the series, far apart; NAB-style windows of 10 % of the length
        // shared among them, centred on the onset.
        let k = r.anomalies.count
        let width = k == 0 ? 0 : max(20, r.count / 10 / k)
        let onsets = (0..<k).map { i in r.count * (3 + 2 * i) / (2 * k + 3) + r.count / 10 }
        let windows = onsets.map { max(0, $0 - width / 2)..<min(r.count, $0 + width - width / 2) }
        var anomalyRows: [(AnomalyKind, Int, Range<Int>)] = (0..<k).map { (r.anomalies[$0], onsets[$0], windows[$0]) }
        var t = start
        var row = 0
        var flatValue: Double? = nil
        var shift = 0.0
        func draw() -> Double {
            switch r.noise {
            case .gaussian: return rng.nextGaussian()
            case .laplace:
                let u = rng.nextUnit() - 0.5
                // Unit variance: scale b = 1/√2.
                return (u < 0 ? 1 : -1) * (1 - 2 * abs(u)).clampedLog() * 0.5.squareRoot()
            case .studentT:
                let z = rng.nextGaussian()
                var chi = 0.0
                for _ in 0..<3 {
                    let g = rng.nextGaussian()
                    chi += g * g
                }
                // t with 3 degrees of freedom has variance 3.
                return z / (chi / 3).squareRoot() / 3.0.squareRoot()
            }
        }
        while row < r.count {
            // The anomaly starting at this row, if any.
            let here = anomalyRows.first { $0.1 == row }
            if let (kind, onset, window) = here {
                if kind == .dropout {
                    // 40 cadences without readings; the first row after the gap is the onset.
                    t += 40 * r.cadence
                }
                s.anomalies.append(Anomaly(kind: kind, onset: onset, window: window))
                anomalyRows.removeAll { $0.1 == row }
            }
            let local = Double(t - start)
            let hourOfDay = (local.truncatingRemainder(dividingBy: day)) / 3_600_000
            let weekday = Int(local / day) % 7  // 0: Monday
            var x = r.level + r.trendPerDay * local / day
            if r.daily != 0 { x += r.daily * cos(2 * Double.pi * (hourOfDay - 14) / 24) }
            if weekday >= 5 { x += r.weekend }
            noiseState = r.ar * noiseState + innovation * draw()
            var noise = noiseState
            // Active anomalies (by row offset from their onsets).
            for a in s.anomalies {
                let since = row - a.onset
                guard since >= 0 else { continue }
                switch a.kind {
                case .spike where since < 2: noise += (since == 0 ? 1 : 0.5) * spike * r.sigma * (a.onset % 2 == 0 ? 1 : -1)
                case .levelShift: if since == 0 { shift += 5 * r.sigma * (a.onset % 3 == 0 ? -1 : 1) }
                case .varianceChange where since < 300: noise *= 4
                case .drift: noise += min(Double(since), 300) / 300 * 6 * r.sigma
                default: break
                }
            }
            x += noise + shift
            let flatNight = r.flatNights && (hourOfDay >= 22 || hourOfDay < 6)
            if flatNight { x = r.level }
            if r.quantum > 0 && !flatNight { x = (x / r.quantum).rounded() * r.quantum }
            // A stuck sensor repeats the value it had at the onset for 150 readings.
            if let stuck = s.anomalies.first(where: { $0.kind == .flatline && row >= $0.onset && row < $0.onset + 150 }) {
                if flatValue == nil || row == stuck.onset { flatValue = s.values.last ?? x }
                x = flatValue!
            } else {
                flatValue = nil
            }
            precondition(x.isFinite, "evaluation series \(name) row \(row): \(x)")
            s.times.append(t)
            s.values.append((x * 1_000).rounded() / 1_000)
            row += 1
            // The next timestamp; short missing stretches only away from the labelled anomalies.
            let step: Double
            switch r.timing {
            case .regular: step = 1
            case .jittered: step = 0.8 + 0.4 * rng.nextUnit()
            case .poisson: step = -(1 - rng.nextUnit()).clampedLog()
            }
            t += max(1, Int64(step * Double(r.cadence)))
            if r.missing > 0 && rng.nextUnit() < r.missing && !windows.contains(where: { $0.contains(row) }) {
                t += Int64(1 + Int(rng.nextUnit() * 3)) * r.cadence
            }
        }
        return s
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Double {
    /// The natural log, with 0 mapped to the log of the smallest normal double (the generators' uniform draws
    /// may be 0).
    fileprivate func clampedLog() -> Double { log(Swift.max(self, .leastNormalMagnitude)) }
}
