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
        var overdue: [AlertBook.Overdue] = []
        let raised = book.apply(Self.transition(3, 100_000, from: 0, to: 1, raisedAt: 100_000), severity: .yellow)
        #expect(raised.severity == .yellow && raised.respondBy == 700_000)
        for t in stride(from: Int64(100_000), through: 2_000_000, by: 5_000) { book.observe(eventTime: t, into: &overdue) }
        // yellow → orange at 700 s, orange → red at 1000 s, red → red every 60 s after that.
        #expect(overdue.first?.deadline == 700_000 && overdue.first?.from == .yellow && overdue.first?.to == .orange)
        #expect(overdue.dropFirst().first?.deadline == 1_000_000 && overdue.dropFirst().first?.to == .red)
        #expect(overdue.dropFirst(2).allSatisfy { $0.from == .red && $0.to == .red })
        #expect(overdue.map(\.deadline) == [700_000, 1_000_000] + stride(from: Int64(1_060_000), through: 2_000_000, by: 60_000).map { $0 })
        // Clearing ends it: the clear carries the colour the alarm had.
        let cleared = book.apply(Self.transition(3, 2_000_000, from: 1, to: 0, raisedAt: 100_000), severity: nil)
        #expect(cleared.severity == .red && cleared.respondBy == nil && book.severity(slot: 3) == nil)
        overdue.removeAll()
        for t in stride(from: Int64(2_000_000), through: 4_000_000, by: 5_000) { book.observe(eventTime: t, into: &overdue) }
        #expect(overdue.isEmpty)
    }

    @Test func escalationByLevelKeepsAHigherColourAndDeescalationLowersIt() {
        var book = AlertBook(deadlines: Self.deadlines)
        _ = book.apply(Self.transition(0, 0, from: 0, to: 1, raisedAt: 0), severity: .yellow)
        var overdue: [AlertBook.Overdue] = []
        for t in stride(from: Int64(0), through: 1_000_000, by: 1_000) { book.observe(eventTime: t, into: &overdue) }
        #expect(book.severity(slot: 0) == .red)
        #expect(book.apply(Self.transition(0, 1_000_000, from: 1, to: 2, raisedAt: 0), severity: .orange).severity == .red)
        #expect(book.apply(Self.transition(0, 1_100_000, from: 2, to: 1, raisedAt: 0), severity: .yellow).severity == .yellow)
    }

    /// Random alarm histories (with out-of-order readings): a snapshot/restore at a random point gives the same
    /// overdue events as never stopping.
    @Test func deterministicAndRestorable() throws {
        var total = 0
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
                        tr = AlarmTransition(sensor: UInt32(s), enterprise: 0, rule: 0, time: t, from: level[s], to: to, value: 0, raisedAt: raisedAt[s], limit: 0)
                        sev = to == 0 ? nil : to == 2 ? .orange : .yellow
                        level[s] = to
                    }
                }
                items.append((t - Int64(rng.int(in: 0...3_000)), tr, sev))
            }
            func run(restoreAt cut: Int?) throws -> [AlertBook.Overdue] {
                var book = AlertBook(deadlines: Self.deadlines, checkEvery: 30_000, outOfOrderness: 2_000)
                var out: [AlertBook.Overdue] = []
                for (k, item) in items.enumerated() {
                    if k == cut {
                        var w = SnapshotWriter()
                        book.write(to: &w)
                        var r = SnapshotReader(w.bytes)
                        book = try AlertBook(deadlines: Self.deadlines, checkEvery: 30_000, outOfOrderness: 2_000, reading: &r)
                    }
                    if let tr = item.transition { _ = book.apply(tr, severity: item.severity) }
                    book.observe(eventTime: item.t, into: &out)
                }
                return out
            }
            let whole = try run(restoreAt: nil)
            total += whole.count
            #expect(try run(restoreAt: rng.int(in: 0...(items.count - 1))) == whole, "seed \(seed)")
        }
        #expect(total > 50, "only \(total) overdue events: the comparison would be vacuous")
    }
}
