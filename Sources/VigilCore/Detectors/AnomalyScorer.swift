#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of the statistical detectors (all causal: a score uses only past and present readings).
public struct AnomalySettings: Sendable, Hashable {
    /// Readings kept per sensor for the robust z-score (median/MAD) and the flatline check.
    public var window = 60
    /// Readings needed before the statistical detectors score (warm-up).
    public var warmUp = 20
    /// The window's median and MAD are recomputed every this many readings of a sensor (and on every reading
    /// during warm-up); in between, the last values are used. 1 recomputes on every reading.
    public var robustRefresh = 8
    /// EWMA smoothing factor of the mean (`DOMAIN.md` §4.3: 0.1).
    public var ewmaAlpha = 0.1
    /// Smoothing factor of the EWMA variance: slower than the mean's, so that the control limits are not
    /// themselves noisy (a variance from ~20 effective samples gives heavy-tailed z-scores and false alarms).
    public var ewmaVarianceAlpha = 0.02
    /// z at which a z-score detector starts scoring, and where it reaches 1 (score 0.6 at z = 6.4).
    public var zStart = 4.0
    public var zFull = 8.0
    /// CUSUM allowance, and the sum (in standard deviations) at which its score reaches 1 (score = S / H;
    /// with k = 0.5 the in-control run length to a score of 0.6 is about a million readings).
    public var cusumK = 0.5
    public var cusumH = 20.0
    /// Identical consecutive readings (and at least `flatlineMinSpan` ms) that count as a stuck sensor.
    public var flatlineCount = 12
    public var flatlineMinSpan: Int64 = 600_000
    /// A gap longer than this before a reading (ms) scores as a data gap (`DOMAIN.md` §5: stale after 5 min).
    public var staleAfter: Int64 = 300_000
    /// Rate of rise: score when the extrapolated time to the next limit falls below this horizon (ms).
    public var timeToLimitHorizon: Int64 = 1_800_000
    public init() {}
}

/// One anomaly score with its explanation: which detector, the value, the baseline it was compared with,
/// and the limit (when a limit was involved).
public struct AnomalyScore: Sendable, Hashable {
    public enum Detector: String, Sendable, Hashable, CaseIterable {
        case threshold, robustZ = "robust_z", ewma, cusum, flatline, dataGap = "data_gap", rateOfRise = "rate_of_rise"
    }
    public var score: Double
    public var detector: Detector
    public var value: Double
    public var baseline: Double
    public var limit: Double?
    /// Every detector's score for this reading (the combined score is their maximum).
    public var components = Components()

    public init(score: Double, detector: Detector, value: Double, baseline: Double, limit: Double?) {
        self.score = score
        self.detector = detector
        self.value = value
        self.baseline = baseline
        self.limit = limit
    }

    /// Per-detector scores, stored inline (no allocation per reading).
    public struct Components: Sendable, Hashable {
        public var threshold = 0.0
        public var robustZ = 0.0
        public var ewma = 0.0
        public var cusum = 0.0
        public var flatline = 0.0
        public var dataGap = 0.0
        public var rateOfRise = 0.0

        public subscript(_ d: Detector) -> Double {
            get {
                switch d {
                case .threshold: threshold
                case .robustZ: robustZ
                case .ewma: ewma
                case .cusum: cusum
                case .flatline: flatline
                case .dataGap: dataGap
                case .rateOfRise: rateOfRise
                }
            }
            set {
                switch d {
                case .threshold: threshold = newValue
                case .robustZ: robustZ = newValue
                case .ewma: ewma = newValue
                case .cusum: cusum = newValue
                case .flatline: flatline = newValue
                case .dataGap: dataGap = newValue
                case .rateOfRise: rateOfRise = newValue
                }
            }
        }
    }
}

