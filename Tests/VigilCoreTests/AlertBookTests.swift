import Testing
import VigilCore
import VigilTesting

@Suite struct AlertBookTests {
    static let deadlines: [RiskLevel: Int64] = [.red: 60_000, .orange: 300_000, .yellow: 600_000, .blue: 3_600_000]

    static func transition(_ sensor: UInt32, _ t: Int64, from: UInt8, to: UInt8, raisedAt: Int64) -> AlarmTransition {
        AlarmTransition(sensor: sensor, enterprise: 0, rule: 0, time: t, from: from, to: to, value: 0, raisedAt: raisedAt, limit: 0)
    }

    @Test("an alarm still active at its deadline escalates one colour, then again at the next colour's deadline, up to red")
    func escalatesOnMissedDeadlines() {
        var book = AlertBook(deadlines: Self.deadlines, checkEvery: 10_000)
        var overdue: [AlertBook.Event] = []
        let raised = book.apply(Self.transition(3, 100_000, from: 0, to: 1, raisedAt: 100_000), severity: .yellow)
        #expect(raised.severity == .yellow && raised.respondBy == 700_000)
        for t in stride(from: Int64(100_000), through: 2_000_000, by: 5_000) { book.observe(watermark: t, into: &overdue) }
        // yellow → orange at 700 s, orange → red at 1000 s, red → red every 60 s after that.
        #expect(overdue.first?.time == 700_000 && overdue.first?.from == .yellow && overdue.first?.to == .orange)
        #expect(overdue.dropFirst().first?.time == 1_000_000 && overdue.dropFirst().first?.to == .red)
        #expect(overdue.dropFirst(2).allSatisfy { $0.from == .red && $0.to == .red })
        #expect(overdue.map(\.time) == [700_000, 1_000_000] + stride(from: Int64(1_060_000), through: 2_000_000, by: 60_000).map { $0 })
        // Clearing ends it: the clear carries the colour the alarm had.
        let cleared = book.apply(Self.transition(3, 2_000_000, from: 1, to: 0, raisedAt: 100_000), severity: nil)
        #expect(cleared.severity == .red && cleared.respondBy == nil && book.severity(slot: 3) == nil)
        overdue.removeAll()
        for t in stride(from: Int64(2_000_000), through: 4_000_000, by: 5_000) { book.observe(watermark: t, into: &overdue) }
        #expect(overdue.isEmpty)
    }

    @Test func escalationByLevelKeepsAHigherColourAndDeescalationLowersIt() {
        var book = AlertBook(deadlines: Self.deadlines)
        _ = book.apply(Self.transition(0, 0, from: 0, to: 1, raisedAt: 0), severity: .yellow)
        var overdue: [AlertBook.Event] = []
        for t in stride(from: Int64(0), through: 1_000_000, by: 1_000) { book.observe(watermark: t, into: &overdue) }
        #expect(book.severity(slot: 0) == .red)
        #expect(book.apply(Self.transition(0, 1_000_000, from: 1, to: 2, raisedAt: 0), severity: .orange).severity == .red)
        #expect(book.apply(Self.transition(0, 1_100_000, from: 2, to: 1, raisedAt: 0), severity: .yellow).severity == .yellow)
    }

    @Test("an acknowledgement before the deadline stops escalation; a later level rise needs a new one")
    func acknowledgementStopsEscalation() {
        var book = AlertBook(deadlines: Self.deadlines, checkEvery: 10_000)
        var events: [AlertBook.Event] = []
        _ = book.apply(Self.transition(2, 100_000, from: 0, to: 1, raisedAt: 100_000), severity: .yellow)
        // Acknowledged at 400 s (deadline 700 s); the lookup is asked only while unacknowledged.
        var asked = 0
        let ack: (UInt32, Int, Int64) -> Int64? = { slot, _, raisedAt in
            asked += 1
            return slot == 2 && raisedAt == 100_000 ? 400_000 : nil
        }
        for t in stride(from: Int64(100_000), through: 390_000, by: 5_000) { book.observe(watermark: t, into: &events, acknowledgement: ack) }
        #expect(events.isEmpty && !book.isAcknowledged(slot: 2), "an acknowledgement counts only once the watermark passes it")
        for t in stride(from: Int64(395_000), through: 2_000_000, by: 5_000) { book.observe(watermark: t, into: &events, acknowledgement: ack) }
        #expect(events.count == 1)
        if let e = events.first {
            #expect(e.kind == .acknowledged && e.sensor == 2 && e.raisedAt == 100_000 && e.time == 400_000)
            #expect(e.from == .yellow && e.to == .yellow && e.respondBy == nil)
        }
        #expect(book.isAcknowledged(slot: 2) && book.severity(slot: 2) == .yellow)
        let askedWhileAcknowledged = asked
        // AL1 → AL2 at 2000 s: the old acknowledgement (400 s) is older than the change, so it does not count.
        let rise = book.apply(Self.transition(2, 2_000_000, from: 1, to: 2, raisedAt: 100_000), severity: .orange)
        #expect(rise.respondBy == 2_300_000 && !book.isAcknowledged(slot: 2))
        events.removeAll()
        for t in stride(from: Int64(2_000_000), through: 2_340_000, by: 5_000) { book.observe(watermark: t, into: &events, acknowledgement: ack) }
        #expect(events.map(\.kind) == [.overdue] && events.first?.time == 2_300_000 && events.first?.to == .red)
        #expect(asked > askedWhileAcknowledged)
        // A fall in level keeps an acknowledgement: acknowledged at 2350 s (before red's next deadline, 2360 s), then AL2 → AL1.
        events.removeAll()
        let late: (UInt32, Int, Int64) -> Int64? = { _, _, _ in 2_350_000 }
        for t in stride(from: Int64(2_345_000), through: 2_500_000, by: 5_000) { book.observe(watermark: t, into: &events, acknowledgement: late) }
        #expect(events.map(\.kind) == [.acknowledged] && events.first?.from == .red)
        let fall = book.apply(Self.transition(2, 2_600_000, from: 2, to: 1, raisedAt: 100_000), severity: .yellow)
        #expect(fall.respondBy == nil && book.isAcknowledged(slot: 2))
        // Clearing forgets it.
        _ = book.apply(Self.transition(2, 2_700_000, from: 1, to: 0, raisedAt: 100_000), severity: nil)
        #expect(!book.isAcknowledged(slot: 2))
    }

