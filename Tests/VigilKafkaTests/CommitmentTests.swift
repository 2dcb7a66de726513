import Foundation
import Testing
import VigilCore
import VigilKafka
@testable import VigilRuntime
import VigilTesting

/// Daily safety commitments (安全承诺, `DOMAIN.md` §4.3 Q): their dates, and the grade term they feed.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct CommitmentTests {
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
            if c.year! >= 1000 && c.year! <= 9999 { #expect(ProfileTable.day(of: text) == day, "\(text)") }
        }
        for bad in ["2026-13-01", "2026-1-01", "26-01-01", "2026/01/01", "", "2026-02-32"] { #expect(ProfileTable.day(of: bad) == nil, "\(bad)") }
        // +08:00: 2026-11-22T20:00Z is already the 23rd locally.
        let t = Int64(1_795_377_600_000)  // 2026-11-22T16:00:00Z
        let records = SimulationRun.commitments(enterprises: ["E1"], from: t, to: t + 86_400_000, utcOffset: 8 * 3_600_000, seed: 1)
        let days = records.compactMap { Demo.field($0.1, "date").flatMap(ProfileTable.day(of:)) }
        #expect(days.count == records.count && !days.isEmpty)
        #expect(days.allSatisfy { $0 == EventTime.floorDiv(t + 8 * 3_600_000, 86_400_000) || $0 == EventTime.floorDiv(t + 8 * 3_600_000, 86_400_000) + 1 })
    }

    @Test("a missing safety commitment adds 5 to Q from 09:00 local time, for the enterprise without one")
    func missingCommitmentInQ() throws {
        let setup = try CheckpointStoreTests.Setup()
        let topic = uniqueName("commitments")
        try setup.cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // Local (+08:00) day of a fixed start at 08:00 local; E0 filed today's commitment, E1 did not.
        let offset: Int64 = 8 * 3_600_000
        let localDay = EventTime.floorDiv(setup.t0 + offset, 86_400_000) - 1
        let start = localDay * 86_400_000 + 8 * 3_600_000 - offset  // 08:00 local, a day ago (within the past horizon)
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let c = utc.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(localDay) * 86_400))
        let date = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        let record = "{\"enterprise\":\"E0\",\"date\":\"\(date)\"}"
        let inputSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/safety.commitments.v1.schema.json")
        #expect(inputSchema.validate(json: Data(record.utf8)).isEmpty)
        try producer.produce(topic: topic, key: Array("E0".utf8), value: Array(record.utf8))
        var count = 0
        for k in 0..<120 {  // 08:00–10:00 local, one reading a minute each
            for e in 0...1 {
                let json = "{\"enterprise\":\"E\(e)\",\"sensor\":\"E\(e)-GT-1\",\"ts\":\(start + Int64(k) * 60_000),\"value\":5}"
                try producer.produce(topic: setup.input, partition: Int32(e), key: Array("E\(e)".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.commitmentsTopic = topic
        config.gradeHeartbeat = 600_000
        config.anomalySettings.utcOffset = offset
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let grades = try GradeFactorStreamTests.grades(setup)
        func rows(_ e: String) -> [(minutes: Int64, q: Double, missing: Bool?)] {
            grades.filter { $0["enterprise"] as? String == e }.map { g in
                (
                    (((g["ts"] as? NSNumber)?.int64Value ?? 0) - start) / 60_000,
                    ((g["factors"] as? [String: Any])?["data_quality"] as? NSNumber)?.doubleValue ?? -1,
                    (g["inputs"] as? [String: Any])?["commitment_missing"] as? Bool
                )
            }
        }
        let e1 = rows("E1")
        #expect(e1.filter { $0.minutes < 60 }.allSatisfy { $0.q == 0 && $0.missing == false }, "\(e1)")
        #expect(e1.contains { $0.minutes >= 60 && $0.q == 5 && $0.missing == true }, "\(e1)")
        #expect(rows("E0").allSatisfy { $0.q == 0 && $0.missing == false }, "\(rows("E0"))")
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades { #expect(schema.validate(json: try JSONSerialization.data(withJSONObject: g)).isEmpty) }
        let last = try #require(grades.last { $0["enterprise"] as? String == "E1" })
        let explained = GradeExplainer.explain(last)
        #expect(explained.contains("today's safety commitment is missing (+5)") && explained.contains("× 20 (§5)"), "\(explained)")
        #expect(explained.contains("特级动火 15, 一级 8, 二级 3, 受限空间 8, 开停车 10, 试生产 10, 检维修 5; cap 30"), "\(explained)")
        // The explanation prints the pipeline's weights, not the defaults.
        var weights = FactorWeights()
        weights.missingCommitment = 7
        weights.offlineWeight = 12
        weights.permits = ["hot_work_1": 9, "lifting": 2]
        weights.operationsCap = 25
        weights.openMajorHazard = 18
        let custom = GradeExplainer.explain(last, weights: weights)
        #expect(custom.contains("today's safety commitment is missing (+7)") && custom.contains("× 12 (§5)"), "\(custom)")
        #expect(custom.contains("valid: 一级 9, lifting 2; cap 25") && custom.contains("major +18 each"), "\(custom)")
    }
}
