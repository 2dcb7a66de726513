import Foundation
import Testing
@testable import VigilCore
import VigilTesting

@Suite struct AnomalyScorerTests {
    @Test(
        "The ring holds the last N values; its sorted copy stays sorted (values merged in one at a time or in groups); median and MAD agree with sorting",
        arguments: [1, 3, 8])
    func kernelsAgreeWithNaive(refresh: Int) {
        var rng = TestRandom(seed: UInt64(refresh))
        for w in [1, 2, 3, 5, 10, 15, 16, 17, 60] {
            var settings = AnomalySettings()
            settings.window = w
            settings.warmUp = 1
            settings.robustRefresh = refresh
            var scorer = AnomalyScorer(settings: settings)
            var history: [UInt32: [Double]] = [:]
            for i in 0..<2_000 {
                let slot = UInt32(rng.int(in: 0...3))
                // Duplicates, signed zeros and wide magnitudes on purpose.
                let x =
                    rng.bool(0.2)
                    ? Double(rng.int(in: 0...3)) : rng.bool(0.1) ? (rng.bool(0.5) ? 0.0 : -0.0) : rng.double(in: -5...5) * (rng.bool(0.1) ? 1e12 : 1)
                _ = scorer.score(slot: slot, time: Int64(i), value: x, rule: nil)
                history[slot, default: []].append(x)
                let last = Array(history[slot]!.suffix(w))
                #expect(scorer.window(slot: slot) == last, "w \(w) step \(i)")
                // The order is brought up to date with the values written since the last refresh at each refresh
                // (signed zeros compare equal, so compare the values' order, not their bits).
                scorer.withKernel { $0.sortNewValues(slot: Int(slot)) }
                #expect(scorer.window(slot: slot) == last, "w \(w) step \(i)")
                let ordered = scorer.orderedWindow(slot: slot)
                #expect(ordered == last.sorted(), "w \(w) step \(i)")
                #expect(ordered.map(\.bitPattern).sorted() == last.map(\.bitPattern).sorted(), "w \(w) step \(i)")
                // The median and MAD the next reading is scored against (refreshed on every reading here).
                func median(_ a: [Double]) -> Double {
                    let b = a.sorted()
                    return b.count % 2 == 1 ? b[b.count / 2] : (b[b.count / 2 - 1] + b[b.count / 2]) / 2
                }
                scorer.withKernel { $0.refreshRobust(slot: Int(slot)) }
                let m = median(last)
                let state = scorer.states[Int(slot)]
                #expect(state.median.bitPattern == m.bitPattern || (state.median == 0 && m == 0), "w \(w) step \(i)")
                #expect(state.mad == median(last.map { abs($0 - m) }), "w \(w) step \(i)")
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

    @Test("a sensor's own stale gap (3 × its nominal period) replaces the default for the data-gap score")
    func perSensorStaleGap() {
        var scorer = AnomalyScorer()
        scorer.setStaleAfter(900_000, slot: 0)
        var last: [AnomalyScore] = []
        // Both sensors report every 5 min and 1 s: past the default 5 min, within sensor 0's 15 min.
        for k in 0..<30 {
            let t = Int64(k) * 301_000
            last = [0, 1].map { s in scorer.score(slot: s, time: t, value: 10 + Double(k % 3), rule: nil) }
        }
        #expect(last[0].components.dataGap == 0 && last[1].components.dataGap >= 0.6)
        // A gap past its own 15 min still counts.
        let late = scorer.score(slot: 0, time: 29 * 301_000 + 1_000_000, value: 11, rule: nil)
        #expect(late.detector == .dataGap && late.score >= 0.6)
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

@Suite struct AnomalyKernelTests {
    /// A stream over several days with a daily cycle, noise, spikes, flat runs, gaps and some out-of-order
    /// readings, for `sensors` sensors.
    static func stream(seed: UInt64, sensors: Int, days: Int, step: Int64) -> [(slot: UInt32, t: Int64, x: Double)] {
        var rng = TestRandom(seed: seed)
        var out: [(UInt32, Int64, Double)] = []
        let start: Int64 = 1_700_000_000_000
        var t = start
        let end = start + Int64(days) * 86_400_000
        var flat: [Int: Int] = [:]
        while t < end {
            for s in 0..<sensors {
                if rng.bool(0.01) { continue }  // dropouts
                let phase = Double((t - start) % 86_400_000) / 86_400_000 * 2 * Double.pi
                var x = 50 + Double(s) + 10 * sin(phase) + rng.double(in: -1...1)
                if rng.bool(0.002) { x += 30 }
                if rng.bool(0.001) { flat[s] = 20 }
                if let f = flat[s], f > 0 {
                    x = 42
                    flat[s] = f - 1
                }
                let jitter: Int64 = rng.bool(0.01) ? -Int64(rng.int(in: 1...120_000)) : 0
                out.append((UInt32(s), t + jitter, x))
            }
            t += rng.bool(0.001) ? step * 60 : step
        }
        return out
    }

    @Test("The kernel (per reading and per batch) agrees bit for bit with the naive reference")
    func agreesWithReference() {
        let rules: [ThresholdRule?] = [
            ThresholdRule(name: "high", level1: 70, level2: 80), ThresholdRule(name: "low", direction: .low, level1: 42, level2: 35), nil,
        ]
        for seed in [1, 2, 3] as [UInt64] {
            var settings = AnomalySettings()
            settings.seasonalMinDays = 2
            settings.utcOffset = 8 * 3_600_000
            settings.window = [60, 7, 20][Int(seed) - 1]
            let data = Self.stream(seed: seed, sensors: 5, days: 4, step: 120_000)
            var reference = ReferenceAnomalyScorer(settings: settings)
            var single = AnomalyScorer(settings: settings)
            var batched = AnomalyScorer(settings: settings)
            var batch = ReadingBatch()
            var limits = ReadingLimits()
            var scores = AnomalyScores()
            var expected: [AnomalyScore] = []
            var seasonalScores = 0
            for (i, r) in data.enumerated() {
                let rule = rules[Int(r.slot) % 3]
                let e = reference.score(slot: r.slot, time: r.t, value: r.x, rule: rule)
                let a = single.score(slot: r.slot, time: r.t, value: r.x, rule: rule)
                #expect(a == e, "seed \(seed) reading \(i)")
                if a != e { return }
                if e.components.seasonal > 0 { seasonalScores += 1 }
                expected.append(e)
                batch.append(eventTime: r.t, sensor: r.slot, enterprise: 0, value: r.x)
                limits.append(EffectiveLimits(rule))
                if batch.count == 333 || i == data.count - 1 {
                    batched.score(batch, limits: limits, into: &scores)
                    for k in 0..<batch.count {
                        let e = expected[k]
                        #expect(scores.score[k] == e.score && scores.detector[k] == e.detector && scores.baseline[k] == e.baseline)
                        #expect(scores.limit[k].isNaN ? e.limit == nil : scores.limit[k] == e.limit)
                    }
                    batch.removeAll()
                    limits.removeAll()
                    expected.removeAll()
                }
            }
            #expect(seasonalScores > 0, "the seasonal detector never scored: the test would not cover it")
        }
    }

    @Test("The seasonal baseline flags a daytime value at night that the other detectors accept")
    func seasonalFlagsWrongHour() {
        var settings = AnomalySettings()
        settings.utcOffset = 8 * 3_600_000
        var scorer = AnomalyScorer(settings: settings)
        var rng = TestRandom(seed: 9)
        // Local midnight of a day (UTC+8), readings every minute for 5 days: 20 at night, 40 at noon.
        let start: Int64 = 1_700_000_000_000 - (1_700_000_000_000 + settings.utcOffset) % 86_400_000
        func normal(_ t: Int64) -> Double {
            let phase: Double = Double((t - start) % 86_400_000) / 86_400_000 * 2 * Double.pi
            return 30 - 10 * cos(phase)
        }
        var falseFlags = 0
        var t = start
        while t < start + 5 * 86_400_000 {
            let s = scorer.score(slot: 0, time: t, value: normal(t) + rng.double(in: -0.5...0.5), rule: nil)
            if t > start + 3 * 86_400_000 && s.components.seasonal >= 0.6 { falseFlags += 1 }
            t += 60_000
        }
        #expect(falseFlags == 0)
        // Day 6, 02:00 local: the value climbs to the noon level within 30 min and stays there for 90 min.
        var last: AnomalyScore? = nil
        var seasonalFlags = 0
        let night = start + 5 * 86_400_000 + 2 * 3_600_000
        for k in 0..<120 {
            let t = night + Int64(k) * 60_000
            let s = scorer.score(slot: 0, time: t, value: normal(t) + min(1, Double(k) / 30) * 20 + rng.double(in: -0.5...0.5), rule: nil)
            if s.components.seasonal >= 0.6 { seasonalFlags += 1 }
            last = s
        }
        // The short-term detectors have accepted the new level; the hour-of-day profile has not.
        #expect(seasonalFlags >= 90)
        #expect(
            last.map { $0.components.seasonal >= 0.6 && $0.components.robustZ < 0.6 && $0.components.ewma < 0.6 } == true,
            "\(String(describing: last))")
        // (CUSUM, still high after the step, may tie with it at 1.)
        #expect(last.map { $0.detector == .seasonal || $0.components.cusum == $0.score } == true)
    }

    @Test("State from the first format-2 builds (latest values queued outside the ring) restores into the ring")
    func pendingValuesOfOlderSnapshotsEnterTheRing() throws {
        var settings = AnomalySettings()
        settings.window = 5
        settings.robustRefresh = 3
        settings.seasonal = false
        var rng = TestRandom(seed: 11)
        for count in [2, 4, 5, 6, 9, 12, 13] {
            let history = (0..<count).map { _ in rng.double(in: -3...3).rounded() + rng.double(in: 0...0.01) }
            let waiting = min(2, count)
            // That layout: the k-th value of the ring part at position k % window, the head where the next
            // eviction goes (0 until the ring first fills), the latest values in the pending slots.
            let inRing = count - waiting
            var ringValues = [Double](repeating: 0, count: 5)
            for k in 0..<inRing { ringValues[k % 5] = history[k] }
            var w = SnapshotWriter()
            w.u32(settings.fingerprint)
            w.u64(1)
            for v: Int64 in [Int64(count), inRing < 5 ? 0 : Int64(inRing % 5), 0, Int64(waiting), Int64(count)] { w.i64(v) }
            for v in [history.last!, 0, 0, 0, 0] { w.f64(v) }
            w.i64(0)
            w.i64(0)
            for v in [0.0, 0, 0] { w.f64(v) }
            w.i64(.min)
            for v in [0.0, 0, 0, .nan, .nan] { w.f64(v) }
            w.bool(false)
            w.u64(5)
            for x in ringValues { w.f64(x) }
            w.u64(3)
            for j in 0..<3 { w.f64(j < waiting ? history[inRing + j] : 0) }
            w.u64(0)
            var r = SnapshotReader(w.bytes)
            var scorer = try AnomalyScorer(settings: settings, reading: &r, version: 2)
            #expect(r.atEnd)
            let last = Array(history.suffix(5))
            #expect(scorer.window(slot: 0) == last, "count \(count)")
            #expect(scorer.orderedWindow(slot: 0) == last.sorted(), "count \(count)")
            // The next value goes where the oldest was.
            _ = scorer.score(slot: 0, time: Int64(count), value: 100, rule: nil)
            #expect(scorer.window(slot: 0) == Array((last + [100]).suffix(5)), "count \(count)")
            // Written again in format 3 (no pending count and slots) and read back: the same state.
            var again = SnapshotWriter()
            scorer.write(to: &again)
            #expect(again.bytes.count == w.bytes.count - 8 - (8 + 3 * 8), "count \(count)")
            var r3 = SnapshotReader(again.bytes)
            let restored = try AnomalyScorer(settings: settings, reading: &r3)
            #expect(
                r3.atEnd && restored.window(slot: 0) == scorer.window(slot: 0) && restored.orderedWindow(slot: 0) == scorer.window(slot: 0).sorted())
        }
    }
}
