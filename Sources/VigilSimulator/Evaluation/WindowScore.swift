#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Scores anomaly scores against labelled windows the way the Numenta Anomaly Benchmark does (NAB, standard
/// profile): a row is *flagged* when its score reaches the threshold; the first flagged row inside an anomaly's
/// window earns `tp × S(y)`, where `y` runs from −1 at the window's first row to 0 at its end and
/// `S(y) = 2 / (1 + e^{5y}) − 1` rewards early detection (0.987 at the start, 0 at the end); later flagged rows
/// in the same window count for nothing; a window with no flagged row costs `fn`; every flagged row outside all
/// windows costs `fp`, scaled down right after a window (by `−S(y)` with `y` the distance past the window's
/// end in window lengths, full weight beyond 3 window lengths or before any window). The raw score is normalised
/// to 100 for a perfect detector (every window flagged at its first row, nothing else) and 0 for one that flags
/// nothing. The threshold is swept once over the whole set (never per series).
public struct WindowScore: Sendable {
    public struct Profile: Sendable {
        public var tp = 1.0
        public var fp = 0.11
        public var fn = 1.0
        public init() {}
    }

    /// One series' scores and anomaly windows (row ranges).
    public struct Input: Sendable {
        public var scores: [Double]
        public var windows: [Range<Int>]
        public init(scores: [Double], windows: [Range<Int>]) {
            self.scores = scores
            self.windows = windows
        }
    }

    public struct Result: Sendable, Hashable {
        public var threshold: Double
        /// 100 × (raw − null) / (perfect − null).
        public var normalized: Double
        public var windows = 0
        public var detected = 0
        /// Runs of consecutive flagged rows, and those overlapping a window (event-wise precision).
        public var episodes = 0
        public var matchedEpisodes = 0
        public var flaggedRows = 0
        public var rows = 0
        public var recall: Double { windows == 0 ? 1 : Double(detected) / Double(windows) }
        public var precision: Double { episodes == 0 ? 1 : Double(matchedEpisodes) / Double(episodes) }
    }

    public let profile: Profile
    let inputs: [Input]
    /// Flagged-row costs outside windows: (score, weight), highest score first, and the running sums of the
    /// weights (for the sweep: the cost at a threshold is one binary search away).
    let outside: [(score: Double, weight: Double)]
    let outsideWeight: [Double]
    /// Per window, the running maxima from its first row: (score, reward of a first detection there).
    let records: [[(score: Double, reward: Double)]]
    let perfect: Double
    let null: Double

    static func sigmoid(_ y: Double) -> Double { 2 / (1 + exp(5 * y)) - 1 }

    public init(_ inputs: [Input], profile: Profile = Profile()) {
        self.inputs = inputs
        self.profile = profile
        var outside: [(Double, Double)] = []
        var records: [[(Double, Double)]] = []
        var windows = 0
        for input in inputs {
            let ws = input.windows.sorted { $0.lowerBound < $1.lowerBound }
            windows += ws.count
            for w in ws {
                var best = -Double.infinity
                var r: [(Double, Double)] = []
                for i in w where input.scores[i] > best {
                    best = input.scores[i]
                    r.append((best, profile.tp * Self.sigmoid(-Double(w.upperBound - i) / Double(w.count))))
                }
                records.append(r)
            }
            var k = 0
            var previous: Range<Int>? = nil
            for i in input.scores.indices {
                while k < ws.count && ws[k].upperBound <= i {
                    previous = ws[k]
                    k += 1
                }
                if k < ws.count && ws[k].contains(i) { continue }
                var weight = 1.0
                if let p = previous {
                    let y = Double(i - p.upperBound + 1) / Double(p.count)
                    weight = y > 3 ? 1 : -Self.sigmoid(y)
                }
                outside.append((input.scores[i], weight))
            }
        }
        outside.sort { $0.0 > $1.0 }
        self.outside = outside
        var sums = [0.0]
        sums.reserveCapacity(outside.count + 1)
        for o in outside { sums.append(sums[sums.count - 1] + o.1) }
        outsideWeight = sums
        self.records = records
        perfect = Double(windows) * profile.tp * Self.sigmoid(-1)
        null = -Double(windows) * profile.fn
    }

