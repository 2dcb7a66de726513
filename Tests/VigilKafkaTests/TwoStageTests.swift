import Foundation
import Testing
import VigilCore
import VigilKafka
import VigilRuntime
import VigilTesting

@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct TwoStageTests {
    @Test("Grades re-keyed by region through Kafka feed the heat-map stage: enterprises per grade per region and industry")
    func gradesToHeatmap() throws {
        let cluster = try EmbeddedKafkaCluster()
        let (readings, profiles, grades, byRegion, heatmap) = (
            uniqueName("readings"), uniqueName("profiles"), uniqueName("grades"), uniqueName("by-region"), uniqueName("heatmap")
        )
        try cluster.createTopic(readings, partitions: 2)
        try cluster.createTopic(byRegion, partitions: 2)
        for t in [profiles, grades, heatmap, "risk.dlq", "risk.window-stats", "risk.alerts"] { try cluster.createTopic(t, partitions: 1) }
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        for (e, region, industry, mhi) in [
            ("E1", "north", "chemicals", "1"), ("E2", "north", "chemicals", "null"), ("E3", "south", "mining", "null"),
        ] {
            try producer.produce(
                topic: profiles, key: Array(e.utf8),
                value: Array("{\"enterprise\":\"\(e)\",\"region\":\"\(region)\",\"industry\":\"\(industry)\",\"major_hazard_grade\":\(mhi)}".utf8)
            )
        }
        let now = currentTimeMillis()
        for i in 0..<30 {
            for e in ["E1", "E2", "E3"] {
                try producer.produce(
                    topic: readings, key: Array(e.utf8),
                    value: Array("{\"enterprise\":\"\(e)\",\"sensor\":\"\(e)-GT-1\",\"ts\":\(now - 60_000 + Int64(i) * 1_000),\"value\":5}".utf8)
                )
            }
        }
        try producer.flush()

        // Stage 1: readings → grades (with region and industry from the profile table) and a copy keyed by region.
        var config = StreamJobConfig(
            brokers: cluster.bootstrapServers, groupID: uniqueName("stage1"), inputTopics: [readings],
            window: WindowSpec(kind: .tumbling(size: 60_000))
        )
        config.topics.grades = grades
        config.tables.profiles = profiles
        config.topics.gradesByRegion = byRegion
        config.pipeline.sensorTypes = [SensorTypePlan(name: "gas", match: ["-GT-"], rule: ThresholdRule(name: "gas", level1: 25, level2: 50))]
        config.sessionTimeoutMs = 6_000
        config.consumerAdditional = ["log_level": "3"]
        config.producerAdditional = ["log_level": "3"]
        let stage1 = try StreamJob(config: config)
        let deadline1 = Date().addingTimeInterval(30)
        while stage1.stats.readings < 90 && Date() < deadline1 { try stage1.step() }
        try stage1.close()
        #expect(stage1.stats.gradesByLevel.values.reduce(0, +) >= 3)

        // Two grade records the heat map cannot read: they go to the dead-letter topic, counted, not dropped.
        try producer.produce(topic: byRegion, key: Array("north".utf8), value: Array("not json".utf8))
        try producer.produce(topic: byRegion, key: Array("north".utf8), value: Array("{\"enterprise\":\"E9\",\"level\":\"purple\"}".utf8))
        try producer.flush()

        // Stage 2: the heat map over the re-keyed grades.
        var hc = HeatmapJob.Config(brokers: cluster.bootstrapServers, groupID: uniqueName("stage2"), inputTopic: byRegion, outputTopic: heatmap)
        hc.every = 0
        hc.sessionTimeoutMs = 6_000
        hc.consumerAdditional = ["log_level": "3"]
        hc.producerAdditional = ["log_level": "3"]
        let stage2 = try HeatmapJob(config: hc)
        let deadline2 = Date().addingTimeInterval(30)
        while (stage2.gradesRead < 3 || stage2.gradesRejected < 2) && Date() < deadline2 { try stage2.step() }
        try stage2.close()
        #expect(stage2.gradesRejected == 2)
        let dlqReader = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: uniqueName("dlq")))
        try dlqReader.subscribe(["risk.dlq"])
        var dead: [String] = []
        try pollUntil(
            dlqReader, seconds: 20,
            { r in
                func header(_ name: String) -> String { String(decoding: r.header(name) ?? [], as: UTF8.self) }
                if header("vigil.reason") == "bad_grade_record" { dead.append("\(header("vigil.source.topic")): \(header("vigil.detail"))") }
            }, done: { dead.count >= 2 })
        try dlqReader.close()
        #expect(
            dead.sorted() == [
                "\(byRegion): a grade needs 'level' (red, orange, yellow or blue)", "\(byRegion): not a JSON object",
            ], "\(dead)")

        let reader = try KafkaConsumer(config: consumerConfig(cluster.bootstrapServers, group: uniqueName("reader")))
        try reader.subscribe([heatmap])
        var last: [String: [String: Any]] = [:]
        try pollUntil(
            reader, seconds: 20,
            { r in
                if let o = try? JSONSerialization.jsonObject(with: Data(r.payload)) as? [String: Any] {
                    last["\(o["region"] ?? "")/\(o["industry"] ?? "")"] = o
                }
            }, done: { last.count >= 2 && (last["north/chemicals"]?["enterprises"] as? Int) == 2 })
        try reader.close()
        #expect(last["north/chemicals"]?["enterprises"] as? Int == 2)
        #expect(last["south/mining"]?["enterprises"] as? Int == 1)
        // E1 is a first-grade major hazard source (B = 70 ≥ 60): orange from the start; E2, E3 are blue.
        #expect(last["north/chemicals"]?["orange"] as? Int == 1 && last["north/chemicals"]?["blue"] as? Int == 1)
        #expect(last["south/mining"]?["blue"] as? Int == 1)
    }
}
