public import VigilCore

/// Runs the anomaly scorer over the ``EvaluationSet`` and scores it with ``WindowScore``: the combined score,
/// each detector on its own, and the ``WindowedGaussian`` baseline, each with its threshold swept once over the
/// whole set; plus the flagged share of the clean series' rows at the default threshold.
public enum AnomalyEvaluation: Sendable {
    public struct Line: Sendable {
        /// `combined`, a detector's name, or `windowed_gaussian`.
        public var name: String
        public var best: WindowScore.Result
        public var atDefault: WindowScore.Result
    }

    public struct Report: Sendable {
        public var series = 0
        public var cleanSeries = 0
        public var rows = 0
        public var windows = 0
        public var defaultThreshold = 0.0
        public var lines: [Line] = []
        /// Rows of the series without anomalies flagged at the default threshold by the combined score.
        public var cleanFlagged = 0
        public var cleanRows = 0
        /// The clean series with flagged rows (name: rows).
        public var cleanFlaggedBySeries: [String: Int] = [:]
        /// Per anomaly kind: windows with a combined score at or above the default threshold, and windows.
        public var detectedByKind: [EvaluationSet.AnomalyKind: (detected: Int, windows: Int)] = [:]
        public func line(_ name: String) -> Line? { lines.first { $0.name == name } }
    }

    /// Scores every series of `set` (each as one sensor of a fresh scorer, statistical detectors only).
    public static func run(_ set: [EvaluationSet.Series], settings: AnomalySettings = AnomalySettings(), defaultThreshold: Double = 0.6)
        -> Report
    {
        var report = Report()
        report.defaultThreshold = defaultThreshold
        var combined: [WindowScore.Input] = []
        var perDetector: [AnomalyScore.Detector: [WindowScore.Input]] = [:]
        var baseline: [WindowScore.Input] = []
        let detectors = AnomalyScore.Detector.allCases.filter { $0 != .threshold && $0 != .rateOfRise }
        for series in set {
            var scorer = AnomalyScorer(settings: settings)
            var scores = [Double](repeating: 0, count: series.count)
            var components = [[Double]](repeating: [Double](repeating: 0, count: series.count), count: detectors.count)
            for i in 0..<series.count {
                let s = scorer.score(slot: 0, time: series.times[i], value: series.values[i], rule: nil)
                scores[i] = s.score
                for (k, d) in detectors.enumerated() { components[k][i] = s.components[d] }
            }
            let windows = series.anomalies.map(\.window)
            for a in series.anomalies {
                var k = report.detectedByKind[a.kind] ?? (0, 0)
                k.windows += 1
                if a.window.contains(where: { scores[$0] >= defaultThreshold }) { k.detected += 1 }
                report.detectedByKind[a.kind] = k
            }
            combined.append(.init(scores: scores, windows: windows))
            for (k, d) in detectors.enumerated() { perDetector[d, default: []].append(.init(scores: components[k], windows: windows)) }
            baseline.append(.init(scores: WindowedGaussian().scores(series.values), windows: windows))
            report.series += 1
            report.rows += series.count
            report.windows += windows.count
            if windows.isEmpty {
                report.cleanSeries += 1
                report.cleanRows += series.count
                let flagged = scores.count { $0 >= defaultThreshold }
                report.cleanFlagged += flagged
                if flagged > 0 { report.cleanFlaggedBySeries[series.name] = flagged }
            }
        }
        func line(_ name: String, _ inputs: [WindowScore.Input]) -> Line {
            let score = WindowScore(inputs)
            return Line(name: name, best: score.sweep(score.candidates), atDefault: score.result(at: defaultThreshold))
        }
        report.lines.append(line("combined", combined))
        for d in detectors { report.lines.append(line(d.rawValue, perDetector[d] ?? [])) }
        report.lines.append(line("windowed_gaussian", baseline))
        return report
    }

    /// What flags the rows of one series at `threshold`: per detector that won a flagged row, how many rows and
    /// the first few (row, score, value); then every detector's score on the first 6 rows of each anomaly.
    public static func explain(_ series: EvaluationSet.Series, settings: AnomalySettings = AnomalySettings(), threshold: Double = 0.6) -> [String] {
        var scorer = AnomalyScorer(settings: settings)
        var byDetector: [String: [String]] = [:]
        var atOnsets: [String] = []
        func rounded(_ x: Double, _ scale: Double) -> Double { (x * scale).rounded() / scale }
        for i in 0..<series.count {
            let s = scorer.score(slot: 0, time: series.times[i], value: series.values[i], rule: nil)
            if series.anomalies.contains(where: { i >= $0.onset && i < $0.onset + 6 }) {
                let c = AnomalyScore.Detector.allCases.filter { s.components[$0] > 0.05 }.map { "\($0.rawValue) \(rounded(s.components[$0], 100))" }
                atOnsets.append("\(i) x=\(s.value): \(c.joined(separator: " "))")
            }
            guard s.score >= threshold else { continue }
            byDetector[s.detector.rawValue, default: []].append("\(i): \(rounded(s.score, 1_000)) x=\(s.value) base=\(rounded(s.baseline, 1_000))")
        }
        var out = [
            "\(series.name): \(series.count) rows, cadence \(series.cadence) ms, anomalies \(series.anomalies.map { "\($0.kind.rawValue)@\($0.onset) \($0.window)" })"
        ]
        for (d, rows) in byDetector.sorted(by: { $0.key < $1.key }) {
            out.append("  \(d): \(rows.count) rows; \(rows.prefix(12).joined(separator: "; "))")
        }
        if !atOnsets.isEmpty { out.append("  at the anomalies' onsets: \(atOnsets.joined(separator: "; "))") }
        return out
    }
}
