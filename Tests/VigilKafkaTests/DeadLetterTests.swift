import Foundation
import Testing
import VigilCore
import VigilKafka
import VigilRuntime
import VigilTesting

@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct DeadLetterTests {
    @Test("Every kind of bad record lands in the dead-letter topic with its reason; good records around it are processed")
    func badRecordsLandInDLQ() throws {
        let cluster = try EmbeddedKafkaCluster()
        let input = uniqueName("in")
        let dlq = uniqueName("dlq")
        let output = uniqueName("out")
        for t in [input, dlq, output] { try cluster.createTopic(t, partitions: 1) }
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        let now = currentTimeMillis()
        let good = { (i: Int) in Array("{\"enterprise\":\"E1\",\"sensor\":\"S1\",\"ts\":\(now + Int64(i)),\"value\":\(i)}".utf8) }
        var expected: [(Int64, String)] = []  // (offset, reason)
        var offset: Int64 = 0
        for (i, (text, reason)) in BadRecordFixtures.all.enumerated() {
            try producer.produce(topic: input, key: Array("E1".utf8), value: good(i))
            offset += 1
            // Fixtures use fixed timestamps around 1732300000000; rebase them onto "now" for the horizon checks.
            let rebased = text.replacingOccurrences(of: "1732300000000", with: String(now))
            try producer.produce(topic: input, key: Array("E1".utf8), value: Array(rebased.utf8))
            expected.append((offset, reason.rawValue))
            offset += 1
        }
        try producer.flush()
        var config = StreamJobConfig(
            brokers: cluster.bootstrapServers, groupID: uniqueName("g"), inputTopics: [input],
            window: WindowSpec(kind: .tumbling(size: 60_000))
        )
        config.topics.windowStats = output
        config.topics.deadLetters = dlq
        config.sessionTimeoutMs = 6_000
        config.consumerAdditional = ["log_level": "3"]
        config.producerAdditional = ["log_level": "3"]
        let job = try StreamJob(config: config)
        let deadline = Date().addingTimeInterval(30)
        while job.stats.messages < offset && Date() < deadline { try job.step() }
        try job.close()
        #expect(job.stats.readings == Int64(BadRecordFixtures.all.count))
        #expect(job.stats.rejected == Int64(BadRecordFixtures.all.count))

        let reader = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: uniqueName("r")))
        try reader.subscribe([dlq])
        var got: [(Int64, String, String)] = []
        try pollUntil(
            reader, seconds: 30,
            { r in
                let reason = String(decoding: r.header("vigil.reason") ?? [], as: UTF8.self)
                let source = Int64(String(decoding: r.header("vigil.source.offset") ?? [], as: UTF8.self)) ?? -1
                let topic = String(decoding: r.header("vigil.source.topic") ?? [], as: UTF8.self)
                #expect(r.header("vigil.detail").map { !$0.isEmpty } ?? false)
                #expect(r.header("vigil.source.partition") == Array("0".utf8))
                got.append((source, reason, topic))
            }, done: { got.count >= expected.count })
        try reader.close()
        #expect(got.count == expected.count)
        #expect(got.map(\.0) == expected.map(\.0))
        #expect(got.map(\.1) == expected.map(\.1))
        #expect(got.allSatisfy { $0.2 == input })
        #expect(expected.count >= 12 && Set(expected.map(\.1)).count >= 10)
    }
}

extension DeadLetterTests {
    @Test("A table record that cannot be applied goes to the dead-letter topic with its reason and is counted")
    func badTableRecordsLandInDLQ() throws {
        let cluster = try EmbeddedKafkaCluster()
        let (input, dlq, output, grades, permits) = (
            uniqueName("in"), uniqueName("dlq"), uniqueName("out"), uniqueName("grades"), uniqueName("permits")
        )
        for t in [input, dlq, output, grades, permits] { try cluster.createTopic(t, partitions: 1) }
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        let now = currentTimeMillis()
        // One valid permit, then three that cannot be applied.
        let records = [
            "{\"enterprise\":\"E1\",\"permit\":\"P1\",\"kind\":\"hot_work_1\",\"start\":\(now),\"end\":\(now + 60_000)}",
            "not json",
            "{\"permit\":\"P2\",\"kind\":\"hot_work_1\",\"start\":\(now),\"end\":\(now + 60_000)}",
            "{\"enterprise\":\"E1\",\"permit\":\"P3\",\"kind\":\"hot_work_1\",\"start\":\"soon\",\"end\":\(now + 60_000)}",
        ]
        for r in records { try producer.produce(topic: permits, key: Array("E1".utf8), value: Array(r.utf8)) }
        try producer.produce(
            topic: input, key: Array("E1".utf8), value: Array("{\"enterprise\":\"E1\",\"sensor\":\"E1-GT-1\",\"ts\":\(now),\"value\":1}".utf8))
        try producer.flush()
        var config = StreamJobConfig(
            brokers: cluster.bootstrapServers, groupID: uniqueName("g"), inputTopics: [input], window: WindowSpec(kind: .tumbling(size: 60_000)))
        config.topics.windowStats = output
        config.topics.deadLetters = dlq
        config.topics.grades = grades
        config.tables.permits = permits
        config.sessionTimeoutMs = 6_000
        config.consumerAdditional = ["log_level": "3"]
        config.producerAdditional = ["log_level": "3"]
        let job = try StreamJob(config: config)
        let deadline = Date().addingTimeInterval(30)
        while job.stats.messages < 1 && Date() < deadline { try job.step() }
        try job.close()
        #expect(job.stats.deadLetters == 3)

        let reader = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: uniqueName("r")))
        try reader.subscribe([dlq])
        var got: [(offset: String, reason: String, detail: String, topic: String)] = []
        try pollUntil(
            reader, seconds: 30,
            { r in
                func header(_ name: String) -> String { String(decoding: r.header(name) ?? [], as: UTF8.self) }
                got.append((header("vigil.source.offset"), header("vigil.reason"), header("vigil.detail"), header("vigil.source.topic")))
            }, done: { got.count >= 3 })
        try reader.close()
        #expect(got.map(\.offset) == ["1", "2", "3"])
        #expect(got.allSatisfy { $0.reason == "bad_table_record" && $0.topic == permits })
        #expect(
            got.map(\.detail) == [
                "not a JSON object", "missing field 'enterprise' (a string)",
                "a permit needs 'permit' and 'kind' (strings), 'start' and 'end' (ms)",
            ])
    }
}
