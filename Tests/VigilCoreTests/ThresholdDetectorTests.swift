import Testing
import VigilCore
import VigilTesting

/// The naive reference: per sensor, every target level since the last transition; a transition happens when
/// the readings have indicated the same new level continuously for the rule's delay.
struct ReferenceThreshold {
    let rules: [ThresholdRule]
    var current: [UInt32: UInt8] = [:]
    var since: [UInt32: [(Int64, UInt8)]] = [:]
    var raised: [UInt32: Int64] = [:]
    var out: [AlarmTransition] = []

    mutating func add(slot: UInt32, enterprise: UInt32, rule r: Int, time t: Int64, value x: Double) {
        let rule = rules[r]
        let cur = current[slot] ?? 0
        let target = rule.level(of: x, current: cur)
        if target == cur {
            since[slot] = []
            return
        }
        var history = since[slot] ?? []
        history.append((t, target))
        // The run of identical targets ending now.
        var j = history.count - 1
        while j > 0 && history[j - 1].1 == target { j -= 1 }
        history = Array(history[j...])
        since[slot] = history
        let delay = target > cur ? rule.onDelay : rule.offDelay
        if t - history[0].0 >= delay {
            if cur == 0 { raised[slot] = t }
            out.append(AlarmTransition(sensor: slot, enterprise: enterprise, rule: r, time: t, from: cur, to: target, value: x, raisedAt: raised[slot]!))
            current[slot] = target
            since[slot] = []
        }
    }
}

@Suite struct ThresholdDetectorTests {
    @Test func levelsWithDeadband() {
        let gas = ThresholdRule(name: "gas", level1: 25, level2: 50, deadband: 2)
        #expect(gas.level(of: 10, current: 0) == 0)
        #expect(gas.level(of: 25, current: 0) == 1)
        #expect(gas.level(of: 50, current: 0) == 2)
        #expect(gas.level(of: 49, current: 2) == 2)  // within the deadband
        #expect(gas.level(of: 48, current: 2) == 1)
        #expect(gas.level(of: 23.5, current: 1) == 1)
        #expect(gas.level(of: 23, current: 1) == 0)
        let oxygen = ThresholdRule(name: "o2", direction: .low, level1: 19.5, deadband: 0.3)
        #expect(oxygen.level(of: 20.9, current: 0) == 0)
        #expect(oxygen.level(of: 19.5, current: 0) == 1)
        #expect(oxygen.level(of: 19.7, current: 1) == 1)
        #expect(oxygen.level(of: 19.8, current: 1) == 0)
        #expect(ThresholdRule(name: "unset", level1: nil).level(of: 1e9, current: 0) == 0)
    }

    @Test("On-delay: a level must hold before it is raised; raise, escalate, clear carry one alert episode")
    func lifecycle() {
        var detector = ThresholdDetector(rules: [ThresholdRule(name: "gas", level1: 25, level2: 50, onDelay: 5_000)])
        var batch = ReadingBatch()
        for (t, x) in [(0, 10.0), (1_000, 30), (3_000, 31), (6_000, 32), (7_000, 55), (13_000, 56), (14_000, 5), (15_000, 5)] as [(Int64, Double)] {
            batch.append(eventTime: t, sensor: 0, enterprise: 0, value: x)
        }
        var transitions: [AlarmTransition] = []
        detector.process(batch, into: &transitions) { _ in 0 }
        #expect(transitions.map(\.kind) == ["raised", "escalated", "cleared"])
        #expect(transitions.map(\.time) == [6_000, 13_000, 14_000])
        #expect(Set(transitions.map(\.raisedAt)) == [6_000])
    }

    @Test("Randomized: the detector agrees with the naive reference", arguments: 0..<4)
    func randomizedAgreement(variant: Int) {
        let rules = [
            ThresholdRule(name: "gas", level1: 25, level2: 50, deadband: [0, 2, 5, 0][variant], onDelay: [0, 3_000, 0, 10_000][variant],
                offDelay: [0, 0, 4_000, 10_000][variant]),
            ThresholdRule(name: "o2", direction: .low, level1: 19.5, level2: 18, deadband: 0.2, onDelay: 2_000, offDelay: 1_000),
        ]
        for seed in 0..<UInt64(200) {
            var rng = TestRandom(seed: seed &+ UInt64(variant) * 1_000)
            var detector = ThresholdDetector(rules: rules)
            var reference = ReferenceThreshold(rules: rules)
            var transitions: [AlarmTransition] = []
            var batch = ReadingBatch()
            var clock: Int64 = 0
            for _ in 0..<rng.int(in: 1...300) {
                clock += Int64(rng.int(in: 0...2_000))
                let t = rng.bool(0.1) ? clock - Int64(rng.int(in: 0...3_000)) : clock
                let slot = UInt32(rng.int(in: 0...4))
                let r = Int(slot % 2)
                let x = r == 0 ? rng.double(in: 0...70) : rng.double(in: 16...22)
                batch.append(eventTime: t, sensor: slot, enterprise: slot / 2, value: x)
                reference.add(slot: slot, enterprise: slot / 2, rule: r, time: t, value: x)
                if batch.count == 17 {
                    detector.process(batch, into: &transitions) { Int($0 % 2) }
                    batch.removeAll()
                }
            }
            detector.process(batch, into: &transitions) { Int($0 % 2) }
            #expect(transitions == reference.out, "seed \(seed) variant \(variant)")
        }
    }
}
