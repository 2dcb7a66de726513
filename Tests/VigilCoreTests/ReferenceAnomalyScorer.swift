@testable import VigilCore

/// The naive reference for ``AnomalyScorer``: the scorer as first written (one struct per sensor, copied in and
/// out), with the whole history kept and median/MAD by sorting, plus a dictionary-based seasonal profile. The
/// fast kernel must give bit-identical scores.
struct ReferenceAnomalyScorer {
    let settings: AnomalySettings

    struct SensorState: Sendable {
        var count = 0
        var head = 0
        var lastTime: Int64 = .min
        var lastValue = Double.nan
        var ewmaMean = 0.0
        var ewmaVar = 0.0
        var cusumHigh = 0.0
        var cusumLow = 0.0
        var sameCount = 0
        var sameSince: Int64 = 0
        /// EWMA of the slope between consecutive in-order readings (per ms).
        var slope = 0.0
        /// Median and MAD of the window as of the last refresh.
        var median = 0.0
        var mad = 0.0
        var sinceRefresh = 0
    }
    var states: [SensorState] = []
    var history: [Int: [Double]] = [:]
    /// Seasonal: per sensor, the readings of the hour being accumulated, and per (sensor, hour of day) the profile.
    var hourReadings: [Int: (hour: Int64, values: [Double])] = [:]
    var profile: [Int: [Int: (mean: Double, variance: Double, days: Int)]] = [:]

    init(settings: AnomalySettings = AnomalySettings()) {
        self.settings = settings
    }

    /// Scores one reading of `slot` (readings of a sensor must come in event-time order for the rate and gap
    /// detectors; out-of-order readings are scored by the value-based detectors only).
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
        let inOrder = t >= st.lastTime
        // Threshold proximity: AL1 scores 0.7, AL2 scores 1; approaching AL1 from 80 % of the way scores up to 0.5.
        if let rule, let l1 = rule.level1 {
            let high = rule.direction == .high
            let base = st.count >= settings.warmUp ? st.ewmaMean : x
            if let l2 = rule.level2, high ? x >= l2 : x <= l2 {
                consider(1, .threshold, baseline: base, limit: l2)
            } else if high ? x >= l1 : x <= l1 {
                consider(0.7, .threshold, baseline: base, limit: l1)
            } else if st.count >= settings.warmUp, abs(l1 - base) > 0 {
                let fraction = (x - base) / (l1 - base)
                if fraction > 0.8 { consider(0.5 * (fraction - 0.8) / 0.2, .threshold, baseline: base, limit: l1) }
            }
        }
        if st.count < settings.warmUp { st.sinceRefresh = 0 }
        if st.count >= settings.warmUp {
            // Robust z-score against the window's median and MAD (refreshed every `robustRefresh` readings).
            if st.sinceRefresh == 0 { refreshRobust(slot: s, state: &st) }
            st.sinceRefresh = (st.sinceRefresh + 1) % max(1, settings.robustRefresh)
            let median = st.median
            let mad = st.mad
            let spread = max(1.4826 * mad, 1e-9 * max(1, abs(median)))
            if 1.4826 * mad > 1e-12 * max(1, abs(median)) {
                consider((abs(x - median) / spread - settings.zStart) / (settings.zFull - settings.zStart), .robustZ, baseline: median, limit: nil)
            }
            // EWMA control chart.
            let sd = st.ewmaVar.squareRoot()
            if sd > 1e-12 * max(1, abs(st.ewmaMean)) {
                let z = abs(x - st.ewmaMean) / sd
                consider((z - settings.zStart) / (settings.zFull - settings.zStart), .ewma, baseline: st.ewmaMean, limit: nil)
                // CUSUM on standardised deviations from the EWMA mean (slow drift).
                let u = (x - st.ewmaMean) / sd
                st.cusumHigh = max(0, st.cusumHigh + u - settings.cusumK)
                st.cusumLow = max(0, st.cusumLow - u - settings.cusumK)
                consider(max(st.cusumHigh, st.cusumLow) / settings.cusumH, .cusum, baseline: st.ewmaMean, limit: nil)
            }
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
        // Data gap before this reading.
        if inOrder && st.lastTime != .min && t - st.lastTime > settings.staleAfter {
            consider(
                min(1, 0.6 + 0.4 * Double(t - st.lastTime - settings.staleAfter) / Double(settings.staleAfter * 5)), .dataGap,
                baseline: st.lastValue, limit: nil)
        }
        // Flatline: the same value repeated.
        if x == st.lastValue {
            st.sameCount += 1
        } else {
            st.sameCount = 0
            st.sameSince = t
        }
        if st.sameCount >= settings.flatlineCount && t - st.sameSince >= settings.flatlineMinSpan {
            consider(0.8, .flatline, baseline: x, limit: nil)
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
            if let p = profile[s]?[bucket], p.days >= settings.seasonalMinDays {
                let sd = p.variance.squareRoot()
                if sd > 1e-12 * max(1, abs(p.mean)) {
                    consider((abs(x - p.mean) / sd - settings.zStart) / (settings.zFull - settings.zStart), .seasonal, baseline: p.mean, limit: nil)
                }
            }
            hourReadings[s]!.values.append(x)
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
