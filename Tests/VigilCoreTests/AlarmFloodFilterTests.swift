import Testing
import VigilCore
import VigilTesting

@Suite struct AlarmFloodFilterTests {
    static func raise(_ sensor: UInt32, _ enterprise: UInt32, _ t: Int64) -> AlarmTransition {
        AlarmTransition(sensor: sensor, enterprise: enterprise, rule: 0, time: t, from: 0, to: 1, value: 0, raisedAt: t, limit: 0)
    }
    static func clear(_ sensor: UInt32, _ enterprise: UInt32, _ t: Int64, raisedAt: Int64) -> AlarmTransition {
        AlarmTransition(sensor: sensor, enterprise: enterprise, rule: 0, time: t, from: 1, to: 0, value: 0, raisedAt: raisedAt, limit: 0)
    }

    @Test("three raises within a minute make a point chattering until it is quiet for 10 min; it counts once")
    func chattering() {
        var f = AlarmFloodFilter()
        var results: [(AlarmFloodFilter.Suppression?, Bool)] = []
        for t in [0, 20_000, 40_000, 50_000, 300_000, 950_000] {
            results.append(f.note(Self.raise(7, 0, Int64(t)), severity: .yellow))
        }
        #expect(results.map(\.0) == [nil, nil, .chattering, .chattering, .chattering, nil])
        // Counted: the first three (the third starts chattering), not the raises while already chattering.
        #expect(results.map(\.1) == [true, true, true, false, false, true])
        // A clear during chattering is suppressed too.
        var g = AlarmFloodFilter()
        for t in [0, 10_000, 20_000] { _ = g.note(Self.raise(1, 0, Int64(t)), severity: .orange) }
        #expect(g.note(Self.clear(1, 0, 25_000, raisedAt: 20_000), severity: .orange).suppressed == .chattering)
    }

    @Test("more than 10 raises of an enterprise in 10 min is a flood: yellow and blue records are suppressed until fewer than 5")
    func flood() {
        var f = AlarmFloodFilter()
        var out: [AlarmFloodFilter.Suppression?] = []
        // 12 different points of enterprise 3 raise 30 s apart (no point chatters).
        for k in 0..<12 { out.append(f.note(Self.raise(UInt32(k), 3, Int64(k) * 30_000), severity: .yellow).suppressed) }
        #expect(out == Array(repeating: nil, count: 10) + [.flood, .flood])
        // Orange is never suppressed by a flood; another enterprise is unaffected.
        #expect(f.note(Self.raise(20, 3, 370_000), severity: .orange).suppressed == nil)
        #expect(f.note(Self.raise(21, 4, 370_000), severity: .yellow).suppressed == nil)
        // At 900 s the window (300 s, 900 s] holds the raises at 330 s and 370 s and this one: 3 < 5, the flood ends.
        #expect(f.note(Self.raise(22, 3, 900_000), severity: .yellow).suppressed == nil)
    }

    @Test func snapshotRestoresTheSameDecisions() throws {
        var chattering = 0
        var flooded = 0
        for seed in 0..<UInt64(30) {
            var rng = TestRandom(seed: seed)
            var items: [AlarmTransition] = []
            var t: Int64 = 0
            var level = [UInt8](repeating: 0, count: 8)
            var raised = [Int64](repeating: 0, count: 8)
            for _ in 0..<600 {
                t += Int64(rng.int(in: 0...15_000))
                let s = rng.int(in: 0...7)
                let to: UInt8 = level[s] == 0 ? 1 : 0
                if to == 1 { raised[s] = t }
                items.append(
                    AlarmTransition(
                        sensor: UInt32(s), enterprise: UInt32(s % 2), rule: 0, time: t, from: level[s], to: to, value: 0, raisedAt: raised[s],
                        limit: 0))
                level[s] = to
            }
            func run(_ cut: Int?) throws -> [String] {
                var f = AlarmFloodFilter()
                var out: [String] = []
                for (k, tr) in items.enumerated() {
                    if k == cut {
                        var w = SnapshotWriter()
                        f.write(to: &w)
                        var r = SnapshotReader(w.bytes)
                        f = try AlarmFloodFilter(reading: &r)
                    }
                    let d = f.note(tr, severity: k % 3 == 0 ? .orange : .yellow)
                    out.append("\(d.suppressed?.rawValue ?? "-") \(d.counts)")
                }
                return out
            }
            let whole = try run(nil)
            #expect(try run(rng.int(in: 0...599)) == whole, "seed \(seed)")
            chattering += whole.filter { $0.hasPrefix("chattering") }.count
            flooded += whole.filter { $0.hasPrefix("flood") }.count
        }
        #expect(chattering > 20 && flooded > 20, "\(chattering) chattering, \(flooded) flood decisions: the comparison would be vacuous")
    }
}
