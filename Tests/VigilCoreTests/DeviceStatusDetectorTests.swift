import Testing
@testable import VigilCore
import VigilTesting

/// A naive reading of `DOMAIN.md` §5 FAULT and FROZEN from each point's whole history: after every reading,
/// the point is faulty when its latest value (input order) is outside the range, since the first of the
/// faulty readings that end its history; it is frozen when its in-order readings end in a run of equal values
/// whose first reading is more than `frozenAfter` before the latest. Events are the changes of those states.
struct ReferenceDeviceStatus {
    let checks: [DeviceCheck]
    let frozenAfter: Int64
    var history: [UInt32: [(t: Int64, x: Double)]] = [:]
    var inOrder: [UInt32: [(t: Int64, x: Double)]] = [:]
    var fault: [UInt32: Int64] = [:]
    var frozen: [UInt32: Int64] = [:]

    mutating func add(sensor s: UInt32, enterprise e: UInt32, t: Int64, x: Double, check c: Int, reading: Int, into events: inout [DeviceStatusEvent])
    {
        let check = checks[c]
        history[s, default: []].append((t, x))
        let faulty = { (v: Double) in v < check.rangeMin || v > check.rangeMax }
        if faulty(x) {
            let run = history[s]!.reversed().prefix { faulty($0.x) }
            if fault[s] == nil {
                fault[s] = run.last!.t
                events.append(
                    DeviceStatusEvent(
                        sensor: s, enterprise: e, kind: .fault, time: t, since: t, value: x,
                        limit: x < check.rangeMin ? check.rangeMin : check.rangeMax, reading: reading))
            }
        } else if let since = fault.removeValue(forKey: s) {
            events.append(DeviceStatusEvent(sensor: s, enterprise: e, kind: .faultCleared, time: t, since: since, value: x, reading: reading))
        }
        guard check.analog, t >= (inOrder[s]?.last?.t ?? .min) else { return }
        inOrder[s, default: []].append((t, x))
        let flatStart = inOrder[s]!.reversed().prefix { $0.x == x }.last!.t
        if t - flatStart > frozenAfter {
            if frozen[s] == nil {
                frozen[s] = flatStart + frozenAfter
                events.append(
                    DeviceStatusEvent(sensor: s, enterprise: e, kind: .frozen, time: t, since: flatStart + frozenAfter, value: x, reading: reading))
            }
        } else if let since = frozen.removeValue(forKey: s) {
            events.append(DeviceStatusEvent(sensor: s, enterprise: e, kind: .unfrozen, time: t, since: since, value: x, reading: reading))
        }
    }
}

@Suite struct DeviceStatusDetectorTests {
    static let checks = [
        DeviceCheck(rangeMin: 0, rangeMax: 100),  // gas, %LEL
        DeviceCheck(rangeMin: -50, rangeMax: 300, analog: true),  // temperature
        DeviceCheck(rangeMin: 0, rangeMax: 1, analog: false),  // a valve-fault contact
        DeviceCheck(),  // no range
    ]

    static func batch(_ rs: ArraySlice<(UInt32, Int64, Double)>) -> ReadingBatch {
        var b = ReadingBatch()
        for (s, t, x) in rs { b.append(eventTime: t, sensor: s, enterprise: s / 4, value: x) }
        return b
    }

