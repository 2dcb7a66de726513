@testable import VigilCore

/// The naive reference for ``AnomalyScorer``: the scorer as first written (one struct per sensor, copied in and
/// out), with the whole history kept and median/MAD by sorting, plus a dictionary-based seasonal profile. The
/// fast kernel must give bit-identical scores.
struct ReferenceAnomalyScorer {
    let settings: AnomalySettings

    struct SensorState: Sendable {
        var count = 0
        var lastTime: Int64 = .min
        var lastValue = Double.nan
        var ewmaMean = 0.0
        var ewmaVar = 0.0
        var cusum = 0.0
        var sameCount = 0
        /// EWMA of the slope between consecutive in-order readings (per ms).
        var slope = 0.0
        /// Median and MAD of the window as of the last refresh.
        var median = 0.0
        var mad = 0.0
        var sinceRefresh = 0
        var resolution = Double.infinity
        var cadence = 0.0
        var gaps: Int32 = 0
        var spreadMemory = 0.0
        var seasonLevel = 0.0
        var day: Int64 = .min
        var dayDeviations: [Double] = []
        var weekdayOffset = 0.0
        var tails = TailModels()
    }
    var states: [SensorState] = []
    var history: [Int: [Double]] = [:]
    /// Seasonal: per sensor, the readings of the hour being accumulated, and per (sensor, hour of day) the profile.
    var hourReadings: [Int: (hour: Int64, values: [Double])] = [:]
    var profile: [Int: [Int: (mean: Double, variance: Double, days: Int)]] = [:]
    /// Per (sensor, weekday with Monday 0): the offset from the hour-of-day profile and the weeks seen.
    var weekdays: [Int: [Int: (offset: Double, weeks: Int)]] = [:]

    init(settings: AnomalySettings = AnomalySettings()) {
        self.settings = settings
    }