    @Test("a deadline that passed before the acknowledgement's time escalates first")
    func lateAcknowledgementEscalatesFirst() {
        var book = AlertBook(deadlines: Self.deadlines, checkEvery: 60_000)
        var events: [AlertBook.Event] = []
        _ = book.apply(Self.transition(0, 0, from: 0, to: 1, raisedAt: 0), severity: .yellow)
        // The watermark jumps past both the deadline (600 s) and the acknowledgement (650 s) in one check.
        book.observe(watermark: 0, into: &events, acknowledgement: { _, _, _ in 650_000 })
        book.observe(watermark: 700_000, into: &events, acknowledgement: { _, _, _ in 650_000 })
        #expect(events.map(\.kind) == [.overdue, .acknowledged])
        #expect(events.map(\.time) == [600_000, 650_000] && events.last?.to == .orange)
    }

    /// Random alarm histories (with out-of-order readings): a snapshot/restore at a random point gives the same
    /// overdue events as never stopping.
    @Test func deterministicAndRestorable() throws {
        var total = 0
        var acknowledged = 0
        var overdue = 0
        for seed in 0..<UInt64(40) {
            var rng = TestRandom(seed: seed)
            var items: [(t: Int64, transition: AlarmTransition?, severity: RiskLevel?)] = []
            var level = [UInt8](repeating: 0, count: 6)
            var raisedAt = [Int64](repeating: 0, count: 6)
            var t: Int64 = 0
            for _ in 0..<2_000 {
                t += Int64(rng.int(in: 0...20_000))
                let s = rng.int(in: 0...5)
                var tr: AlarmTransition? = nil
                var sev: RiskLevel? = nil
                if rng.bool(0.01) {
                    let to = UInt8(rng.int(in: 0...2))
                    if to != level[s] {
                        if level[s] == 0 { raisedAt[s] = t }
                        tr = AlarmTransition(
                            sensor: UInt32(s), enterprise: 0, rule: 0, time: t, from: level[s], to: to, value: 0, raisedAt: raisedAt[s], limit: 0)
                        sev = to == 0 ? nil : to == 2 ? .orange : .yellow
                        level[s] = to
                    }
                }
                items.append((t - Int64(rng.int(in: 0...3_000)), tr, sev))
            }
            // Some episodes are acknowledged, some of them before their level rose again.
            var acks: [Int64: Int64] = [:]
            for item in items {
                if let tr = item.transition, tr.to > 0, rng.bool(0.5) { acks[tr.raisedAt] = tr.time + Int64(rng.int(in: 0...900_000)) }
            }
            func run(restoreAt cut: Int?) throws -> [AlertBook.Event] {
                var book = AlertBook(deadlines: Self.deadlines, checkEvery: 30_000)
                // The partition's clock (snapshotted apart from the book) gives the watermark at each reading.
                var clock = PartitionClock(outOfOrderness: 2_000)
                var legacy = Int64.min
                var out: [AlertBook.Event] = []
                for (k, item) in items.enumerated() {
                    if k == cut {
                        var w = SnapshotWriter()
                        book.write(to: &w)
                        var r = SnapshotReader(w.bytes)
                        var legacyEnterprises: [UInt32?] = []
                        book = try AlertBook(
                            deadlines: Self.deadlines, checkEvery: 30_000, reading: &r, clock: &legacy, enterprises: &legacyEnterprises)
                        #expect(r.atEnd && legacy == .min && legacyEnterprises.isEmpty)
                    }
                    if let tr = item.transition { _ = book.apply(tr, severity: item.severity) }
                    clock.observe(eventTime: item.t)
                    book.observe(watermark: clock.watermark, into: &out) { _, _, raisedAt in acks[raisedAt] }
                }
                return out
            }
            let whole = try run(restoreAt: nil)
            total += whole.count
            acknowledged += whole.count { $0.kind == .acknowledged }
            overdue += whole.count { $0.kind == .overdue }
            #expect(try run(restoreAt: rng.int(in: 0...(items.count - 1))) == whole, "seed \(seed)")
        }
        #expect(total > 50, "only \(total) events: the comparison would be vacuous")
        #expect(acknowledged > 20 && overdue > 20, "\(acknowledged) acknowledged, \(overdue) overdue: the comparison would be vacuous")
    }
}
