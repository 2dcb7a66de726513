import Foundation
import Testing
import VigilCore
@testable import VigilRuntime
@testable import VigilTools
import VigilTesting

/// The dates of daily safety commitments (安全承诺, `DOMAIN.md` §4.3 Q); the grade term they feed is in
/// ``GradeRuleTests``.
@Suite struct CommitmentDateTests {
    @Test("commitment dates: days since the epoch agree with Foundation, and the simulator's dates parse back")
    func dates() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var rng = SplitMix64(seed: 11)
        for _ in 0..<2_000 {
            let day = Int64(rng.next() % 200_000) - 100_000
            let date = Date(timeIntervalSince1970: Double(day) * 86_400)
            let c = calendar.dateComponents([.year, .month, .day], from: date)
            let text = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            if c.year! >= 1000 && c.year! <= 9999 { #expect(ReferenceTables.day(of: text) == day, "\(text)") }
        }
        for bad in ["2026-13-01", "2026-1-01", "26-01-01", "2026/01/01", "", "2026-02-32"] { #expect(ReferenceTables.day(of: bad) == nil, "\(bad)") }
        // +08:00: 2026-11-22T20:00Z is already the 23rd locally.
        let t = Int64(1_795_377_600_000)  // 2026-11-22T16:00:00Z
        let records = SimulationRun.commitments(enterprises: ["E1"], from: t, to: t + 86_400_000, utcOffset: 8 * 3_600_000, seed: 1)
        let days = records.compactMap { Demo.field($0.1, "date").flatMap(ReferenceTables.day(of:)) }
        #expect(days.count == records.count && !days.isEmpty)
        #expect(
            days.allSatisfy { $0 == EventTime.floorDiv(t + 8 * 3_600_000, 86_400_000) || $0 == EventTime.floorDiv(t + 8 * 3_600_000, 86_400_000) + 1 }
        )
    }
}