    /// The normalised score at each threshold.
    public func normalized(at thresholds: [Double]) -> [Double] {
        thresholds.map { th in
            var raw = 0.0
            for r in records {
                // The first running maximum at or above the threshold is the first flagged row.
                if let hit = r.first(where: { $0.score >= th }) { raw += hit.reward } else { raw -= profile.fn }
            }
            // The rows at or above the threshold lead `outside`.
            var lo = 0
            var hi = outside.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if outside[mid].score >= th { lo = mid + 1 } else { hi = mid }
            }
            raw -= profile.fp * outsideWeight[lo]
            return 100 * (raw - null) / (perfect - null)
        }
    }

    /// The best threshold of `thresholds` (the lowest, of equals) with its full result.
    public func sweep(_ thresholds: [Double]) -> Result {
        let scores = normalized(at: thresholds)
        var best = 0
        for i in scores.indices where scores[i] > scores[best] { best = i }
        return result(at: thresholds[best])
    }

    /// Detections, episodes and flagged rows at `threshold`.
    public func result(at threshold: Double) -> Result {
        var r = Result(threshold: threshold, normalized: normalized(at: [threshold])[0])
        for input in inputs {
            r.windows += input.windows.count
            r.rows += input.scores.count
            for w in input.windows where w.contains(where: { input.scores[$0] >= threshold }) { r.detected += 1 }
            var i = 0
            let n = input.scores.count
            while i < n {
                guard input.scores[i] >= threshold else {
                    i += 1
                    continue
                }
                let start = i
                while i < n && input.scores[i] >= threshold { i += 1 }
                r.flaggedRows += i - start
                r.episodes += 1
                if input.windows.contains(where: { $0.overlaps(start..<i) }) { r.matchedEpisodes += 1 }
            }
        }
        return r
    }

    /// Thresholds 0, 0.01, …, 1.
    public static let grid: [Double] = (0...100).map { Double($0) / 100 }

    /// The thresholds to sweep: ``grid``, 400 of the set's own scores from its top millionth to its median
    /// (log-spaced in rank), and one above every score (flag nothing).
    public var candidates: [Double] {
        var all = outside.map(\.score)
        for r in records { all += r.map(\.score) }
        all.sort(by: >)
        guard let top = all.first else { return Self.grid }
        var out = Self.grid
        for j in 0..<400 {
            let rank = Int(Double(all.count) * pow(10, -6 + 5.7 * Double(j) / 399))
            out.append(all[min(rank, all.count - 1)])
        }
        out.append(top.nextUp)
        return Array(Set(out)).sorted()
    }
}

/// NAB's windowed-Gaussian baseline: each value's two-sided Gaussian tail probability against the mean and
/// standard deviation of the previous `window` values, reported on the anomaly scores' scale
/// (−log₁₀(p) / 10, so 0.6 ↔ p = 10⁻⁶; not clamped at 1, so that the sweep can tell extreme values apart). It
/// sees values only, not timestamps.
public struct WindowedGaussian: Sendable {
    public var window: Int
    public init(window: Int = 1_000) { self.window = window }

    public func scores(_ values: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: values.count)
        var sum = 0.0
        var sum2 = 0.0
        for i in values.indices {
            let n = Double(min(i, window))
            if n >= 20 {
                let mean = sum / n
                let sd = max(0, sum2 / n - mean * mean).squareRoot()
                let z = sd > 0 ? abs(values[i] - mean) / sd : (values[i] == mean ? 0 : 40)
                let p = max(erfc(z / 2.0.squareRoot()), 1e-300)
                out[i] = max(0, -log10(p) / 10)
            }
            sum += values[i]
            sum2 += values[i] * values[i]
            if i >= window {
                sum -= values[i - window]
                sum2 -= values[i - window] * values[i - window]
            }
        }
        return out
    }
}
