import Testing
@testable import VigilCore
import VigilTesting

@Suite struct AnomalyScorerTests {
    @Test("The ring holds the last N values, and quickselect medians agree with sorting")
    func kernelsAgreeWithNaive() {
        var rng = TestRandom(seed: 1)
        for w in [1, 2, 3, 5, 10, 60] {
            var settings = AnomalySettings()
            settings.window = w
            settings.warmUp = 1
            var scorer = AnomalyScorer(settings: settings)
            var history: [UInt32: [Double]] = [:]
            for i in 0..<2_000 {
                let slot = UInt32(rng.int(in: 0...3))
                let x = rng.bool(0.2) ? Double(rng.int(in: 0...3)) : rng.double(in: -5...5)  // duplicates on purpose
                _ = scorer.score(slot: slot, time: Int64(i), value: x, rule: nil)
                history[slot, default: []].append(x)
                let last = Array(history[slot]!.suffix(w))
                #expect(scorer.window(slot: slot) == last, "w \(w) step \(i)")
                var copy = last.shuffled(using: &rng)
                let sorted = last.sorted()
                let expected = last.count % 2 == 1 ? sorted[last.count / 2] : (sorted[last.count / 2 - 1] + sorted[last.count / 2]) / 2
                #expect(AnomalyScorer.selectMedian(&copy, copy.count) == expected)
            }
        }
    }

    func run(_ values: [(Int64, Double)], rule: ThresholdRule? = nil, settings: AnomalySettings = AnomalySettings()) -> [AnomalyScore] {
        var scorer = AnomalyScorer(settings: settings)
        return values.map { scorer.score(slot: 0, time: $0.0, value: $0.1, rule: rule) }
    }

    func noise(_ n: Int, seed: UInt64, base: Double = 10, sd: Double = 0.5, start: Int64 = 0, step: Int64 = 10_000) -> [(Int64, Double)] {
        var rng = TestRandom(seed: seed)
        var out: [(Int64, Double)] = []
        for i in 0..<n {
            // Approximately normal: sum of uniforms.
            let u = (0..<6).map { _ in rng.double(in: -1...1) }.reduce(0, +) / 6 * 3
            out.append((start + Int64(i) * step, base + sd * u))
        }
        return out
    }

    @Test("Normal noise stays quiet (few false alarms)")
    func quietOnNoise() {
        let scores = run(noise(2_000, seed: 3))
        let loud = scores.filter { $0.score >= 0.5 }.count
        #expect(loud < 20, "\(loud) of 2000 scored ≥ 0.5")
    }

    @Test func spikeScoresHighWithExplanation() {
        var data = noise(100, seed: 4)
        data.append((1_000_000, 25))
        let last = run(data).last!
        #expect(last.score == 1)
        #expect(last.detector == .robustZ || last.detector == .ewma)
        #expect(abs(last.baseline - 10) < 1)
    }

    @Test func thresholdLevelsScore() {
        let gas = ThresholdRule(name: "gas", level1: 25, level2: 50)
        let scores = run([(0, 5), (10_000, 26), (20_000, 55)], rule: gas)
        #expect(scores[1].score == 0.7 && scores[1].detector == .threshold && scores[1].limit == 25)
        #expect(scores[2].score == 1 && scores[2].limit == 50)
    }

    @Test("A slow drift is caught by CUSUM before any single reading looks odd")
    func slowDrift() {
        var data = noise(200, seed: 5)
        for i in 0..<200 { data.append((2_000_000 + Int64(i) * 10_000, 10 + Double(i) * 0.02 + (data[i].1 - 10))) }
        let scores = run(data)
        let detected = scores[200...].first { $0.score >= 0.5 }
        #expect(detected?.detector == .cusum, "\(String(describing: detected))")
    }

    @Test func stuckSensorIsFlatline() {
        var data = noise(50, seed: 6)
        for i in 0..<80 { data.append((500_000 + Int64(i) * 10_000, 10.25)) }
        #expect(run(data).last!.detector == .flatline)
    }

    @Test func gapIsDataGap() {
        var data = noise(50, seed: 7)
        data.append((500_000 + 3_600_000, 10))
        let last = run(data).last!
        #expect(last.detector == .dataGap && last.score >= 0.6)
    }

    @Test("A ramp towards the limit scores by time to limit before it is reached")
    func rateOfRise() {
        let level = ThresholdRule(name: "level", level1: 90)
        var data = noise(60, seed: 8, base: 70, sd: 0.3)
        for i in 0..<60 { data.append((600_000 + Int64(i) * 10_000, 70 + Double(i) * 0.2 + (data[i].1 - 70))) }
        let scores = run(data, rule: level)
        // Flat before the ramp: no time to limit; on the ramp (0.02/s, ~1000 s to 90) it scores.
        #expect(scores[..<60].allSatisfy { $0.components.rateOfRise < 0.1 })
        #expect(scores[80...].contains { $0.components.rateOfRise > 0.15 })
        #expect(scores.allSatisfy { s in s.score >= 0 && s.score <= 1 && s.score == AnomalyScore.Detector.allCases.map { s.components[$0] }.max() })
    }
}
