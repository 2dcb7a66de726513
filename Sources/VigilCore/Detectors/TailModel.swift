#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A point's own tail of one detector statistic, for calibrating its score as a tail probability: *peaks over
/// a threshold* with an exponential tail. Above the reference level `u` of its ``TailPrior``, the statistic's
/// survival is modelled as `P(X > x) = rate · exp(−(x − u) / excess)`, where `rate` is the share of readings
/// above `u` and `excess` their mean excess over it, both learnt from the point's own readings (exponentially
/// weighted; the prior is where they start). A heavy-tailed or spiky point learns a larger excess and its
/// extremes become less surprising; a quiet one keeps the prior's light tail.
///
/// The probability of a reading is read *before* the reading is learnt (prequential), so a reading is never
/// judged against itself. Two `Float`s per point and detector; a reading at or below `u` costs one update.
struct TailModel: Sendable, Hashable {
    var rate: Float
    var excess: Float

    init(_ prior: TailPrior) {
        rate = Float(prior.rate)
        excess = Float(prior.excess)
    }

    init(rate: Float, excess: Float) {
        self.rate = rate
        self.excess = excess
    }

    /// log₁₀ of the modelled probability of a statistic above `x` (0 at or below the reference level).
    @inline(__always)
    func log10Tail(_ x: Double, _ prior: TailPrior) -> Double {
        guard x > prior.u else { return 0 }
        return log10(Double(rate)) - (x - prior.u) / Double(excess) * 0.434_294_481_903_251_8
    }

    /// Learns `x`: the rate moves towards 1 or 0, and an excess (capped, so that one huge value cannot blind
    /// the detector for long) updates the mean excess.
    @inline(__always)
    mutating func learn(_ x: Double, _ prior: TailPrior) {
        let above = x > prior.u
        let r = Double(rate) + prior.rateAlpha * ((above ? 1 : 0) - Double(rate))
        rate = Float(max(r, prior.rateFloor))
        if above {
            let e = Double(excess) + prior.excessAlpha * (min(x - prior.u, prior.cap) - Double(excess))
            excess = Float(max(e, prior.excessFloor))
        }
    }
}

/// Where a ``TailModel`` starts and how fast it learns.
struct TailPrior: Sendable, Hashable {
    /// The reference level: statistics at or below it are not rare.
    var u: Double
    /// The prior share of readings above `u`, and their prior mean excess.
    var rate: Double
    var excess: Double
    /// Learning rates: per reading for the rate, per exceedance for the excess.
    var rateAlpha = 0.001
    var excessAlpha = 0.05
    /// The rate is never below this (a point's memory of ~1/`rateAlpha` readings cannot show anything rarer).
    var rateFloor = 0.001
    var excessFloor: Double
    /// Excesses above this are learnt as this.
    var cap: Double

    /// |z| of a z-score detector: Gaussian at first (P(|Z| > 2) = 0.0455, mean excess 0.373), the excess
    /// learnt over about 20 exceedances (some 400 readings) and capped at 3 (z = 5), so that an episode of
    /// outliers teaches the model slowly that outliers are normal.
    static let z = TailPrior(u: 2, rate: 0.0455, excess: 0.373, excessAlpha: 0.05, excessFloor: 0.1, cap: 3)
    /// The CUSUM of surprise: in control it is 0 but for the odd reading or two (a z above 2 adds at least
    /// 0.8). Its runs are long, so its excess is learnt more slowly (over about 100 readings above `u`).
    static let cusum = TailPrior(u: 2, rate: 0.01, excess: 2, excessAlpha: 0.01, excessFloor: 0.25, cap: 20)
    /// Consecutive repeats of the same value: a continuous signal seldom repeats one. Every reading of a run
    /// is learnt, slowly: a run of `L` readings raises the excess by about 0.003 · L² / 2.
    static let flatline = TailPrior(u: 0.5, rate: 0.001, excess: 1, excessAlpha: 0.003, excessFloor: 0.5, cap: 1_000)
    /// The gap before a reading in units of the point's cadence: gaps over 1.5 cadences are uncommon.
    static let gap = TailPrior(u: 1.5, rate: 0.01, excess: 1, excessAlpha: 0.02, excessFloor: 0.25, cap: 100)
}

/// The calibrated detectors' tail models of one point.
struct TailModels: Sendable, Hashable {
    var robustZ = TailModel(.z)
    var ewma = TailModel(.z)
    var cusum = TailModel(.cusum)
    var flatline = TailModel(.flatline)
    var dataGap = TailModel(.gap)
    var seasonal = TailModel(.z)
}

extension AnomalyScore {
    /// How many detectors are calibrated: the combined tail probability is this times the smallest of theirs
    /// (Bonferroni), so that "one of six detectors saw a one-in-a-million value" is not itself one in a million.
    static let calibratedDetectors = 6.0
    static let log10CalibratedDetectors = log10(calibratedDetectors)

    /// A tail probability on the score scale: `−log₁₀(p) / 10`, clamped to [0, 1] (0.5 ↔ p = 10⁻⁵,
    /// 0.6 ↔ 10⁻⁶, 1 ↔ 10⁻¹⁰; Numenta's log-likelihood scale).
    @inline(__always)
    static func score(log10Tail l: Double) -> Double { min(1, max(0, -l / 10)) }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
