#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Settings of the statistical detectors (all causal: a score uses only past and present readings).
public struct AnomalySettings: Sendable, Hashable {
    /// Readings kept per sensor for the robust z-score (median/MAD), at most ``maxWindow``.
    public var window = 60
    /// The largest window: a sensor's sorted order is kept as one byte per reading.
    public static let maxWindow = 255
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
    /// CUSUM allowance: the surprise (−log₁₀ of the robust z's tail probability) a reading must exceed to add
    /// to the sum.
    public var cusumK = 0.5
    /// The stale rule: a gap longer than this before a reading (ms) scores at least 0.6 as a data gap
    /// (`DOMAIN.md` §5: stale after max(3 × the nominal period, 5 min); the pipelines set it per sensor type,
    /// ``AnomalyScorer/setStaleAfter(_:slot:)``). 0: no rule. Every gap is also scored against the point's own
    /// learnt cadence.
    public var staleAfter: Int64 = 0
    /// Rate of rise: score when the extrapolated time to the next limit falls below this horizon (ms).
    public var timeToLimitHorizon: Int64 = 1_800_000
    /// The seasonal baseline: an hour-of-day profile per sensor (mean and spread of each local hour over the
    /// past days, smoothed with `seasonalAlpha` per day). It scores a reading against the profile of its hour
    /// once that hour has been seen on `seasonalMinDays` earlier days. Off: no profile memory is kept.
    public var seasonal = true
    public var seasonalMinDays = 3
    public var seasonalAlpha = 0.3
    /// Day of week: the mean deviation of each weekday from the hour-of-day profile (smoothed with
    /// `seasonalAlpha` per week), added to the profile once that weekday has been seen in `seasonalMinWeeks`
    /// earlier weeks (a plant at lower load on Sundays).
    public var seasonalMinWeeks = 2
    /// How fast the seasonal detector accepts a lasting shift from the profile, per reading: the expected value
    /// is the profile plus an EWMA of the point's recent deviation from it (0.02: the time constant is 50
    /// readings, and a shift is accepted to within a tenth of itself after about 115).
    public var seasonalSettle = 0.02
    /// Offset of local time from UTC (ms) for the hour of day (China: +8 h).
    public var utcOffset: Int64 = 0
    public init() {}
}

/// One anomaly score with its explanation: which detector, the value, the baseline it was compared with,
/// and the limit (when a limit was involved).
public struct AnomalyScore: Sendable, Hashable {
    public enum Detector: String, Sendable, Hashable, CaseIterable {
        case threshold
        case robustZ = "robust_z"
        case ewma, cusum, flatline
        case dataGap = "data_gap"
        case rateOfRise = "rate_of_rise"
        case seasonal
    }
    public var score: Double
    public var detector: Detector
    public var value: Double
    public var baseline: Double
    public var limit: Double?
    /// Every detector's own score for this reading.
    public var components = Components()
    /// log₁₀ of the combined tail probability when a calibrated detector gave the score (nil when a rule did).
    public var log10Tail: Double? = nil
    /// The combined tail probability when a calibrated detector gave the score (nil when a rule did).
    public var tailProbability: Double? { log10Tail.map { pow(10, $0) } }

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
        public var seasonal = 0.0

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
                case .seasonal: seasonal
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
                case .seasonal: seasonal = newValue
                }
            }
        }
    }
}

/// The scores of a batch, one row per reading, as columns (reused across batches).
public struct AnomalyScores: Sendable {
    public var score: [Double] = []
    public var detector: [AnomalyScore.Detector] = []
    /// The baseline the winning detector compared with.
    public var baseline: [Double] = []
    /// The limit involved (NaN: none).
    public var limit: [Double] = []
    /// log₁₀ of the tail probability of a calibrated score (NaN: a rule's score).
    public var log10Tail: [Double] = []
    public init() {}
    public var count: Int { score.count }
    public mutating func removeAll() {
        score.removeAll(keepingCapacity: true)
        detector.removeAll(keepingCapacity: true)
        baseline.removeAll(keepingCapacity: true)
        limit.removeAll(keepingCapacity: true)
        log10Tail.removeAll(keepingCapacity: true)
    }
}

