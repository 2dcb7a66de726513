import Foundation
import Testing
import VigilCore
import VigilKafka
import VigilRuntime
import VigilTesting

/// Interoperability with kcat, a Kafka client nobody here wrote: kcat produces readings that Vigil decodes,
/// Vigil's window rows and dead letters are read back with kcat.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct KcatInteropTests {
    static let kcat = "/usr/bin/kcat"

    @Test func kcatInVigilWindowsOutKcatReadsThem() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.kcat), "kcat is installed by make test")
        let cluster = try EmbeddedKafkaCluster()
        let input = uniqueName("safety.readings")
        let output = uniqueName("risk.window-stats")
        let dlq = uniqueName("risk.dlq")
        try cluster.createTopic(input, partitions: 2)
        try cluster.createTopic(output, partitions: 2)
        try cluster.createTopic(dlq, partitions: 1)

        // 150 s of readings for two sensors of one enterprise (keyed by enterprise: one partition),
        // plus bad records and one late record.
        let t0: Int64 = 1_732_300_020_000  // a multiple of 60 s
        var lines: [String] = []
        for i in 0..<150 {
            for (sensor, base) in [("E0042-GT-101", 10.0), ("E0042-TT-102", 20.0)] {
                lines.append(
                    "E0042|{\"enterprise\":\"E0042\",\"sensor\":\"\(sensor)\",\"ts\":\(t0 + Int64(i) * 1_000),\"value\":\(base + Double(i % 7))}")
            }
            if i == 75 {
                lines.append("E0042|{\"enterprise\":\"E0042\",\"sensor\":\"E0042-GT-101\",\"ts\":\(t0 + 1_000),\"value\":99}")  // late
                lines.append("E0042|{\"enterprise\":\"E0042\",\"sensor\":\"E0042-GT-101\",\"value\":1}")  // missing ts
                lines.append("E0042|{not json")
            }
        }
        let (status, _, err) = try run(
            Self.kcat, ["-P", "-b", cluster.bootstrapServers, "-t", input, "-K", "|", "-X", "log_level=3"],
            input: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(status == 0, "kcat -P failed: \(err)")

        var config = StreamJobConfig(
            brokers: cluster.bootstrapServers, groupID: uniqueName("g"), inputTopics: [input],
            window: WindowSpec(kind: .tumbling(size: 60_000), statistics: [.count, .mean, .min, .max])
        )
        config.topics.windowStats = output
        config.topics.deadLetters = dlq
        config.pipeline.outOfOrderness = 0
        config.pipeline.idleTimeout = nil
        config.pipeline.decoder.pastHorizon = nil
        config.sessionTimeoutMs = 6_000
        config.consumerAdditional = ["log_level": "3"]
        config.producerAdditional = ["log_level": "3"]
        let job = try StreamJob(config: config)
        let deadline = Date().addingTimeInterval(30)
        while job.stats.messages < Int64(lines.count) && Date() < deadline { try job.step() }
        #expect(job.stats.messages == Int64(lines.count))
        try job.finishWindows()
        try job.close()
        #expect(job.stats.rejected == 2 && job.stats.late == 1)

        // kcat reads the window rows.
        let (s2, out, err2) = try run(
            Self.kcat, ["-C", "-b", cluster.bootstrapServers, "-t", output, "-o", "beginning", "-e", "-q", "-f", "%k|%s\\n", "-X", "log_level=3"])
        #expect(s2 == 0, "kcat -C failed: \(err2)")
        var rows: [String: [String: Any]] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: "|", maxSplits: 1)
            #expect(parts[0] == "E0042")
            let object = try JSONSerialization.jsonObject(with: Data(parts[1].utf8)) as! [String: Any]
            rows["\(object["sensor"]!)@\(object["window_start"]!)"] = object
        }
        #expect(rows.count == 6)  // 2 sensors × windows [0,60), [60,120), [120,150)
        let first = try #require(rows["E0042-GT-101@\(t0)"])
        #expect(first["count"] as? Int == 60)
        let expectedMean = (0..<60).map { 10.0 + Double($0 % 7) }.reduce(0, +) / 60
        #expect(abs((first["mean"] as? Double ?? 0) - expectedMean) < 1e-12)
        #expect(first["min"] as? Double == 10 && first["max"] as? Double == 16)
        #expect(first["kind"] as? String == "on_time")
        #expect(first["window_id"] as? String == "E0042-GT-101/\(t0)/\(t0 + 60_000)")
        let last = try #require(rows["E0042-TT-102@\(t0 + 120_000)"])
        #expect(last["count"] as? Int == 30)

        // kcat reads the dead letters with their headers.
        let (s3, dead, _) = try run(
            Self.kcat, ["-C", "-b", cluster.bootstrapServers, "-t", dlq, "-o", "beginning", "-e", "-q", "-f", "%h\t%s\\n", "-X", "log_level=3"])
        #expect(s3 == 0)
        let reasons = dead.split(separator: "\n").compactMap { line -> String? in
            line.split(separator: ",").first { $0.hasPrefix("vigil.reason=") }.map { String($0.dropFirst("vigil.reason=".count)) }
        }
        #expect(reasons.sorted() == ["late_record", "malformed_json", "missing_field"])
        #expect(dead.contains("vigil.source.topic=\(input)"))
        #expect(dead.contains("{not json"))
    }
}
