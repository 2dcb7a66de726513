import Foundation
import VigilCore
import VigilKafka

/// The enterprise tables read in full by every instance (global tables; on a real cluster the topics are
/// compacted): profiles (latest record per enterprise), work permits (latest record per permit id) and hidden
/// hazards (latest record per hazard id).
///
/// - Profiles: `{"enterprise": "E0042", "region": "…", "industry": "…", "major_hazard_grade": 1…4 or null, …}`.
/// - Permits: `{"enterprise": "E0042", "permit": "E0042-P7", "kind": "hot_work_1", "start": ms, "end": ms}`.
/// - Hazards: `{"enterprise": "E0042", "hazard": "E0042-H3", "class": "major"|"general", "status": "open"|"closed", "deadline": ms}`.
final class ProfileTable {
    struct Profile: Sendable, Hashable {
        var region: String?
        var industry: String?
        var majorHazardGrade: Int?
    }

    private let consumer: KafkaConsumer
    private(set) var profiles: [String: Profile] = [:]
    /// enterprise → permit id → permit.
    private(set) var permits: [String: [String: WorkPermit]] = [:]
    /// enterprise → hazard id → hazard.
    private(set) var hazards: [String: [String: HiddenHazard]] = [:]
    let profilesTopic: String?
    let permitsTopic: String?
    let hazardsTopic: String?

    init(profiles: String?, permits: String? = nil, hazards: String? = nil, brokers: String, additional: [String: String]) throws(KafkaError) {
        var admin: [String: String] = additional
        admin["log_level"] = admin["log_level"] ?? "3"
        profilesTopic = profiles
        permitsTopic = permits
        hazardsTopic = hazards
        let existing = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: admin).describeTopics()
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "vigil.profiles.\(UUID().uuidString)")
        cc.additionalConfig = additional
        consumer = try KafkaConsumer(config: cc)
        let topics = [profiles, permits, hazards].compactMap { $0 }
        try consumer.assign(topics.flatMap { topic in (0..<(existing[topic] ?? 1)).map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) } })
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
        let topic = record.topicName
        if topic == permitsTopic {
            guard let id = object["permit"] as? String, let kind = object["kind"] as? String,
                let start = (object["start"] as? NSNumber)?.int64Value, let end = (object["end"] as? NSNumber)?.int64Value
            else { return }
            permits[enterprise, default: [:]][id] = WorkPermit(kind: kind, start: start, end: end)
            return
        }
        if topic == hazardsTopic {
            guard let id = object["hazard"] as? String else { return }
            hazards[enterprise, default: [:]][id] = HiddenHazard(
                major: object["class"] as? String == "major", open: (object["status"] as? String ?? "open") == "open",
                deadline: (object["deadline"] as? NSNumber)?.int64Value
            )
            return
        }
        profiles[enterprise] = Profile(
            region: object["region"] as? String, industry: object["industry"] as? String,
            majorHazardGrade: (object["major_hazard_grade"] as? NSNumber)?.intValue
        )
    }
}

@available(*, unavailable)
extension ProfileTable: Sendable {}
