import Foundation
import VigilKafka

/// The enterprise profile topic read in full by every instance, as a table (the latest record per enterprise
/// wins; on a real cluster the topic is compacted).
///
/// Profiles: `{"enterprise": "E0042", "region": "…", "industry": "…", "major_hazard_grade": 1…4 or null, …}`.
final class ProfileTable {
    struct Profile: Sendable, Hashable {
        var region: String?
        var industry: String?
        var majorHazardGrade: Int?
    }

    private let consumer: KafkaConsumer
    private(set) var profiles: [String: Profile] = [:]

    init(topic: String, brokers: String, additional: [String: String]) throws(KafkaError) {
        var admin: [String: String] = additional
        admin["log_level"] = admin["log_level"] ?? "3"
        let partitions = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: admin).describeTopics()[topic] ?? 1
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "vigil.profiles.\(UUID().uuidString)")
        cc.additionalConfig = additional
        consumer = try KafkaConsumer(config: cc)
        try consumer.assign((0..<partitions).map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) })
        try catchUp(timeoutMs: 10_000)
    }

    /// Reads the table to its current end before the job starts grading (as a global table is restored),
    /// giving up after `timeoutMs`.
    func catchUp(timeoutMs: Int64) throws(KafkaError) {
        let deadline = currentTimeMillis() + timeoutMs
        var polls = 0
        while currentTimeMillis() < deadline {
            let n = try consumer.poll(maxMessages: 10_000, timeoutMs: 200) { record in self.apply(record) }
            polls += 1
            let lag = consumer.lag()
            if polls >= 2 && n == 0 && !lag.isEmpty && lag.values.allSatisfy({ $0 == 0 }) { return }
        }
    }

    /// Reads whatever arrived (without waiting long).
    func refresh() throws(KafkaError) {
        try consumer.poll(maxMessages: 10_000, timeoutMs: 0) { record in apply(record) }
    }

    private func apply(_ record: KafkaRecordView) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(record.payload)) as? [String: Any],
            let enterprise = object["enterprise"] as? String
        else { return }
        profiles[enterprise] = Profile(
            region: object["region"] as? String, industry: object["industry"] as? String,
            majorHazardGrade: (object["major_hazard_grade"] as? NSNumber)?.intValue
        )
    }
}

@available(*, unavailable)
extension ProfileTable: Sendable {}