/// Per-sensor streaming anomaly scores combining threshold proximity, robust z-score (median/MAD), an EWMA
/// control chart, CUSUM (slow drift), flatline (stuck sensor), data gaps, rate of rise with time-to-limit
/// extrapolation and an hour-of-day seasonal baseline. The combined score is the largest detector score in
/// [0, 1], so scores are comparable across sensors and sensor types; the explanation names the detector that
/// produced it.
///
/// State is fixed-size per sensor: one record of running values, a ring of ``AnomalySettings/window`` values
/// with their ascending order as one byte per value (brought up to date, and median and MAD read off it, every
/// ``AnomalySettings/robustRefresh`` readings) and, with the seasonal
/// detector, a 24-hour profile that is read and written once per sensor and hour. Nothing is allocated per
/// reading once a sensor has been seen. The batch entry point runs the whole batch over raw pointers to
/// these buffers (the kernel in `AnomalyScorer+Kernel.swift`); the per-reading one runs the same kernel.
public struct AnomalyScorer: Sendable {
    public let settings: AnomalySettings

    struct SensorState: Sendable {
        var count = 0
        /// The ring position of the next value (`count % window`).
        var head: Int32 = 0
        var sinceRefresh: Int32 = 0
        /// The latest values in the ring that are not yet in `order` (at most `window`).
        var unsorted: Int32 = 0
        var lastTime: Int64 = .min
        var lastValue = Double.nan
        var ewmaMean = 0.0
        var ewmaVar = 0.0
        /// The CUSUM of the robust z's surprise.
        var cusum = 0.0
        var sameCount = 0
        /// EWMA of the slope between consecutive in-order readings (per ms).
        var slope = 0.0
        /// Median and MAD of the window as of the last refresh.
        var median = 0.0
        var mad = 0.0
        /// The local hour (hours since the epoch) being accumulated, and its readings so far (Welford).
        var hour: Int64 = .min
        var hourCount = 0.0
        var hourMean = 0.0
        var hourM2 = 0.0
        /// The profile of the current hour of day (NaN until it has `seasonalMinDays` days).
        var seasonMean = Double.nan
        var seasonSD = Double.nan
        /// Whether an hour has been folded into the profile (until then the profile is not read, so a new
        /// sensor's profile memory stays untouched).
        var profiled = false
        /// The sensor's own stale gap (0: `settings.staleAfter`); set by the owner, not snapshotted.
        var staleAfter: Int64 = 0
        /// The smallest step between consecutive readings (growing by 0.1 % a reading while none is seen).
        var resolution = Double.infinity
        /// The learnt cadence (a running median of the gaps, ms; 0: unknown) and the gaps it has seen.
        var cadence = 0.0
        var gaps: Int32 = 0
        /// The seasonal detector's level: an EWMA of the deviation from the hour-of-day profile.
        var seasonLevel = 0.0
        /// The local day (days since the epoch) being accumulated and its deviations from the profile, and the
        /// current weekday's offset (0 until it has `seasonalMinWeeks` weeks).
        var day: Int64 = .min
        var daySum = 0.0
        var dayCount = 0.0
        var weekdayOffset = 0.0
        /// The largest recent robust spread (1.4826 × MAD), decaying by 0.1 % a reading.
        var spreadMemory = 0.0
        var tails = TailModels()
    }
    var states: [SensorState] = []
    /// `window` values per sensor in arrival order (a ring).
    var ring: [Double] = []
    /// Per sensor, the ring positions of its values in ascending order of value (`window` bytes each; as of the
    /// last refresh, rebuilt from the ring on restore).
    var order: [UInt8] = []
    /// Room for sorting the positions written since the last refresh.
    var scratch: [UInt8] = []
    /// With the seasonal detector: per sensor 24 × (mean, variance, days).
    var profile: [Double] = []

    /// Profile values per sensor: 24 × (mean, variance, days) by hour of day, then 7 × (offset, weeks) by
    /// weekday (Monday first).
    static let profileStride = 86