/// Per-sensor streaming anomaly scores combining threshold proximity, robust z-score (median/MAD), an EWMA
/// control chart, CUSUM (slow drift), flatline (stuck sensor), data gaps and rate of rise with time-to-limit
/// extrapolation. The combined score is the largest detector score in [0, 1], so scores are comparable across
/// sensors and sensor types; the explanation names the detector that produced it.
///
/// State is fixed-size per sensor (a ring of ``AnomalySettings/window`` values; median and MAD by quickselect
/// every ``AnomalySettings/robustRefresh`` readings), so nothing is allocated per reading once a sensor has
/// been seen.
public struct AnomalyScorer: Sendable {
    public let settings: AnomalySettings

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
    /// `window` values per sensor in arrival order (a ring).
    var ring: [Double] = []
    var scratch: [Double] = []

    public init(settings: AnomalySettings = AnomalySettings()) {
        self.settings = settings
    }

    /// Scores one reading of `slot` (readings of a sensor must come in event-time order for the rate and gap
    /// detectors; out-of-order readings are scored by the value-based detectors only).
    ///
    /// - Parameter rule: The sensor's alarm rule, if any (threshold proximity, time to limit).
    public mutating func score(slot: UInt32, time t: Int64, value x: Double, rule: ThresholdRule?) -> AnomalyScore {
        let s = Int(slot)
        let w = settings.window
        if s >= states.count {
            let n = max(s + 1, states.count * 2)
            states.append(contentsOf: repeatElement(SensorState(), count: n - states.count))
            ring.append(contentsOf: repeatElement(0, count: n * w - ring.count))
        }
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
            consider(min(1, 0.6 + 0.4 * Double(t - st.lastTime - settings.staleAfter) / Double(settings.staleAfter * 5)), .dataGap,
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

    /// Adds `x` to the sensor's ring, evicting the oldest value when full. O(1).
    mutating func insert(slot s: Int, value x: Double, state st: inout SensorState) {
        let w = settings.window
        let offset = s * w
        if st.count >= w {
            ring[offset + st.head] = x
            st.head = (st.head + 1) % w
        } else {
            ring[offset + st.count] = x
        }
        st.count += 1
    }

    /// Recomputes the median and MAD of the sensor's window (quickselect on a scratch copy; no allocation).
    mutating func refreshRobust(slot s: Int, state st: inout SensorState) {
        let w = settings.window
        let n = min(st.count, w)
        let offset = s * w
        scratch.removeAll(keepingCapacity: true)
        for k in 0..<n { scratch.append(ring[offset + k]) }
        let median = Self.selectMedian(&scratch, n)
        for k in 0..<n { scratch[k] = abs(ring[offset + k] - median) }
        st.median = median
        st.mad = Self.selectMedian(&scratch, n)
    }

    /// The window of `slot` in arrival order (for tests and explanations).
    func window(slot s: UInt32) -> [Double] {
        let w = settings.window
        let st = states[Int(s)]
        let n = min(st.count, w)
        let offset = Int(s) * w
        if st.count < w { return Array(ring[offset..<(offset + n)]) }
        return Array(ring[(offset + st.head)..<(offset + w)]) + Array(ring[offset..<(offset + st.head)])
    }

    /// The median of `a[0..<n]` by quickselect (reorders `a`; no allocation).
    static func selectMedian(_ a: inout [Double], _ n: Int) -> Double {
        a.withUnsafeMutableBufferPointer { b in
            func select(_ k: Int) -> Double {
                var lo = 0
                var hi = n - 1
                while lo < hi {
                    let pivot = b[(lo + hi) / 2]
                    var i = lo
                    var j = hi
                    while i <= j {
                        while b[i] < pivot { i += 1 }
                        while b[j] > pivot { j -= 1 }
                        if i <= j {
                            b.swapAt(i, j)
                            i += 1
                            j -= 1
                        }
                    }
                    if k <= j { hi = j } else if k >= i { lo = i } else { return b[k] }
                }
                return b[k]
            }
            if n % 2 == 1 { return select(n / 2) }
            let upper = select(n / 2)
            var lower = -Double.infinity
            for k in 0..<(n / 2) where b[k] > lower { lower = b[k] }
            return (lower + upper) / 2
        }
    }

    static func median(_ a: [Double], _ offset: Int, _ n: Int) -> Double {
        n % 2 == 1 ? a[offset + n / 2] : (a[offset + n / 2 - 1] + a[offset + n / 2]) / 2
    }
}
