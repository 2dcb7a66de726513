import Foundation
import VigilCore
import VigilKafka

/// The consumer of the reference-table topics, read in full by every instance (global tables; on a real
/// cluster the topics are compacted) from offset 0 of every partition, caught up before the job starts and
/// refreshed once per poll. The records' formats and how each table keeps them: ``TableReader``.
///
/// The table topics' partitions are followed as they appear: a topic that does not exist yet when the job
/// starts, or that gains partitions, is looked up again every ``metadataInterval`` and its new partitions are
/// read from offset 0. Until every partition of every table topic has been read to its end once, the tables
/// are incomplete (``ReferenceTables/complete``), which grades and alerts record. A table topic that still
/// does not exist ``missingGrace`` after the start is read as empty (a table nobody writes yet) and no longer
/// keeps the tables incomplete, until it appears.
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

    /// What one table topic has given so far (the metrics per table).
    struct TopicStatus: Sendable, Hashable {
        var table: String
        /// Partitions being read.
        var partitions: Int32 = 0
        /// Records applied.
        var read: Int64 = 0
        /// Records rejected (to the dead-letter topic).
        var rejected: Int64 = 0
        /// Every partition read to its end once.
        var complete = false
    }
    /// Per table topic.
    private(set) var status: [String: TopicStatus] = [:]
    /// Partitions read to their end at least once.
    private var caughtUp: Set<KafkaTopicPartition> = []
    /// How often the table topics' partitions are looked up again (ms).
    let metadataInterval: Int64
    /// How long after the start a table topic that does not exist keeps the tables incomplete (ms).
    let missingGrace: Int64
    private let startedAt: Int64
    private var nextMetadata: Int64 = 0
    private var reportedMissing = false
    /// Lines for the log since ``takeNotices()`` was last called: a table topic appeared or grew, a table was
    /// read to its end.
    private var notices: [String] = []

    func takeNotices() -> [String] {
        defer { notices.removeAll() }
        return notices
    }

    /// Records rejected so far, by table (`profiles`, `permits`, …, `offline_notices`).
    var rejectedByTable: [String: Int64] {
        status.values.reduce(into: [:]) { $0[$1.table, default: 0] += $1.rejected }
    }

    /// The records rejected since the last call.
    func takeRejected() -> [Rejected] {
        defer { rejected.removeAll() }
        return rejected
    }

    /// A consumer of `topics` (each with the table it holds), caught up to their current end (at most
    /// `catchUpMs`; a topic that does not exist yet is read once it does).
    init(
        topics: [String: TableReader.Table], brokers: String, additional: [String: String], metadataInterval: Int64 = 2_000,
        missingGrace: Int64 = 60_000, catchUpMs: Int64 = 10_000
    ) throws(KafkaError) {
        self.missingGrace = missingGrace
        startedAt = currentTimeMillis()
        roles = topics
        reader = TableReader(reading: Set(topics.values))
        self.metadataInterval = metadataInterval
        for (topic, table) in topics { status[topic] = TopicStatus(table: table.rawValue) }
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "vigil.profiles.\(UUID().uuidString)")
        cc.additionalConfig = additional
        consumer = try KafkaConsumer(config: cc)
        try consumer.assign([])
        try followPartitions(now: currentTimeMillis())
        try catchUp(timeoutMs: catchUpMs)
    }

    /// Reads the table to its current end before the job starts grading (as a global table is restored),
    /// giving up after `timeoutMs`.
    func catchUp(timeoutMs: Int64) throws(KafkaError) {
        let deadline = currentTimeMillis() + timeoutMs
        var polls = 0
        while currentTimeMillis() < deadline {
            let n = try consumer.poll(maxMessages: 10_000, timeoutMs: 200) { record in self.apply(record) }
            polls += 1
            noteCaughtUp()
            if polls >= 2 && n == 0 && status.values.allSatisfy({ $0.complete || $0.partitions == 0 }) { return }
        }
    }

    /// Reads whatever arrived (without waiting long), and every ``metadataInterval`` starts reading the
    /// partitions that appeared.
    func refresh() throws(KafkaError) {
        try consumer.poll(maxMessages: 10_000, timeoutMs: 0) { record in apply(record) }
        let now = currentTimeMillis()
        if now >= nextMetadata { try followPartitions(now: now) }
        noteCaughtUp()
    }

    /// Assigns the table topics' partitions that are not read yet, from offset 0.
    private func followPartitions(now: Int64) throws(KafkaError) {
        nextMetadata = now + metadataInterval
        let counts: [String: Int32]
        do {
            counts = try consumer.partitionCounts(timeoutMs: 5_000)
        } catch  where error.isRetriable {
            return  // the cluster is unreachable for now: looked up again at the next interval
        }
        var more: [KafkaTopicPartition] = []
        for topic in roles.keys.sorted() {
            let known = status[topic]!.partitions
            guard let count = counts[topic], count > known else { continue }
            more += (known..<count).map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) }
            status[topic]!.partitions = count
            status[topic]!.complete = false
            notices.append(
                known == 0
                    ? "table topic \(topic) (\(status[topic]!.table)): reading its \(count) partition\(count == 1 ? "" : "s")"
                    : "table topic \(topic) (\(status[topic]!.table)) grew from \(known) to \(count) partitions: reading the new ones from offset 0")
        }
        if !more.isEmpty { try consumer.assignMore(more) }
        if !reportedMissing {
            let missing = roles.keys.sorted().filter { status[$0]!.partitions == 0 }
            if !missing.isEmpty {
                reportedMissing = true
                notices.append(
                    "table topic\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) do\(missing.count == 1 ? "es" : "") not exist yet: read once created; until then, or for \(missingGrace / 1_000) s, grades and alerts are marked tables_complete false"
                )
            }
        }
        updateCompleteness(now: now)
    }

    /// Partitions whose lag reached 0 are read to their end.
    private func noteCaughtUp() {
        guard !reader.complete else { return }
        for (partition, lag) in consumer.lag() where lag == 0 { caughtUp.insert(partition) }
        updateCompleteness(now: currentTimeMillis())
    }

    private func updateCompleteness(now: Int64) {
        for topic in roles.keys.sorted() {
            let s = status[topic]!
            guard !s.complete, s.partitions > 0 else { continue }
            guard (0..<s.partitions).allSatisfy({ caughtUp.contains(KafkaTopicPartition(topic: topic, partition: $0)) }) else { continue }
            status[topic]!.complete = true
            notices.append(
                "table topic \(topic) (\(s.table)) read to its end: \(s.read) record\(s.read == 1 ? "" : "s") in \(s.partitions) partition\(s.partitions == 1 ? "" : "s")"
            )
        }
        // A topic still missing after the grace is an empty table, not an unread one.
        let graceOver = now - startedAt >= missingGrace
        let complete = status.values.allSatisfy { $0.complete || ($0.partitions == 0 && graceOver) }
        if reader.complete != complete { reader.complete = complete }
    }

    private func apply(_ record: KafkaRecordView) {
        let topic = record.topicName
        guard let table = roles[topic] else { return }
        guard let reason = reader.apply(table, key: record.key, payload: record.payload) else {
            status[topic]!.read += 1
            return
        }
        status[topic]!.rejected += 1
        rejected.append(
            Rejected(
                topic: topic, partition: record.partition, offset: record.offset, key: record.key.map { Array($0) }, value: Array(record.payload),
                reason: reason))
    }
}

@available(*, unavailable)
extension ProfileTable: Sendable {}
