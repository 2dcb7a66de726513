import Foundation
import Testing
import VigilCore
import VigilKafka
@testable import VigilRuntime
import VigilTesting

extension GradeFactorStreamTests {
    @Test("§5: a filed offline notice suspends the escalation of a data interruption until its planned online time + 1 h")
    func offlineNoticeSuspendsEscalation() throws {
        let setup = try CheckpointStoreTests.Setup()
        let notices = uniqueName("notices")
        try setup.cluster.createTopic(notices, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        let hour: Int64 = 3_600_000
        let t0 = setup.t0 - 6 * hour
        // E0 filed notice N1 for hours 0.8–4; E1's only notice is inconsistent (ignored); E2 files none.
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/safety.offline-notices.v1.schema.json")
        for (e, json) in [
            ("E0", "{\"enterprise\":\"E0\",\"notice\":\"N1\",\"from\":\(t0 + 48 * 60_000),\"planned_online\":\(t0 + 4 * hour),\"reason\":\"gateway replacement\"}"),
            ("E1", "{\"enterprise\":\"E1\",\"notice\":\"N2\",\"from\":\(t0 + 2 * hour),\"planned_online\":\(t0 + hour)}"),
        ] {
            #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
            try producer.produce(topic: notices, key: Array(e.utf8), value: Array(json.utf8))
        }
        try producer.flush()
        // Partition 0: E0's and E1's three points report for the first hour, then fall silent; E2's point
        // reports for 6 h (the partition's event time).
        var count = 0
        for k in 0..<(6 * 60) {
            let t = t0 + Int64(k) * 60_000
            var sensors = ["E2-GT-0"]
            if k < 60 { sensors += (0..<3).flatMap { ["E0-GT-\($0)", "E1-GT-\($0)"] } }
            for sensor in sensors {
                let e = String(sensor.prefix(2))
                let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(sensor)\",\"ts\":\(t),\"value\":5}"
                try producer.produce(topic: setup.input, partition: 0, key: Array(e.utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.offlineNoticesTopic = notices
        config.gradeHeartbeat = 600_000
        config.interruptionYellowAfter = 2 * hour
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        #expect(job.profiles?.rejectedOfflineNotices == 1)
        try job.close()
        let grades = try Self.grades(setup)
        func records(_ e: String) -> [(ts: Int64, level: String, since: Int64?, notice: String?)] {
            grades.filter { $0["enterprise"] as? String == e }.map { g in
                let inputs = g["inputs"] as? [String: Any] ?? [:]
                return (
                    (g["ts"] as? NSNumber)?.int64Value ?? 0, g["level"] as? String ?? "", (inputs["interrupted_since"] as? NSNumber)?.int64Value,
                    (inputs["offline_notice"] as? [String: Any])?["notice"] as? String
                )
            }
        }
        // Both are interrupted from about 1.5 h (last readings at minute 59, offline 30 min later).
        let e0 = records("E0")
        let e1 = records("E1")
        let since = try #require(e1.compactMap(\.since).first, "\(e1)")
        #expect(e0.compactMap(\.since).first == since)
        // E1 (no valid notice): yellow once interrupted for 2 h.
        let e1Yellow = try #require(e1.first { $0.level == "yellow" }, "\(e1.map { "\($0.level) \($0.ts - t0)" })")
        #expect(e1Yellow.ts >= since + 2 * hour && e1Yellow.ts <= since + 2 * hour + 60_000)
        #expect(e1.allSatisfy { $0.notice == nil })
        // E0: its notice is in force until 4 h + 1 h of grace; it stays blue until then, and turns yellow after.
        let graceEnd = t0 + 5 * hour
        let e0Yellow = try #require(e0.first { $0.level == "yellow" }, "\(e0.map { "\($0.level) \($0.ts - t0)" })")
        #expect(e0Yellow.ts >= graceEnd && e0Yellow.ts <= graceEnd + 60_000, "\(e0Yellow.ts - t0)")
        #expect(e0.filter { $0.ts < graceEnd }.allSatisfy { $0.level == "blue" })
        #expect(e0.filter { $0.ts >= t0 + 48 * 60_000 && $0.ts < graceEnd }.allSatisfy { $0.notice == "N1" })
        #expect(e0.contains { $0.since != nil && $0.notice == "N1" }, "the interruption is reported while the notice holds")
        #expect(e0.filter { $0.ts >= graceEnd }.allSatisfy { $0.notice == nil })
        let gradeSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades {
            let data = try JSONSerialization.data(withJSONObject: g)
            #expect(gradeSchema.validate(json: data).isEmpty, "\(gradeSchema.validate(json: data))")
        }
        let noticed = try #require(grades.last { $0["enterprise"] as? String == "E0" && ($0["inputs"] as? [String: Any])?["offline_notice"] is [String: Any] })
        #expect(GradeExplainer.explain(noticed).contains("offline notice N1 filed"))
        // The DATA_INTERRUPTION alert itself is not suspended.
        let alerts = try setup.parsedRecords(".alerts").filter { $0["rule"] as? String == "data_interruption" && $0["event"] as? String == "interrupted" }
        #expect(Set(alerts.compactMap { $0["enterprise"] as? String }) == ["E0", "E1"])
    }
}
