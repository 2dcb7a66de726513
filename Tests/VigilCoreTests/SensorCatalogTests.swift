import Testing
@testable import VigilCore

/// A sensor belongs to the enterprise of its first reading (sensor ids are unique in the deployment): a
/// reading that names another enterprise goes to the dead-letter topic and changes no state.
@Suite struct SensorCatalogTests {
    static func pipeline() -> PartitionPipeline {
        var s = PartitionPipelineSettings(windows: [.init(name: "m", spec: WindowSpec(kind: .tumbling(size: 60_000), statistics: .basic))])
        s.sensorTypes = [SensorTypePlan(name: "gas", match: ["-GT-"], rule: ThresholdRule(name: "gas", level1: 25, level2: 50))]
        s.idleTimeout = nil
        s.offlineAfter = 120_000
        let p = PartitionPipeline(settings: s)
        for id in ["E0-GT-1", "E0-GT-2"] { _ = p.decoder.sensors.intern(id) }
        for id in ["E0", "E1"] { _ = p.decoder.enterprises.intern(id) }
        return p
    }

    /// (time s, sensor slot, enterprise slot, value): GT-1 of E0 alarms, GT-1 is then named under E1 (refused,
    /// with a value that would be AL2), GT-2 is first read under E1 (so it is E1's), later named under E0.
    static let readings: [(Int64, UInt32, UInt32, Double)] = [
        (0, 0, 0, 5), (10, 0, 0, 30), (20, 0, 1, 60), (20, 1, 1, 5), (30, 0, 0, 30), (40, 1, 0, 70), (50, 1, 1, 6),
        (400, 1, 1, 6), (410, 0, 0, 5),
    ]

    static func run(batchSize: Int) -> (records: [String], dead: [PartitionOutputs.DeadLetter], counters: PipelineCounters) {
        let p = pipeline()
        var out = PartitionOutputs()
        var records: [String] = []
        var dead: [PartitionOutputs.DeadLetter] = []
        var counters = PipelineCounters()
        for start in stride(from: 0, to: readings.count, by: batchSize) {
            var batch = ReadingBatch()
            for (k, r) in readings[start..<min(readings.count, start + batchSize)].enumerated() {
                batch.append(eventTime: r.0 * 1_000, sensor: r.1, enterprise: r.2, value: r.3, offset: Int64(start + k))
            }
            p.process(batch, tables: nil, now: 0, into: &out)
            out.forEach { sink, key, value in
                records.append("\(sink) \(String(decoding: key, as: UTF8.self)) \(String(decoding: value, as: UTF8.self))")
            }
            dead += out.deadLetters
            counters = out.counters
            out.removeAll()
        }
        return (records, dead, counters)
    }

    @Test("a reading naming another enterprise than its sensor's goes to the dead letters and changes nothing")
    func mismatchRefused() {
        let (records, dead, counters) = Self.run(batchSize: Self.readings.count)
        #expect(dead.map(\.reason) == [.sensorEnterpriseMismatch, .sensorEnterpriseMismatch])
        #expect(dead.map(\.offset) == [2, 5] && dead.map(\.key) == ["E1", "E0"])
        #expect(dead[0].detail == "sensor 'E0-GT-1' belongs to enterprise 'E0' (its first reading); this reading names 'E1'")
        #expect(dead[0].value == #"{"enterprise":"E1","sensor":"E0-GT-1","ts":20000,"value":60.0}"#)
        #expect(counters.enterpriseMismatches == 2 && counters.alertsByLevel["raised AL2"] == nil, "\(counters)")
        let alerts = records.filter { $0.hasPrefix("alerts ") }
        // GT-1's alarm stays E0's; GT-2 (E1's) goes offline as E1's point.
        #expect(alerts.contains { $0.hasPrefix("alerts E0 ") && $0.contains(#""sensor":"E0-GT-1""#) && $0.contains(#""event":"raised""#) })
        #expect(alerts.contains { $0.hasPrefix("alerts E1 ") && $0.contains(#""sensor":"E0-GT-2""#) && $0.contains(#""event":"offline""#) })
        #expect(!alerts.contains { $0.hasPrefix("alerts E1 ") && $0.contains(#""sensor":"E0-GT-1""#) }, "\(alerts)")
    }

    @Test("what is refused does not depend on how the readings are split into batches")
    func batchingIndependent() {
        // The same records whatever the batching (each stage runs over a whole batch, so how one stage's
        // records interleave with another's in a sink does depend on it).
        func bySink(_ records: [String]) -> [String: [String]] { Dictionary(grouping: records.sorted()) { String($0.prefix { $0 != " " }) } }
        let whole = Self.run(batchSize: Self.readings.count)
        for size in [1, 2, 3] {
            let split = Self.run(batchSize: size)
            #expect(bySink(split.records) == bySink(whole.records))
            #expect(split.dead.map(\.offset) == whole.dead.map(\.offset))
        }
    }
}