    /// Scores one reading of `slot` (readings of a sensor must come in event-time order for the rate and gap
    /// detectors; out-of-order readings are scored by the value-based detectors only).
    ///
    /// The tail models (``TailModel``) and the cadence update (``AnomalyScorer/nextCadence(_:gap:gaps:)``) are
    /// the scorer's own: they are arithmetic on values, tested on their own; what this reference checks is the
    /// kernel's state keeping (windows, orders, rings, profiles, pointers).
    ///
    /// - Parameter rule: The sensor's alarm rule, if any (threshold proximity, time to limit).
    mutating func score(slot: UInt32, time t: Int64, value x: Double, rule: ThresholdRule?) -> AnomalyScore {
        let s = Int(slot)
        if s >= states.count {
            let n = max(s + 1, states.count * 2)
            states.append(contentsOf: repeatElement(SensorState(), count: n - states.count))
        }
        guard x.isFinite else { return AnomalyScore(score: 0, detector: .threshold, value: x, baseline: x, limit: nil) }
        var st = states[s]
        var best = AnomalyScore(score: 0, detector: .threshold, value: x, baseline: st.count > 0 ? st.ewmaMean : x, limit: nil)
        var components = AnomalyScore.Components()
        func consider(_ score: Double, _ detector: AnomalyScore.Detector, baseline: Double, limit: Double?) {
            let clamped = score.isFinite ? min(1, max(0, score)) : 0
            if clamped > components[detector] { components[detector] = clamped }
            if clamped > best.score { best = AnomalyScore(score: clamped, detector: detector, value: x, baseline: baseline, limit: limit) }
        }
        var tails: [(log: Double, detector: AnomalyScore.Detector, baseline: Double)] = []
        func calibrated(_ l: Double, _ detector: AnomalyScore.Detector, baseline: Double) {
            components[detector] = max(components[detector], AnomalyScore.score(log10Tail: l))
            tails.append((l, detector, baseline))
        }
        let warm = st.count >= settings.warmUp
        let inOrder = t >= st.lastTime
        // Threshold proximity: AL1 scores 0.7, AL2 scores 1; approaching AL1 from 80 % of the way scores up to 0.5.
        if let rule, let l1 = rule.level1 {
            let high = rule.direction == .high
            let base = warm ? st.ewmaMean : x
            if let l2 = rule.level2, high ? x >= l2 : x <= l2 {
                consider(1, .threshold, baseline: base, limit: l2)
            } else if high ? x >= l1 : x <= l1 {
                consider(0.7, .threshold, baseline: base, limit: l1)
            } else if warm, abs(l1 - base) > 0 {
                let fraction = (x - base) / (l1 - base)
                if fraction > 0.8 { consider(0.5 * (fraction - 0.8) / 0.2, .threshold, baseline: base, limit: l1) }
            }
        }
        let moved = st.resolution.isFinite
        let resolution = moved ? st.resolution : 0
        if !warm { st.sinceRefresh = 0 }
        if warm {
            // Robust z-score against the window's median and MAD (refreshed every `robustRefresh` readings).
            if st.sinceRefresh == 0 { refreshRobust(slot: s, state: &st) }
            st.sinceRefresh = (st.sinceRefresh + 1) % max(1, settings.robustRefresh)
            let robustSpread = 1.4826 * st.mad
            st.spreadMemory = max(st.spreadMemory * 0.999, robustSpread)
            let floor = max(resolution, 0.5 * st.spreadMemory)
            let spread = max(robustSpread, floor, 1e-9 * max(1, abs(st.median)))
            let zr = abs(x - st.median) / spread
            var surprise = 0.0
            if moved {
                let l = st.tails.robustZ.log10Tail(zr, .z)
                surprise = -l
                calibrated(l, .robustZ, baseline: st.median)
                st.tails.robustZ.learn(zr, .z)
            }
            // EWMA control chart.
            let sd = max(st.ewmaVar.squareRoot(), floor, 1e-9 * max(1, abs(st.ewmaMean)))
            let u = abs(x - st.ewmaMean) / sd
            if moved {
                calibrated(st.tails.ewma.log10Tail(u, .z), .ewma, baseline: st.ewmaMean)
                st.tails.ewma.learn(u, .z)
            }
            // CUSUM of the robust z's surprise, restarting after it signals.
            st.cusum = max(0, st.cusum + surprise - settings.cusumK)
            let cusumTail = st.tails.cusum.log10Tail(st.cusum, .cusum)
            calibrated(cusumTail, .cusum, baseline: st.median)
            st.tails.cusum.learn(st.cusum, .cusum)
            if cusumTail <= -10 { st.cusum = 0 }
            // Rate of rise towards the next limit: the smoothed slope extrapolated from the smoothed level.
            if inOrder, let rule, let limit = rule.level1, st.lastTime != .min, t > st.lastTime {
                let slope = st.slope
                let level = st.ewmaMean
                let towards = rule.direction == .high ? slope > 0 && level < limit : slope < 0 && level > limit
                if towards {
                    let timeToLimit = (limit - level) / slope
                    let horizon = Double(settings.timeToLimitHorizon)
                    if timeToLimit < horizon { consider(0.6 * (1 - timeToLimit / horizon), .rateOfRise, baseline: level, limit: limit) }
                }
            }
        }
        // Data gap before this reading, against the learnt cadence; the stale rule where one is set.
        if inOrder && st.lastTime != .min {
            let gap = t - st.lastTime
            if st.cadence > 0 {
                let ratio = Double(gap) / st.cadence
                if st.gaps >= 3 { calibrated(st.tails.dataGap.log10Tail(ratio, .gap), .dataGap, baseline: st.lastValue) }
                st.tails.dataGap.learn(ratio, .gap)
            }
            if settings.staleAfter > 0 && gap > settings.staleAfter {
                consider(
                    min(1, 0.6 + 0.4 * Double(gap - settings.staleAfter) / Double(settings.staleAfter * 5)), .dataGap, baseline: st.lastValue,
                    limit: nil)
            }
            if gap > 0 {
                st.cadence = AnomalyScorer.nextCadence(st.cadence, gap: gap, gaps: st.gaps)
                st.gaps = min(st.gaps + 1, 1 << 30)
            }
        }
        // Flatline: the same value repeated.
        if st.count > 0 {
            st.sameCount = x == st.lastValue ? st.sameCount + 1 : 0
            if moved {
                calibrated(st.tails.flatline.log10Tail(Double(st.sameCount), .flatline), .flatline, baseline: x)
                st.tails.flatline.learn(Double(st.sameCount), .flatline)
            }
        }
        // Seasonal: fold a finished hour into its hour-of-day profile, then compare with this hour's profile.
        if settings.seasonal && inOrder {
            let hour = Int64((Double(t + settings.utcOffset) / 3_600_000).rounded(.down))
            if let open = hourReadings[s], open.hour != hour {
                let n = Double(open.values.count)
                // The same Welford recurrence as the kernel, so that the results agree to the last bit.
                var mean = 0.0
                var m2 = 0.0
                var k = 0.0
                for v in open.values {
                    k += 1
                    let d = v - mean
                    mean += d / k
                    m2 += d * (v - mean)
                }
                let bucket = Int(((open.hour % 24) + 24) % 24)
                var p = profile[s, default: [:]][bucket] ?? (0, 0, 0)
                mean -= st.weekdayOffset
                if p.days == 0 {
                    p.mean = mean
                    p.variance = m2 / n
                } else {
                    let d = mean - p.mean
                    p.mean += settings.seasonalAlpha * d
                    p.variance += settings.seasonalAlpha * (m2 / n + d * d - p.variance)
                }
                p.days += 1
                profile[s, default: [:]][bucket] = p
            }
            if hourReadings[s]?.hour != hour { hourReadings[s] = (hour, []) }
            let bucket = Int(((hour % 24) + 24) % 24)
            // The weekday's offset: fold the finished day's deviations in, then read today's.
            let day = Int64((Double(hour) / 24).rounded(.down))
            if day != st.day {
                if st.day != .min && !st.dayDeviations.isEmpty {
                    var sum = 0.0
                    for d in st.dayDeviations { sum += d }
                    let offset = sum / Double(st.dayDeviations.count)
                    let weekday = Int(((st.day + 3) % 7 + 7) % 7)
                    var w = weekdays[s, default: [:]][weekday] ?? (0, 0)
                    w.offset = w.weeks == 0 ? offset : w.offset + settings.seasonalAlpha * (offset - w.offset)
                    w.weeks += 1
                    weekdays[s, default: [:]][weekday] = w
                }
                st.day = day
                st.dayDeviations = []
            }
            let today = weekdays[s]?[Int(((day + 3) % 7 + 7) % 7)]
            st.weekdayOffset = today.map { $0.weeks >= settings.seasonalMinWeeks ? $0.offset : 0 } ?? 0
            let weekdayOffset = st.weekdayOffset
            if let p = profile[s]?[bucket], p.days >= settings.seasonalMinDays { st.dayDeviations.append(x - p.mean) }
            if let p = profile[s]?[bucket], p.days >= settings.seasonalMinDays, moved {
                let typical = p.mean + weekdayOffset
                let expected = typical + st.seasonLevel
                let sd = max(p.variance.squareRoot(), resolution, 1e-9 * max(1, abs(p.mean)))
                let z = abs(x - expected) / sd
                calibrated(st.tails.seasonal.log10Tail(z, .z), .seasonal, baseline: expected)
                st.tails.seasonal.learn(z, .z)
                st.seasonLevel += settings.seasonalSettle * (x - typical - st.seasonLevel)
            }
            hourReadings[s]!.values.append(x)
        }
        // The combined tail probability: the smallest (the first of equals), times the calibrated detectors.
        if let smallest = tails.min(by: { $0.log < $1.log }), smallest.log < 0 {
            let combined = min(0, smallest.log + AnomalyScore.log10CalibratedDetectors)
            let score = AnomalyScore.score(log10Tail: combined)
            if score > best.score {
                best = AnomalyScore(score: score, detector: smallest.detector, value: x, baseline: smallest.baseline, limit: nil)
                best.log10Tail = combined
            }
        }
        if st.count > 0 && inOrder {
            let step = abs(x - st.lastValue)
            st.resolution = step > 0 ? min(st.resolution * 1.001, step) : st.resolution * 1.001
        }
        // Update the state with this reading.
        let a = settings.ewmaAlpha
        let av = settings.ewmaVarianceAlpha
        if st.count == 0 {
            st.ewmaMean = x
            st.ewmaVar = 0
        } else {
            let d = x - st.ewmaMean
            st.ewmaMean += a * d
            // The deviation from the previous mean has variance σ²(1 + a/(2 − a)); scale it back to σ².
            st.ewmaVar += av * (d * d * (2 - a) / 2 - st.ewmaVar)
        }
        insert(slot: s, value: x, state: &st)
        if inOrder {
            if st.lastTime != .min && t > st.lastTime {
                st.slope += a * ((x - st.lastValue) / Double(t - st.lastTime) - st.slope)
            }
            st.lastTime = t
            st.lastValue = x
        }
        states[s] = st
        best.components = components
        return best
    }

    /// Adds `x` to the sensor's history (the whole history; the window is its suffix).
    mutating func insert(slot s: Int, value x: Double, state st: inout SensorState) {
        history[s, default: []].append(x)
        st.count += 1
    }

    /// Median and MAD by sorting the window.
    mutating func refreshRobust(slot s: Int, state st: inout SensorState) {
        let window = Array(history[s, default: []].suffix(settings.window))
        func median(_ a: [Double]) -> Double {
            let b = a.sorted()
            return b.count % 2 == 1 ? b[b.count / 2] : (b[b.count / 2 - 1] + b[b.count / 2]) / 2
        }
        let m = median(window)
        st.median = m
        st.mad = median(window.map { abs($0 - m) })
    }
}