    public init(settings: AnomalySettings = AnomalySettings()) {
        precondition((1...AnomalySettings.maxWindow).contains(settings.window), "anomaly window must be 1...\(AnomalySettings.maxWindow)")
        self.settings = settings
        scratch = Array(repeating: 0, count: settings.window)
    }

    /// Makes room for sensor slots `0..<sensors` (otherwise the state grows geometrically as slots appear).
    public mutating func reserve(sensors: Int) {
        if sensors > states.count { grow(to: sensors) }
    }

    mutating func grow(to n: Int) {
        let w = settings.window
        states.append(contentsOf: repeatElement(SensorState(), count: n - states.count))
        ring.append(contentsOf: repeatElement(0, count: n * w - ring.count))
        order.append(contentsOf: repeatElement(0, count: n * w - order.count))
        if settings.seasonal {
            profile.append(contentsOf: repeatElement(0, count: n * Self.profileStride - profile.count))
        }
    }

    /// Gives `slot` its own stale gap (`DOMAIN.md` §5: max(3 × its type's nominal period, 5 min)) instead of
    /// ``AnomalySettings/staleAfter``. Not part of the snapshot: the owner sets it again after a restore.
    public mutating func setStaleAfter(_ ms: Int64, slot: UInt32) {
        let s = Int(slot)
        if s >= states.count { grow(to: max(s + 1, states.count * 2)) }
        states[s].staleAfter = ms
    }

    /// Gives `slot` a prior cadence (its type's nominal period, ms): the data-gap detector scores the first gaps
    /// against it until the point's own gaps are learnt. Not part of the snapshot (the learnt cadence is).
    public mutating func setPeriod(_ ms: Int64, slot: UInt32) {
        let s = Int(slot)
        if s >= states.count { grow(to: max(s + 1, states.count * 2)) }
        if states[s].gaps == 0 && ms > 0 { states[s].cadence = Double(ms) }
    }

    /// The cadence after a gap of `gap` ms: a running median of the gaps in the log domain. The first gap is
    /// taken as it is when there is no prior (or it is more than twice off the prior); the next 15 move the
    /// estimate by 30 % of their log ratio (at most ±30 %), later ones by ±2 % towards them.
    static func nextCadence(_ cadence: Double, gap: Int64, gaps: Int32) -> Double {
        let g = Double(gap)
        if cadence <= 0 || (gaps == 0 && (g > 2 * cadence || 2 * g < cadence)) { return g }
        let ratio = g / cadence
        if gaps < 16 { return cadence * pow(ratio, 0.3).clamped(to: 1 / 1.3...1.3) }
        return ratio > 1 ? cadence * 1.02 : ratio < 1 ? cadence / 1.02 : cadence
    }

    /// Scores one reading of `slot` (readings of a sensor must come in event-time order for the rate, gap and
    /// seasonal detectors; out-of-order readings are scored by the value-based detectors only).
    ///
    /// - Parameter rule: The sensor's alarm rule, if any (threshold proximity, time to limit).
    public mutating func score(slot: UInt32, time t: Int64, value x: Double, rule: ThresholdRule?) -> AnomalyScore {
        let s = Int(slot)
        if s >= states.count { grow(to: max(s + 1, states.count * 2)) }
        let limits = EffectiveLimits(rule)
        return withKernel { $0.score(slot: s, time: t, value: x, limits: limits) }
    }

