import Foundation
import VigilCore
public import VigilKafka

/// The second stage: consumes grades re-keyed by region (every grade of a region in one partition) and
/// periodically produces, per group (e.g. region × industry), how many enterprises are at each level.
///
/// Output (`sinks.heatmap`, keyed by region):
/// `{"region":"north","industry":"chemicals","red":0,"orange":1,"yellow":2,"blue":9,"enterprises":12,"ts":…}`
/// where `ts` is the processing time of the snapshot. Each enterprise counts at its latest level. State is
/// rebuilt from the topic on start (no checkpoint yet).
public final class HeatmapJob {
    public struct Config: Sendable {
        public var brokers: String
        public var groupID: String
        public var inputTopic: String
        public var outputTopic: String
        public var groupBy: [String] = ["region", "industry"]
        /// Snapshot interval (processing time), ms.
        public var every: Int64 = 60_000
        public var consumerAdditional: [String: String] = [:]
        public var producerAdditional: [String: String] = [:]
        public var sessionTimeoutMs = 10_000
        /// Where grade records that cannot be read go, with their reason (`bad_grade_record`).
        public var deadLetters = "risk.dlq"
        public init(brokers: String, groupID: String, inputTopic: String, outputTopic: String) {
            self.brokers = brokers
            self.groupID = groupID
            self.inputTopic = inputTopic
            self.outputTopic = outputTopic
        }
    }

    public let config: Config
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    /// enterprise → (group values, level)
    var latest: [String: ([String], String)] = [:]
    var lastEmit: Int64 = .min
    var nextOffsets: [KafkaTopicPartition: Int64] = [:]
    public private(set) var gradesRead: Int64 = 0
    /// Grade records that could not be read (not a JSON object, no enterprise or level): sent to the
    /// dead-letter topic.
    public private(set) var gradesRejected: Int64 = 0
    /// Rejected records of one poll, produced to the dead-letter topic after it.
    private var rejected: [(partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8], reason: String)] = []
    public private(set) var snapshotsProduced: Int64 = 0

    public init(config: Config) throws(KafkaError) {
        self.config = config
        var cc = KafkaConsumerConfig(bootstrapServers: config.brokers, groupID: config.groupID)
        cc.sessionTimeoutMs = config.sessionTimeoutMs
        cc.additionalConfig = config.consumerAdditional
        consumer = try KafkaConsumer(config: cc)
        var pc = KafkaProducerConfig(bootstrapServers: config.brokers)
        pc.additionalConfig = config.producerAdditional
        producer = try KafkaProducer(config: pc)
        try consumer.subscribe([config.inputTopic])
    }

    /// Partitions assigned to this instance.
    public var assignment: [KafkaTopicPartition] { consumer.assignment }

    /// Polls once; produces a snapshot when `every` has passed since the last one (and there is data).
    @discardableResult
    public func step(now: Int64 = currentTimeMillis()) throws(KafkaError) -> Int {
        let groupBy = config.groupBy
        let n = try consumer.poll(maxMessages: 10_000, timeoutMs: 100) { record in
            nextOffsets[KafkaTopicPartition(topic: config.inputTopic, partition: record.partition)] = record.offset + 1
            do throws(TableRecordError) {
                let grade = try GradeSummaryRecord(json: record.payload, groupBy: groupBy)
                latest[grade.enterprise] = (groupBy.map { grade.groups[$0] ?? "unknown" }, grade.level.description)
                gradesRead += 1
            } catch {
                rejected.append((record.partition, record.offset, record.key.map { Array($0) }, Array(record.payload), error.reason))
            }
        }
        if !rejected.isEmpty {
            let dlq = DeadLetterQueue(topic: config.deadLetters)
            for r in rejected {
                try dlq.send(
                    producer: producer, reason: .badGradeRecord, detail: r.reason, sourceTopic: config.inputTopic, sourcePartition: r.partition,
                    sourceOffset: r.offset, key: r.key, value: r.value)
            }
            gradesRejected += Int64(rejected.count)
            rejected.removeAll()
        }
        if !latest.isEmpty && (lastEmit == .min || now - lastEmit >= config.every) {
            try emit(now: now)
            lastEmit = now
        }
        return n
    }

    /// One cell of the heat map as JSON (`Schemas/risk.heatmap.v1.schema.json`): its group values (escaped: a
    /// region may hold any character), the count per level, the total and the snapshot time.
    static func cell(groupBy: [String], group: [String], byLevel: [String: Int], ts: Int64) -> String {
        var fields = zip(groupBy, group).map { "\(jsonString($0.0)):\(jsonString($0.1))" }
        for level in ["red", "orange", "yellow", "blue"] { fields.append("\"\(level)\":\(byLevel[level] ?? 0)") }
        fields.append("\"enterprises\":\(byLevel.values.reduce(0, +))")
        fields.append("\"ts\":\(ts)")
        return "{" + fields.joined(separator: ",") + "}"
    }

    func emit(now: Int64) throws(KafkaError) {
        var counts: [[String]: [String: Int]] = [:]
        for (_, (group, level)) in latest { counts[group, default: [:]][level, default: 0] += 1 }
        for (group, byLevel) in counts.sorted(by: { $0.key.joined(separator: "/") < $1.key.joined(separator: "/") }) {
            let json = Self.cell(groupBy: config.groupBy, group: group, byLevel: byLevel, ts: now)
            try producer.produce(topic: config.outputTopic, key: Array((group.first ?? "").utf8), value: Array(json.utf8))
            snapshotsProduced += 1
        }
        try producer.flush()
        let offsets = nextOffsets.map { KafkaTopicPartition(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) }
        try consumer.commit(offsets)
    }

    /// Produces a last snapshot, commits and leaves the group.
    public func close() throws(KafkaError) {
        if !latest.isEmpty { try emit(now: currentTimeMillis()) }
        try consumer.close()
    }
}

@available(*, unavailable)
extension HeatmapJob: Sendable {}
