import Foundation
import VigilCore
import VigilKafka

/// The consumer of the reference-table topics, read in full by every instance (global tables; on a real
/// cluster the topics are compacted) from offset 0 of every partition, caught up before the job starts and
/// refreshed once per poll. The records' formats and how each table keeps them: ``TableReader``.
final class ProfileTable {
    private let consumer: KafkaConsumer
    private var reader: TableReader
    /// The table each topic holds.
    private let roles: [String: TableReader.Table]
    /// What has been read; the partitions' pipelines read it.
    var tables: ReferenceTables { reader.tables }
    /// A record that could not be applied, with why (for the dead-letter topic).
    struct Rejected {
        var topic: String
        var partition: Int32
        var offset: Int64
        var key: [UInt8]?
        var value: [UInt8]
        var reason: String
    }
    /// Records rejected since ``takeRejected()`` was last called.
    private var rejected: [Rejected] = []
    /// Records rejected so far, by table (`profiles`, `permits`, …, `offline_notices`).
    private(set) var rejectedByTable: [String: Int64] = [:]

    /// The records rejected since the last call.
    func takeRejected() -> [Rejected] {
        defer { rejected.removeAll() }
        return rejected
    }
    /// A consumer of `topics` (each with the table it holds), caught up to their current end.
    init(topics: [String: TableReader.Table], brokers: String, additional: [String: String]) throws(KafkaError) {
        var admin: [String: String] = additional
        admin["log_level"] = admin["log_level"] ?? "3"
        roles = topics
        reader = TableReader(reading: Set(topics.values))
        let existing = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: admin).describeTopics()
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "vigil.profiles.\(UUID().uuidString)")
        cc.additionalConfig = additional
        consumer = try KafkaConsumer(config: cc)
        try consumer.assign(
            topics.keys.sorted().flatMap { topic in (0..<(existing[topic] ?? 1)).map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) } }
        )
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
        let topic = record.topicName
        guard let table = roles[topic] else { return }
        guard let reason = reader.apply(table, key: record.key, payload: record.payload) else { return }
        rejectedByTable[table.rawValue, default: 0] += 1
        rejected.append(
            Rejected(
                topic: topic, partition: record.partition, offset: record.offset, key: record.key.map { Array($0) }, value: Array(record.payload),
                reason: reason))
    }
}

@available(*, unavailable)
extension ProfileTable: Sendable {}
