import Foundation
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
            let limit = (target != 0 ? target : cur) == 2 ? rule.level2! : rule.level1!
            out.append(
                AlarmTransition(
                    sensor: slot, enterprise: enterprise, rule: r, time: t, from: cur, to: target, value: x, raisedAt: raised[slot]!, limit: limit,
                    direction: rule.direction))
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
        #expect(transitions.map(\.kind) == [.raised, .escalated, .cleared])
        #expect(transitions.map(\.time) == [6_000, 13_000, 14_000])
        #expect(Set(transitions.map(\.raisedAt)) == [6_000])
    }

    @Test("Randomized: the detector agrees with the naive reference", arguments: 0..<4)
    func randomizedAgreement(variant: Int) {
        let rules = [
            ThresholdRule(
                name: "gas", level1: 25, level2: 50, deadband: [0, 2, 5, 0][variant], onDelay: [0, 3_000, 0, 10_000][variant],
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

@Suite struct DynamicLimitTests {
    static let utc8: Int64 = 8 * 3_600_000

    /// Event time (ms) of a local date-time in UTC+8.
    static func local(_ y: Int, _ m: Int, _ d: Int, _ h: Int) -> Int64 {
        var c = DateComponents()
        (c.year, c.month, c.day, c.hour) = (y, m, d, h)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3_600)!
        return Int64(calendar.date(from: c)!.timeIntervalSince1970 * 1_000)
    }

    @Test("Local month and hour agree with Foundation's calendar")
    func calendarAgreesWithFoundation() {
        var rng = TestRandom(seed: 4)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3_600)!
        let context = LimitContext(utcOffset: Self.utc8)
        for _ in 0..<5_000 {
            let t = Int64(rng.int(in: -2_000_000_000...4_000_000_000)) * 1_000 + Int64(rng.int(in: 0...999))
            let c = calendar.dateComponents([.month, .hour], from: Date(timeIntervalSince1970: Double(t) / 1_000))
            let (month, hour) = context.calendar(t)
            #expect(month == c.month && hour == c.hour, "t \(t)")
        }
    }

    func transitions(_ rule: ThresholdRule, _ readings: [(Int64, UInt32, Double)], context: LimitContext) -> ([AlarmTransition], ReadingLimits) {
        var detector = ThresholdDetector(rules: [rule])
        var batch = ReadingBatch()
        for (i, r) in readings.enumerated() { batch.append(eventTime: r.0, sensor: UInt32(i), enterprise: r.1, value: r.2) }
        var out: [AlarmTransition] = []
        var limits = ReadingLimits()
        detector.process(batch, into: &out, limits: &limits, context: context) { _ in 0 }
        return (out, limits)
    }

    @Test("Summer lowers a gas rule's levels; the transition names the level in force")
    func seasonalAdjustment() {
        let gas = ThresholdRule(name: "gas", level1: 25, level2: 50, adjustments: [LimitAdjustment(months: 6...8, scale: 0.8)])
        let context = LimitContext(utcOffset: Self.utc8)
        // 22 % LEL: an AL1 in July (limit 20), nothing in January; June 1st 00:30 local is summer already.
        let (out, limits) = transitions(
            gas, [(Self.local(2026, 7, 15, 12), 0, 22), (Self.local(2026, 1, 15, 12), 0, 22), (Self.local(2026, 6, 1, 0) + 1_800_000, 0, 42)],
            context: context)
        #expect(out.map(\.sensor) == [0, 2])
        #expect(out.map(\.limit) == [20, 40])
        #expect(out.map(\.to) == [1, 2])
        #expect(limits.level1 == [20, 25, 20] && limits.level2 == [40, 50, 40])
    }

    @Test("A valid hot-work permit tightens the rule for its enterprise only, and only while valid")
    func permitAdjustment() {
        let gas = ThresholdRule(name: "gas", level1: 25, level2: 50, adjustments: [LimitAdjustment(duringPermit: true, level1: 10, level2: 20)])
        var context = LimitContext(utcOffset: Self.utc8)
        context.permits = [[], [.init(start: 1_000, end: 2_000)]]
        let (out, limits) = transitions(gas, [(1_500, 1, 15), (1_500, 0, 15), (2_000, 1, 15), (999, 1, 15), (1_999, 1, 30)], context: context)
        #expect(out.map(\.sensor) == [0, 4])
        #expect(out.map(\.to) == [1, 2])
        #expect(limits.level1 == [10, 25, 25, 25, 10])
    }

    @Test("A permit naming a unit tightens that unit's points, and points of unknown unit; one without a unit the whole enterprise")
    func permitOfAUnit() {
        let gas = ThresholdRule(name: "gas", level1: 25, level2: 50, adjustments: [LimitAdjustment(duringPermit: true, level1: 10, level2: 20)])
        var context = LimitContext(utcOffset: Self.utc8)
        // Enterprise 1: a permit for unit U1; enterprise 2: one without a unit. Sensor slot i is reading i.
        context.permits = [[], [.init(start: 1_000, end: 2_000, unit: "U1")], [.init(start: 1_000, end: 2_000)]]
        context.sensorUnits = ["U1", "U1", "U2", nil, "U2"]
        let (_, limits) = transitions(gas, [(1_500, 0, 15), (1_500, 1, 15), (1_500, 1, 15), (1_500, 1, 15), (1_500, 2, 15)], context: context)
        // Enterprise 0 has no permit; in enterprise 1, U1 and the point of unknown unit; in enterprise 2, every unit.
        #expect(limits.level1 == [25, 10, 25, 10, 10])
        #expect(WorkPermit(kind: "hot_work_1", start: 0, end: 10, unit: "U1").covers(unit: "U1", at: 5))
        #expect(!WorkPermit(kind: "hot_work_1", start: 0, end: 10, unit: "U1").covers(unit: "U2", at: 5))
        #expect(!WorkPermit(kind: "hot_work_1", start: 0, end: 10, unit: "U1").covers(unit: "U1", at: 10))
        #expect(WorkPermit(kind: "hot_work_1", start: 0, end: 10).covers(unit: "U2", at: 0))
    }

    @Test("Adjustments only tighten: the tightest applying level wins, in the rule's direction")
    func tightestWins() {
        let oxygen = ThresholdRule(
            name: "o2", direction: .low, level1: 19.5, level2: 18,
            adjustments: [
                LimitAdjustment(hours: 0..<6, level1: 20, level2: 17),  // raises AL1 (tighter), lowers AL2 (looser: ignored)
                LimitAdjustment(hours: 22..<24, scale: 0.5),  // looser: ignored
                LimitAdjustment(duringPermit: true, level1: 20.3),
            ])
        #expect(oxygen.limits(month: 1, hour: 3, permit: false) == EffectiveLimits(direction: 2, level1: 20, level2: 18))
        #expect(oxygen.limits(month: 1, hour: 23, permit: false) == EffectiveLimits(direction: 2, level1: 19.5, level2: 18))
        #expect(oxygen.limits(month: 1, hour: 3, permit: true) == EffectiveLimits(direction: 2, level1: 20.3, level2: 18))
        #expect(oxygen.limits(month: 1, hour: 12, permit: false) == EffectiveLimits(oxygen))
        // A level that is not set stays unset.
        let one = ThresholdRule(name: "one", level1: 10, adjustments: [LimitAdjustment(scale: 0.5)])
        let l = one.limits(month: 1, hour: 0, permit: false)
        #expect(l.level1 == 5 && l.level2.isNaN)
    }
}

@Suite struct PointSetpointTests {
    /// A tank level rule with deadband 2 and a 60 s on-delay; the point's setpoints H 80 / HH 90 / L 20 / LL 10.
    static let rule = ThresholdRule(name: "tank_level", level1: nil, deadband: 2, onDelay: 60_000)
    static let points = PointSetpoints(high: 80, highHigh: 90, low: 20, lowLow: 10)

    static func run(_ values: [Double], setpoints: PointSetpoints? = points, restoreAt cut: Int? = nil) throws -> (
        transitions: [AlarmTransition], limits: [EffectiveLimits]
    ) {
        var detector = ThresholdDetector(rules: [rule])
        var out: [AlarmTransition] = []
        var limits: [EffectiveLimits] = []
        let context = LimitContext(setpoints: [nil, setpoints])
        for (k, x) in values.enumerated() {
            if k == cut {
                var w = SnapshotWriter()
                detector.write(to: &w)
                var r = SnapshotReader(w.bytes)
                detector = try ThresholdDetector(rules: [rule], reading: &r)
            }
            var batch = ReadingBatch(capacity: 1)
            batch.append(eventTime: Int64(k) * 30_000, sensor: 1, enterprise: 0, value: x, offset: Int64(k))
            var columns = ReadingLimits()
            detector.process(batch, into: &out, limits: &columns, context: context) { _ in 0 }
            limits.append(columns[0])
        }
        return (out, limits)
    }

    @Test("setpoints make a point two-sided: H/HH going up, L/LL going down, each with the rule's deadband and delay")
    func twoSided() throws {
        // Up to HH and back (deadband 2: 79 still holds H, 77 clears), then down to LL and back (21 holds L, 23 clears).
        let values: [Double] = [50, 85, 85, 85, 95, 95, 95, 79, 77, 77, 77, 50, 15, 15, 15, 5, 5, 5, 21, 23, 23, 23, 50]
        let (transitions, limits) = try Self.run(values)
        let summary = transitions.map { "\($0.kind) \($0.from)→\($0.to) \($0.direction) @\($0.time / 30_000) limit \($0.limit)" }
        #expect(
            summary == [
                "raised 0→1 high @3 limit 80.0", "escalated 1→2 high @6 limit 90.0", "de-escalated 2→1 high @7 limit 80.0",
                "cleared 1→0 high @8 limit 80.0", "raised 0→1 low @14 limit 20.0", "escalated 1→2 low @17 limit 10.0",
                "de-escalated 2→1 low @18 limit 20.0", "cleared 1→0 low @19 limit 20.0",
            ], "\(summary)")
        // While normal, the limits reported are those of the nearer side.
        #expect(limits[0].direction == 1 && limits[0].level1 == 80 && limits[0].level2 == 90)
        #expect(limits[12].direction == 2 && limits[12].level1 == 20 && limits[12].level2 == 10)
        // The same with a snapshot and restore in the middle of the low alarm.
        #expect(try Self.run(values, restoreAt: 16).transitions == transitions)
    }

    @Test("a two-sided rule (oxygen: L 19.5, H 23.5) alarms both ways; a point's own setpoints take precedence")
    func twoSidedRule() {
        let oxygen = ThresholdRule(name: "oxygen", level1: nil, sides: PointSetpoints(high: 23.5, low: 19.5))
        var detector = ThresholdDetector(rules: [oxygen])
        var out: [AlarmTransition] = []
        var limits = ReadingLimits()
        // Slot 0 uses the rule's sides; slot 1 has its own setpoints (H 22).
        let context = LimitContext(setpoints: [nil, PointSetpoints(high: 22)])
        var batch = ReadingBatch(capacity: 8)
        for (k, (slot, x)) in [(0, 20.9), (0, 19.0), (0, 20.9), (0, 24.0), (1, 22.5), (1, 19.0)].enumerated() {
            batch.append(eventTime: Int64(k) * 1_000, sensor: UInt32(slot), enterprise: 0, value: x, offset: Int64(k))
        }
        detector.process(batch, into: &out, limits: &limits, context: context) { _ in 0 }
        #expect(
            out.map { "\($0.sensor) \($0.kind) \($0.direction) \($0.limit)" } == [
                "0 raised low 19.5", "0 cleared low 19.5", "0 raised high 23.5", "1 raised high 22.0", "1 cleared high 22.0",
            ])
    }

    @Test("a point without any level is reported once as 'threshold not set', again only after levels came and went")
    func thresholdNotSet() {
        var detector = ThresholdDetector(rules: [Self.rule])
        var out: [AlarmTransition] = []
        var limits = ReadingLimits()
        func step(_ setpoints: PointSetpoints?) -> [Int] {
            var batch = ReadingBatch(capacity: 3)
            for k in 0..<3 { batch.append(eventTime: Int64(k), sensor: 0, enterprise: 0, value: 50, offset: Int64(k)) }
            detector.process(batch, into: &out, limits: &limits, context: LimitContext(setpoints: [setpoints])) { _ in 0 }
            return detector.thresholdNotSet
        }
        #expect(step(nil) == [0])
        #expect(step(nil) == [])
        #expect(step(PointSetpoints(lowLow: 10)) == [], "one level on one side is enough")
        #expect(step(nil) == [0])
        #expect(out.isEmpty)
    }

    @Test("a point without setpoints keeps its rule; one whose value jumps across sides restarts the on-delay")
    func fallbacksAndSideChanges() throws {
        // No setpoints and a rule without levels: never alarms.
        #expect(try Self.run([50, 95, 95, 95, 5, 5, 5], setpoints: nil).transitions.isEmpty)
        // Only an upper side.
        let upperOnly = try Self.run([50, 5, 5, 5, 95, 95, 95], setpoints: PointSetpoints(high: 80)).transitions
        #expect(upperOnly.map(\.to) == [1] && upperOnly.first?.direction == .high && upperOnly.first?.time == 6 * 30_000)
        // H for 30 s, then L: the pending H is dropped, and L must hold its own 60 s.
        let jumpy = try Self.run([50, 85, 15, 15, 15]).transitions
        #expect(jumpy.map { "\($0.to) \($0.direction) @\($0.time / 30_000)" } == ["1 low @4"])
    }
}
