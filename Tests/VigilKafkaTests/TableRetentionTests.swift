import Foundation
import Testing
import VigilCore
import VigilKafka
@testable import VigilRuntime
import VigilTesting

/// The permit, offline-notice and hazard tables forget what ended long ago or was closed, so months of records
/// do not accumulate.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct TableRetentionTests {
    @Test("permits that ended more than 7 days before the latest end read are forgotten; current ones are kept")
    func expiredPermitsAreForgotten() throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("permits")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        let day: Int64 = 86_400_000
        let t0: Int64 = 1_795_000_000_000
        // 100 permits valid next month, then 11,900 that ended 30 days before them.
        for k in 0..<12_000 {
            let end = k < 100 ? t0 + 30 * day : t0
            let json = "{\"enterprise\":\"E0\",\"permit\":\"P\(k)\",\"kind\":\"hot_work_2\",\"start\":\(end - day),\"end\":\(end)}"
            try producer.produce(topic: topic, key: Array("E0".utf8), value: Array(json.utf8))
        }
        try producer.flush()
        let table = try ProfileTable(topics: [topic: .permits], brokers: cluster.bootstrapServers, additional: ["log_level": "3"])
        let kept = table.tables.permits["E0"] ?? [:]
        // Pruned once the table reached 10,000: the old ones read by then are gone, the 100 current ones stay.
        #expect(kept.count < 12_000 && kept.count == 100 + (12_000 - 10_000), "\(kept.count) kept")
        #expect((0..<100).allSatisfy { kept["P\($0)"] != nil })
        #expect(kept["P5000"] == nil && kept["P11999"] != nil)
    }

    @Test("closed hidden hazards are forgotten; open ones, and one reopened after closing, are kept")
    func closedHazardsAreForgotten() throws {
        let cluster = try EmbeddedKafkaCluster()
        let topic = uniqueName("hazards")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
        func send(_ enterprise: String, _ hazard: String, _ status: String) throws {
            let json =
                "{\"enterprise\":\"\(enterprise)\",\"hazard\":\"\(hazard)\",\"class\":\"general\",\"status\":\"\(status)\",\"deadline\":1795000000000}"
            try producer.produce(topic: topic, key: Array(hazard.utf8), value: Array(json.utf8))
        }
        // E0: 1,000 hazards opened, 990 of them closed again, one of those reopened; E1: one opened and closed.
        for k in 0..<1_000 { try send("E0", "H\(k)", "open") }
        for k in 10..<1_000 { try send("E0", "H\(k)", "closed") }
        try send("E0", "H500", "open")
        try send("E1", "X", "open")
        try send("E1", "X", "closed")
        try producer.flush()
        let table = try ProfileTable(topics: [topic: .hazards], brokers: cluster.bootstrapServers, additional: ["log_level": "3"])
        #expect(Set(table.tables.hazards["E0"]?.keys ?? [:].keys) == Set((0..<10).map { "H\($0)" } + ["H500"]))
        #expect(table.tables.hazards["E0"]?.values.allSatisfy(\.open) == true)
        #expect(table.tables.hazards["E1"] == nil)
    }
}