    @Test("a value outside the instrument range is a fault until a value inside it; the limit is the bound crossed")
    func faultEpisode() {
        var d = DeviceStatusDetector(checks: Self.checks, frozenAfter: 86_400_000)
        var events: [DeviceStatusEvent] = []
        let readings: [(UInt32, Int64, Double)] = [(0, 0, 10), (0, 1_000, 120), (0, 2_000, 130), (0, 3_000, -1), (0, 4_000, 12), (1, 4_000, -60)]
        d.process(Self.batch(readings[...]), into: &events) { Int($0 % 4) }
        #expect(
            events == [
                DeviceStatusEvent(sensor: 0, enterprise: 0, kind: .fault, time: 1_000, since: 1_000, value: 120, limit: 100, reading: 1),
                DeviceStatusEvent(sensor: 0, enterprise: 0, kind: .faultCleared, time: 4_000, since: 1_000, value: 12, reading: 4),
                DeviceStatusEvent(sensor: 1, enterprise: 0, kind: .fault, time: 4_000, since: 4_000, value: -60, limit: -50, reading: 5),
            ])
        #expect(!d.isFaulty(slot: 0) && d.isFaulty(slot: 1))
    }

    @Test("an analog value unchanged for more than frozen_after is frozen until it changes; a discrete one never")
    func frozenEpisode() {
        var d = DeviceStatusDetector(checks: Self.checks, frozenAfter: 86_400_000)
        var events: [DeviceStatusEvent] = []
        // Sensor 0 (gas) and 2 (valve contact) report the same value every 10 min for 25 h, then 0 changes.
        var readings: [(UInt32, Int64, Double)] = []
        for k in 0...150 {
            let t = Int64(k) * 600_000
            readings.append((0, t, 5))
            readings.append((2, t, 0))
        }
        readings.append((0, 90_000_000, 5.5))
        d.process(Self.batch(readings[...]), into: &events) { Int($0 % 4) }
        // The first reading more than 24 h after the run began (at 0) is the one at 24 h 10 min.
        #expect(
            events == [
                DeviceStatusEvent(sensor: 0, enterprise: 0, kind: .frozen, time: 87_000_000, since: 86_400_000, value: 5, reading: 290),
                DeviceStatusEvent(sensor: 0, enterprise: 0, kind: .unfrozen, time: 90_000_000, since: 86_400_000, value: 5.5, reading: 302),
            ])
        #expect(!d.isFrozen(slot: 0) && !d.isFrozen(slot: 2))
    }

    @Test("a late reading neither breaks nor extends a flat run; a sensor without a type is not checked")
    func lateReadingsAndUntyped() {
        var d = DeviceStatusDetector(checks: Self.checks, frozenAfter: 10_000)
        var events: [DeviceStatusEvent] = []
        let readings: [(UInt32, Int64, Double)] = [(1, 0, 20), (1, 5_000, 20), (1, 3_000, 21), (1, 11_000, 20), (5, 0, -1e9), (5, 20_000, -1e9)]
        d.process(Self.batch(readings[...]), into: &events) { $0 == 5 ? nil : Int($0 % 4) }
        #expect(events == [DeviceStatusEvent(sensor: 1, enterprise: 0, kind: .frozen, time: 11_000, since: 10_000, value: 20, reading: 3)])
    }

    @Test("randomized streams: the detector gives the reference's events, in one batch, in small batches, and across a snapshot")
    func matchesReference() throws {
        for seed in UInt64(1)...5 {
            var rng = SplitMix64(seed: seed)
            var readings: [(UInt32, Int64, Double)] = []
            var t: Int64 = 0
            for _ in 0..<6_000 {
                t += Int64(rng.next() % 4) * 30_000
                let s = UInt32(rng.next() % 8)
                // Mostly few distinct values (flat runs), now and then out of range, sometimes late.
                let r = rng.next() % 100
                let x: Double = r < 5 ? 150 : r < 8 ? -70 : r < 12 ? Double(rng.next() % 50) : Double(rng.next() % 2)
                let late = rng.next() % 10 == 0 ? Int64(rng.next() % 5) * 60_000 : 0
                readings.append((s, t - late, x))
            }
            var reference = ReferenceDeviceStatus(checks: Self.checks, frozenAfter: 600_000)
            var expected: [DeviceStatusEvent] = []
            for (k, (s, t, x)) in readings.enumerated() {
                reference.add(sensor: s, enterprise: s / 4, t: t, x: x, check: Int(s % 4), reading: k, into: &expected)
            }
            #expect(expected.contains { $0.kind == .frozen } && expected.contains { $0.kind == .fault }, "seed \(seed) exercises both")

            var whole = DeviceStatusDetector(checks: Self.checks, frozenAfter: 600_000)
            var events: [DeviceStatusEvent] = []
            whole.process(Self.batch(readings[...]), into: &events) { Int($0 % 4) }
            #expect(events == expected, "seed \(seed), one batch")

            var split = DeviceStatusDetector(checks: Self.checks, frozenAfter: 600_000)
            var pieces: [DeviceStatusEvent] = []
            var start = 0
            while start < readings.count {
                let end = min(readings.count, start + 1 + Int(rng.next() % 200))
                if start > 0 && rng.next() % 3 == 0 {
                    var w = SnapshotWriter()
                    split.write(to: &w)
                    var r = SnapshotReader(w.bytes)
                    split = try DeviceStatusDetector(checks: Self.checks, frozenAfter: 600_000, reading: &r)
                    #expect(r.atEnd)
                }
                let before = pieces.count
                split.process(Self.batch(readings[start..<end]), into: &pieces) { Int($0 % 4) }
                for j in before..<pieces.count { pieces[j].reading += start }
                start = end
            }
            #expect(pieces == expected, "seed \(seed), small batches and snapshots")
        }
    }

    @Test("frozen points count in the data-quality share next to offline ones, each point once")
    func frozenShare() {
        var b = AlarmBehaviour()
        for s in UInt32(0)..<5 { b.noteReading(sensor: s, at: 0) }
        b.noteReading(sensor: 0, at: 3_600_000)
        b.noteReading(sensor: 1, at: 3_600_000)
        b.noteReading(sensor: 2, at: 3_600_000)
        // 3 and 4 silent for 1 h: offline; 1 and 3 frozen (3 counts as offline only).
        let i = b.indicators(at: 3_600_000, staleAfter: 1_800_000) { $0 == 1 || $0 == 3 }
        #expect(i.offlineShare == 0.4 && i.frozenShare == 0.2)
        #expect(b.indicators(at: 3_600_000, staleAfter: 1_800_000).frozenShare == 0)
    }
}