    /// Scores every reading of `batch` into `out` (cleared first), with the alarm limits in force for each
    /// reading (from ``ThresholdDetector/process(_:into:limits:ruleFor:)``, or `nil`: no rules).
    public mutating func score(_ batch: ReadingBatch, limits: ReadingLimits?, into out: inout AnomalyScores) {
        out.removeAll()
        let n = batch.count
        guard n > 0 else { return }
        var maxSlot = -1
        for s in batch.sensor where Int(s) > maxSlot { maxSlot = Int(s) }
        if maxSlot >= states.count { grow(to: max(maxSlot + 1, states.count * 2)) }
        // The columns are sized first and written in place (no per-reading append).
        out.score.append(contentsOf: repeatElement(0, count: n))
        out.detector.append(contentsOf: repeatElement(.threshold, count: n))
        out.baseline.append(contentsOf: repeatElement(0, count: n))
        out.limit.append(contentsOf: repeatElement(.nan, count: n))
        out.log10Tail.append(contentsOf: repeatElement(.nan, count: n))
        let columns = limits ?? ReadingLimits()
        let hasLimits = limits != nil
        withKernel { kernel in
            out.score.withUnsafeMutableBufferPointer { score in
                out.detector.withUnsafeMutableBufferPointer { detector in
                    out.baseline.withUnsafeMutableBufferPointer { baseline in
                        out.limit.withUnsafeMutableBufferPointer { limit in
                            out.log10Tail.withUnsafeMutableBufferPointer { tail in
                                for i in 0..<n {
                                    // A sensor's state is seldom in cache when its next reading comes: start loading it ahead.
                                    if i + 8 < n { kernel.prefetchState(slot: Int(batch.sensor[i + 8])) }
                                    if i + 4 < n { kernel.prefetchRing(slot: Int(batch.sensor[i + 4])) }
                                    let l = hasLimits ? columns[i] : .none
                                    let r = kernel.score(
                                        slot: Int(batch.sensor[i]), time: batch.eventTime[i], value: batch.value[i], limits: l, keepComponents: false)
                                    score[i] = r.score
                                    detector[i] = r.detector
                                    baseline[i] = r.baseline
                                    limit[i] = r.limit ?? .nan
                                    tail[i] = r.log10Tail ?? .nan
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The window of `slot` in arrival order (for tests and explanations).
    func window(slot s: UInt32) -> [Double] {
        let w = settings.window
        let st = states[Int(s)]
        let offset = Int(s) * w
        let head = Int(st.head)
        return st.count < w
            ? Array(ring[offset..<(offset + st.count)]) : Array(ring[(offset + head)..<(offset + w)]) + Array(ring[offset..<(offset + head)])
    }

    /// The window of `slot` in the order of `order` (for tests: ascending as of the last refresh).
    func orderedWindow(slot s: UInt32) -> [Double] {
        let w = settings.window
        let n = min(states[Int(s)].count, w)
        return (0..<n).map { ring[Int(s) * w + Int(order[Int(s) * w + $0])] }
    }

    /// Rebuilds every sensor's order from its ring (after a restore).
    mutating func rebuildOrder() {
        let w = settings.window
        for s in states.indices {
            let n = min(states[s].count, w)
            let sortedPositions = (0..<n).sorted { ring[s * w + $0] < ring[s * w + $1] }
            for (k, p) in sortedPositions.enumerated() { order[s * w + k] = UInt8(p) }
            states[s].unsorted = 0
        }
    }
}

/// The alarm limits in force for one reading.
public struct EffectiveLimits: Sendable, Hashable {
    /// 0: no rule; 1: high (alarm when rising to a level); 2: low.
    public var direction: UInt8
    /// NaN: the level is not set.
    public var level1: Double
    public var level2: Double

    public static let none = EffectiveLimits(direction: 0, level1: .nan, level2: .nan)

    public init(direction: UInt8, level1: Double, level2: Double) {
        self.direction = direction
        self.level1 = level1
        self.level2 = level2
    }

    public init(_ rule: ThresholdRule?) {
        guard let rule else {
            self = .none
            return
        }
        self.init(direction: rule.direction == .high ? 1 : 2, level1: rule.level1 ?? .nan, level2: rule.level2 ?? .nan)
    }
}

/// Per reading of a batch: the alarm limits in force (after dynamic adjustments), as columns.
public struct ReadingLimits: Sendable {
    public var direction: [UInt8] = []
    public var level1: [Double] = []
    public var level2: [Double] = []
    public init() {}
    public var count: Int { direction.count }
    public mutating func removeAll() {
        direction.removeAll(keepingCapacity: true)
        level1.removeAll(keepingCapacity: true)
        level2.removeAll(keepingCapacity: true)
    }
    public mutating func append(_ l: EffectiveLimits) {
        direction.append(l.direction)
        level1.append(l.level1)
        level2.append(l.level2)
    }
    public subscript(_ i: Int) -> EffectiveLimits {
        EffectiveLimits(direction: direction[i], level1: level1[i], level2: level2[i])
    }
}
