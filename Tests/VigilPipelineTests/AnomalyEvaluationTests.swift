import Testing
import VigilCore
import VigilSimulator

/// The detectors on the labelled evaluation set (`vigil-bench anomaly` prints the same figures in full).
@Suite struct AnomalyEvaluationTests {
    static let set = EvaluationSet.generate()

    @Test("the evaluation set: 48 series, 1 s to 1 h, clean ones and every anomaly kind, the same from the same seed")
    func setShape() {
        let set = Self.set
        #expect(set.count >= 40)
        #expect(Set(set.map(\.cadence)) == [1_000, 10_000, 60_000, 300_000, 900_000, 3_600_000])
        #expect(set.filter(\.anomalies.isEmpty).count >= 10)
        #expect(Set(set.flatMap { $0.anomalies.map(\.kind) }) == Set(EvaluationSet.AnomalyKind.allCases))
        for s in set {
            #expect(s.times == s.times.sorted() && s.values.allSatisfy(\.isFinite), "\(s.name)")
            for a in s.anomalies { #expect(a.window.contains(a.onset) && a.window.upperBound <= s.count, "\(s.name)") }
        }
        let again = EvaluationSet.generate()
        #expect(again.map(\.values) == set.map(\.values) && again.map(\.times) == set.map(\.times))
        #expect(EvaluationSet.generate(seed: 7).map(\.values) != set.map(\.values))
    }

    @Test("targets: the combined score clearly above the windowed-Gaussian baseline; under 1 flagged row in 1,000 of the clean series")
    func targets() {
        let report = AnomalyEvaluation.run(Self.set)
        let combined = report.line("combined")!
        let baseline = report.line("windowed_gaussian")!
        print(
            "ANOMALY EVALUATION combined \(combined.best.normalized) at \(combined.best.threshold), at 0.6 \(combined.atDefault.normalized); "
                + "baseline \(baseline.best.normalized); clean flagged \(report.cleanFlagged)/\(report.cleanRows)")
        #expect(combined.best.normalized >= baseline.best.normalized + 15, "\(combined.best) vs \(baseline.best)")
        // The default threshold is close to the best one.
        #expect(combined.atDefault.normalized >= combined.best.normalized - 5)
        #expect(report.cleanFlagged * 1_000 < report.cleanRows, "\(report.cleanFlaggedBySeries)")
        // Spikes, flatlines and dropouts are all found at the default threshold.
        for kind in [EvaluationSet.AnomalyKind.spike, .flatline, .dropout] {
            let k = report.detectedByKind[kind]!
            #expect(k.detected == k.windows, "\(kind): \(k)")
        }
    }

    @Test("the window score: a perfect detector scores 100, flagging nothing 0, flagging everything below 0; earlier is better")
    func windowScore() {
        let windows = [100..<200, 500..<600]
        var perfect = [Double](repeating: 0, count: 1_000)
        for w in windows { perfect[w.lowerBound] = 1 }
        var late = [Double](repeating: 0, count: 1_000)
        for w in windows { late[w.upperBound - 10] = 1 }
        let all = [Double](repeating: 1, count: 1_000)
        func score(_ s: [Double]) -> Double { WindowScore([.init(scores: s, windows: windows)]).normalized(at: [0.5])[0] }
        #expect(abs(score(perfect) - 100) < 1e-9)
        #expect(score([Double](repeating: 0, count: 1_000)) == 0)
        #expect(score(all) < 0)
        #expect(score(late) > 0 && score(late) < score(perfect))
        // The sweep finds the threshold that separates them.
        let mixed = perfect.enumerated().map { $0.element == 1 ? 0.9 : ($0.offset % 7 == 0 ? 0.5 : 0) }
        let best = WindowScore([.init(scores: mixed, windows: windows)]).sweep(WindowScore.grid)
        #expect(best.threshold > 0.5 && best.threshold <= 0.9 && abs(best.normalized - 100) < 1e-9 && best.recall == 1 && best.precision == 1)
    }
}
