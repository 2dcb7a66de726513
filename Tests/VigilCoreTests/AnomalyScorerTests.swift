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

    @Test("A lasting shift is caught at once and settles; a steady trend is not flagged")
    func lastingShift() {
        var data = noise(300, seed: 5)
        // sd of the noise: 0.5 × √2 / 2 ≈ 0.35; the shift 8 sd.
        for i in 0..<200 { data.append((3_000_000 + Int64(i) * 10_000, data[i].1 + 2.8)) }
        let scores = run(data)
        #expect(scores[300].score >= 0.6, "\(scores[300])")
        // It settles: the last 100 readings score below 0.6.
        #expect(scores.suffix(100).allSatisfy { $0.score < 0.6 })
        // A trend that has always been there: 0.01 sd per reading for 2,000 readings.
        let trend = noise(2_000, seed: 6).enumerated().map { ($0.element.0, $0.element.1 + 0.0035 * Double($0.offset)) }
        #expect(run(trend).dropFirst(50).allSatisfy { $0.score < 0.6 })
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

    @Test("the stale rule: a gap past the stale gap scores 0.6; a sensor's own stale gap replaces the default")
    func perSensorStaleGap() {
        var settings = AnomalySettings()
        settings.staleAfter = 300_000
        var scorer = AnomalyScorer(settings: settings)
        scorer.setStaleAfter(900_000, slot: 0)
        // Both sensors report every minute, then both are silent for 400 s: past the default 5 min, within
        // sensor 0's 15 min.
        for k in 0..<30 {
            for s: UInt32 in [0, 1] { _ = scorer.score(slot: s, time: Int64(k) * 60_000, value: 10 + Double(k % 3), rule: nil) }
        }
        let t = 29 * 60_000 + 400_000 as Int64
        let gapped = [0, 1].map { s in scorer.score(slot: s, time: t, value: 11, rule: nil) }
        #expect(gapped[0].components.dataGap < 0.6 && gapped[1].components.dataGap >= 0.6, "\(gapped)")
        #expect(gapped[1].detector == .dataGap && gapped[1].log10Tail == nil)
        // A gap past its own 15 min still counts.
        let late = scorer.score(slot: 0, time: t + 1_000_000, value: 11, rule: nil)
        #expect(late.detector == .dataGap && late.score >= 0.6)
    }

    @Test("a gap is scored against the point's own cadence: every gap of a regular hourly series scores 0, a dropout 1")
    func learntCadence() {
        for cadence: Int64 in [1_000, 300_000, 3_600_000] {
            var scorer = AnomalyScorer()
            var rng = TestRandom(seed: 3)
            var t: Int64 = 0
            var scores: [Double] = []
            for _ in 0..<500 {
                // ±10 % jitter around the cadence.
                t += cadence + Int64(Double(cadence) * rng.double(in: -0.1...0.1))
                scores.append(scorer.score(slot: 0, time: t, value: 50 + rng.double(in: -1...1), rule: nil).components.dataGap)
            }
            #expect(scores.allSatisfy { $0 == 0 }, "cadence \(cadence): \(scores.filter { $0 > 0 }.prefix(5))")
            let dropout = scorer.score(slot: 0, time: t + 30 * cadence, value: 50, rule: nil)
            #expect(dropout.detector == .dataGap && dropout.score == 1, "cadence \(cadence): \(dropout)")
        }
    }

    @Test("flat and quantised signals give finite, unsaturated scores; a point that has never moved is not scored")
    func degenerateSpreads() {
        var scorer = AnomalyScorer()
        var rng = TestRandom(seed: 4)
        // Constant for 100 readings: no scale yet, no scores.
        for k in 0..<100 { #expect(scorer.score(slot: 0, time: Int64(k) * 1_000, value: 20, rule: nil).score == 0) }
        // Then a quantised signal (steps of 0.5, mostly flat): its one-step moves are not outliers.
        var scores: [Double] = []
        for k in 100..<3_000 {
            let x = 20 + 0.5 * (rng.double(in: 0...1) < 0.1 ? (rng.double(in: 0...1) < 0.5 ? 1 : -1) : 0)
            scores.append(scorer.score(slot: 0, time: Int64(k) * 1_000, value: x, rule: nil).score)
        }
        #expect(
            scores.dropFirst(200).allSatisfy { $0 < 0.6 } && scores.allSatisfy(\.isFinite), "\(scores.enumerated().filter { $0.1 >= 0.6 }.prefix(5))")
        // A jump of 20 steps is.
        let jump = scorer.score(slot: 0, time: 3_000_000, value: 30, rule: nil)
        #expect(jump.score >= 0.9 && jump.log10Tail != nil, "\(jump)")
    }

    @Test("a point flat every night learns its nights: the flatline does not flag the fourth night, a stuck sensor by day it does")
    func flatNightsAreNormal() {
        var scorer = AnomalyScorer()
        var rng = TestRandom(seed: 12)
        var nightFlags = [Int](repeating: 0, count: 4)
        // Every 5 minutes for 4 days: noise by day, exactly 20 from 22:00 to 06:00.
        for k in 0..<(4 * 288) {
            let t = Int64(k) * 300_000
            let hour = (t / 3_600_000) % 24
            let night = hour >= 22 || hour < 6
            let s = scorer.score(slot: 0, time: t, value: night ? 20 : 40 + rng.double(in: -2...2), rule: nil)
            if night && s.components.flatline >= 0.6 { nightFlags[Int(t / 86_400_000)] += 1 }
        }
        #expect(nightFlags[3] == 0, "\(nightFlags)")
        // Day 5, 10:00: stuck at one value. The nights' long runs have taught the flatline detector that long
        // runs are normal for this point at any hour, so it does not flag it (a known limit); the seasonal
        // profile does, once the hour expects another value (from 22:00 on), and FROZEN after 24 h.
        var flatline = 0.0
        var seasonal: Int? = nil
        for k in 0..<200 {
            let s = scorer.score(slot: 0, time: 4 * 86_400_000 + 10 * 3_600_000 + Int64(k) * 300_000, value: 41.5, rule: nil)
            flatline = max(flatline, s.components.flatline)
            if seasonal == nil && s.detector == .seasonal && s.score >= 0.6 { seasonal = k }
        }
        #expect(flatline < 0.6)
        #expect(seasonal.map { (140...160).contains($0) } == true, "\(String(describing: seasonal))")
    }

    @Test("the tail model reads a reading's probability before learning it, and learns a heavier tail from a heavy-tailed point")
    func tailModel() {
        var light = TailModel(.z)
        var heavy = TailModel(.z)
        var rng = TestRandom(seed: 1)
        for _ in 0..<5_000 {
            // |z| of Gaussian noise (Box–Muller) and of Laplace noise with unit variance.
            let u1 = max(rng.double(in: 0...1), 1e-12)
            let g = abs((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * rng.double(in: 0...1)))
            let l = -log(max(rng.double(in: 0...1), 1e-12)) / 2.0.squareRoot()
            light.learn(g, .z)
            heavy.learn(l, .z)
        }
        #expect(heavy.excess > light.excess && heavy.rate > light.rate, "\(light) \(heavy)")
        #expect(heavy.log10Tail(8, .z) > light.log10Tail(8, .z))
        #expect(light.log10Tail(2, .z) == 0 && light.log10Tail(8, .z) < -5)
        // A reading is scored before it is learnt; once learnt, a like one is less surprising.
        var m = light
        let before = m.log10Tail(6, .z)
        m.learn(6, .z)
        #expect(m.log10Tail(6, .z) > before)
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
        // The combined score is at most the largest detector's own (the calibrated ones are adjusted for their
        // number) and at least every rule's.
        #expect(
            scores.allSatisfy { s in
                s.score >= 0 && s.score <= 1 && s.score <= AnomalyScore.Detector.allCases.map { s.components[$0] }.max()!
                    && s.score >= max(s.components.threshold, s.components.rateOfRise)
            })
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

    @Test("The seasonal baseline flags a daytime value at night after the other detectors accept it, then settles")
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
        var series: [AnomalyScore] = []
        var seasonalFlags = 0
        let night = start + 5 * 86_400_000 + 2 * 3_600_000
        for k in 0..<120 {
            let t = night + Int64(k) * 60_000
            let s = scorer.score(slot: 0, time: t, value: normal(t) + min(1, Double(k) / 30) * 20 + rng.double(in: -0.5...0.5), rule: nil)
            if s.components.seasonal >= 0.6 { seasonalFlags += 1 }
            series.append(s)
        }
        // The hour-of-day profile flags it while the short-term detectors have already accepted the new level;
        // then it settles too (the profile's level follows a lasting shift, `seasonalSettle`).
        #expect(
            (25..<45).contains { k in series[k].components.seasonal >= 0.6 && series[k].components.robustZ < 0.6 && series[k].components.ewma < 0.6 })
        #expect(seasonalFlags >= 5 && series.suffix(40).allSatisfy { $0.score < 0.6 }, "\(seasonalFlags)")
    }

    @Test("day of week: a lower weekend becomes part of the baseline after two weeks; kernel and reference agree over five weeks")
    func weekdayOffsets() {
        // Every 15 min for 5 weeks from a Monday: a daily wave, 6 lower on Saturdays and Sundays, small noise.
        func run(_ settings: AnomalySettings) -> (kernel: [AnomalyScore], reference: [AnomalyScore]) {
            var scorer = AnomalyScorer(settings: settings)
            var reference = ReferenceAnomalyScorer(settings: settings)
            var rng = TestRandom(seed: 21)
            let monday: Int64 = 1_704_067_200_000  // 2024-01-01T00:00Z
            var kernel: [AnomalyScore] = []
            var naive: [AnomalyScore] = []
            for k in 0..<(35 * 96) {
                let t = monday + Int64(k) * 900_000
                let dayIndex = k / 96
                let hour = Double(k % 96) / 4
                let x = 50 + 5 * sin(2 * Double.pi * hour / 24) - (dayIndex % 7 >= 5 ? 6 : 0) + rng.double(in: -0.5...0.5)
                kernel.append(scorer.score(slot: 0, time: t, value: x, rule: nil))
                naive.append(reference.score(slot: 0, time: t, value: x, rule: nil))
            }
            return (kernel, naive)
        }
        let (kernel, naive) = run(AnomalySettings())
        #expect(kernel == naive)
        // Saturday of week 5, its first 4 hours: with the weekday offsets the seasonal detector takes the lower
        // level as normal, and the hour profile, weekday-neutral, stays sharp.
        let saturday = (4 * 7 + 5) * 96
        let quiet = kernel[saturday..<(saturday + 16)].map(\.components.seasonal).max()!
        #expect(quiet < 0.3, "\(quiet)")
        // The same with a weekday's level on that Saturday morning: it stands out with the offsets (0.40), not
        // without them (0)
        // (the plain profile has learnt that its hours vary by the weekend's step).
        func saturdayAtWeekdayLevel(_ settings: AnomalySettings) -> Double {
            var scorer = AnomalyScorer(settings: settings)
            var rng = TestRandom(seed: 21)
            let monday: Int64 = 1_704_067_200_000
            var top = 0.0
            for k in 0..<(saturday + 16) {
                let dayIndex = k / 96
                let hour = Double(k % 96) / 4
                let weekend = dayIndex % 7 >= 5 && k < saturday
                let x = 50 + 5 * sin(2 * Double.pi * hour / 24) - (weekend ? 6 : 0) + rng.double(in: -0.5...0.5)
                let s = scorer.score(slot: 0, time: monday + Int64(k) * 900_000, value: x, rule: nil)
                if k >= saturday { top = max(top, s.components.seasonal) }
            }
            return top
        }
        var without = AnomalySettings()
        without.seasonalMinWeeks = 1_000
        let flagged = saturdayAtWeekdayLevel(AnomalySettings())
        let missed = saturdayAtWeekdayLevel(without)
        #expect(flagged > 0.3 && missed < 0.1, "with offsets \(flagged), without \(missed)")
    }

    @Test("anomaly state from before the calibrated detectors (formats before 7) is refused, so it starts afresh; an empty one is read")
    func olderStateStartsAfresh() throws {
        var scorer = AnomalyScorer()
        for k in 0..<30 { _ = scorer.score(slot: 0, time: Int64(k) * 1_000, value: Double(k % 5), rule: nil) }
        var w = SnapshotWriter()
        scorer.write(to: &w)
        var r = SnapshotReader(w.bytes)
        #expect(throws: SnapshotError.self) { _ = try AnomalyScorer(settings: AnomalySettings(), reading: &r, version: 6) }
        var empty = SnapshotWriter()
        AnomalyScorer().write(to: &empty)
        for version: UInt16 in [3, 6, 7] {
            var e = SnapshotReader(empty.bytes)
            _ = try AnomalyScorer(settings: AnomalySettings(), reading: &e, version: version)
            #expect(e.atEnd)
        }
    }
}