@Suite struct OfflineLogTests {
    @Test("offline point-hours and episodes within the window: overlap only, open episodes up to now, old ones forgotten")
    func kpiOverTheWindow() throws {
        let hour: Int64 = 3_600_000
        var log = OfflineLog(window: 10 * hour)
        log.noteOffline(sensor: 1, at: 0)
        log.noteOnline(sensor: 1, at: 2 * hour)
        log.noteOffline(sensor: 2, at: 5 * hour)
        log.noteOffline(sensor: 2, at: 6 * hour)  // already offline: ignored
        log.noteOffline(sensor: 3, at: 9 * hour)
        log.noteOnline(sensor: 3, at: 9 * hour + hour / 2)
        log.noteOnline(sensor: 4, at: 7 * hour)  // never offline: ignored
        #expect(log.kpi(at: 10 * hour) == (pointHours: 2 + 5 + 0.5, episodes: 3))
        // At 11 h the first episode is partly outside the window (1 h of it counts), and it did not start within it.
        #expect(log.kpi(at: 11 * hour) == (pointHours: 1 + 6 + 0.5, episodes: 2))
        var w = SnapshotWriter()
        log.write(to: &w)
        var r = SnapshotReader(w.bytes)
        var restored = try OfflineLog(window: 10 * hour, reading: &r)
        #expect(r.atEnd && restored == log)
        // At 13 h the first has left the window and is forgotten.
        #expect(log.kpi(at: 13 * hour) == (pointHours: 8 + 0.5, episodes: 2))
        #expect(log.episodes.count == 2)
        restored.noteOnline(sensor: 2, at: 12 * hour)
        #expect(restored.kpi(at: 13 * hour) == (pointHours: 7 + 0.5, episodes: 2))
    }
}
