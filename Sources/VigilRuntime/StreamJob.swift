public import VigilCore
public import VigilKafka

#if canImport(Glibc)
import Glibc
#endif

/// Settings of a ``StreamJob``.
public struct StreamJobConfig: Sendable {
    public var brokers: String
    public var groupID: String
    public var inputTopics: [String]
    /// Window rows go here, keyed by enterprise id.
    public var outputTopic = "risk.window-stats"
    /// Rejected and late records go here.
    public var deadLetterTopic = "risk.dlq"
    public var window: WindowSpec
    /// Bounded out-of-orderness of the per-partition watermark, ms.
    public var outOfOrderness: Int64 = 5_000
    /// Idle timeout after which a silent partition's watermark follows the processing clock, ms.
    public var idleTimeout: Int64? = 60_000
    public var decoder = ReadingDecoderConfig()
    /// Records per poll.
    public var pollBatch = 10_000
    /// Whether to produce window rows (benchmarks switch it off to measure the engine alone).
    public var produceOutputs = true
    /// How often offsets are committed (after flushing the outputs), ms.
    public var commitInterval: Int64 = 5_000
    public var consumerAdditional: [String: String] = [:]
    public var producerAdditional: [String: String] = [:]
    public var sessionTimeoutMs = 10_000

    public init(brokers: String, groupID: String, inputTopics: [String], window: WindowSpec) {
        self.brokers = brokers
        self.groupID = groupID
        self.inputTopics = inputTopics
        self.window = window
    }
}

/// Counters of a running ``StreamJob``.
public struct StreamJobStats: Sendable, Hashable {
    public var messages: Int64 = 0
    public var readings: Int64 = 0
    public var rejected: Int64 = 0
    public var late: Int64 = 0
    public var rows: Int64 = 0
    public var deadLetters: Int64 = 0
    public var commits: Int64 = 0
}

/// Consumes readings as a consumer-group member, decodes them, computes window statistics per partition,
/// produces the rows, and sends bad and late records to the dead-letter topic.
///
/// One instance runs on one thread (all calls block). Each assigned partition has its own watermark and
/// window state; state of revoked partitions is dropped (checkpointed state arrives with the
/// fault-tolerance work). Offsets are committed after the outputs they cover are flushed (at-least-once).
public final class StreamJob {
    public let config: StreamJobConfig
    public private(set) var stats = StreamJobStats()
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let dlq: DeadLetterQueue
    var decoder: ReadingDecoder
    var encoder: WindowStatsEncoder

    struct PartitionState {
        var topic: String
        var partition: Int32
        var topicPointer: UnsafePointer<CChar>?
        var batch = ReadingBatch(capacity: 1_024)
        var op: PaneWindowOperator
        var nextOffset: Int64 = -1
        var committedOffset: Int64 = -1
    }
    var partitions: [PartitionState] = []
    var rejections: [DecodeRejection] = []
    var rejectedPayloads: [(Int, [UInt8], [UInt8]?, Int32)] = []  // (rejection index, record bytes, key, partition index)
    var output = WindowResults()
    var late = LateRecords()
    var lastCommit: Int64 = 0

    public init(config: StreamJobConfig) throws(KafkaError) {
        self.config = config
        var cc = KafkaConsumerConfig(bootstrapServers: config.brokers, groupID: config.groupID)
        cc.sessionTimeoutMs = config.sessionTimeoutMs
        cc.additionalConfig = config.consumerAdditional
        self.consumer = try KafkaConsumer(config: cc)
        var pc = KafkaProducerConfig(bootstrapServers: config.brokers)
        pc.additionalConfig = config.producerAdditional
        self.producer = try KafkaProducer(config: pc)
        self.dlq = DeadLetterQueue(topic: config.deadLetterTopic)
        self.decoder = ReadingDecoder(config: config.decoder)
        self.encoder = WindowStatsEncoder(statistics: config.window.statistics)
        try consumer.subscribe(config.inputTopics)
    }

    /// Partitions currently assigned to this instance.
    public var assignment: [KafkaTopicPartition] { consumer.assignment }

    /// The sensor and enterprise dictionaries (for reading rows back).
    public var sensors: KeyInterner { decoder.sensors }
    public var enterprises: KeyInterner { decoder.enterprises }

    /// Polls once, processes what arrived, produces results. Returns the number of messages consumed.
    @discardableResult
    public func step(now: Int64 = currentTimeMillis()) throws(KafkaError) -> Int {
        var cachedPointer: UnsafePointer<CChar>? = nil
        var cachedPartition: Int32 = -1
        var cachedIndex = -1
        rejections.removeAll(keepingCapacity: true)
        rejectedPayloads.removeAll(keepingCapacity: true)
        let n = try consumer.poll(maxMessages: config.pollBatch, timeoutMs: 100) { record in
            var index = cachedIndex
            if record.topic != cachedPointer || record.partition != cachedPartition {
                index = self.partitionIndex(record)
                cachedPointer = record.topic
                cachedPartition = record.partition
                cachedIndex = index
            }
            let before = rejections.count
            decoder.decode(payload: record.payload, offset: record.offset, now: now, into: &partitions[index].batch, rejections: &rejections)
            for r in before..<rejections.count {
                let range = rejections[r].range
                let bytes = Array(record.payload[range])
                rejectedPayloads.append((r, bytes, record.key.map { Array($0) }, Int32(index)))
            }
            partitions[index].nextOffset = record.offset + 1
        }
        stats.messages += Int64(n)
        for (r, bytes, key, index) in rejectedPayloads {
            let rejection = rejections[r]
            let state = partitions[Int(index)]
            try sendDeadLetter(
                reason: rejection.reason.rawValue, detail: rejection.detail, state: state, offset: rejection.offset,
                key: key, value: bytes
            )
            stats.rejected += 1
        }
        for i in partitions.indices {
            let op = partitions[i].op
            if !partitions[i].batch.isEmpty {
                op.noteActivity(processingTime: now)
                stats.readings += Int64(partitions[i].batch.count)
                op.process(partitions[i].batch, into: &output, late: &late)
                if !late.indices.isEmpty { try sendLate(partitionIndex: i) }
                late.removeAll()
                partitions[i].batch.removeAll()
            } else {
                op.advance(processingTime: now, into: &output)
            }
            try emit()
        }
        if now - lastCommit >= config.commitInterval {
            try commit()
            lastCommit = now
        }
        handleRebalances()
        return n
    }

    /// Runs ``step(now:)`` until `shouldStop` returns true, then flushes and commits.
    public func run(until shouldStop: () -> Bool) throws(KafkaError) {
        while !shouldStop() { try step() }
        try producer.flush()
        try commit()
    }

    /// Flushes outputs and commits the offsets of everything processed so far.
    public func commit() throws(KafkaError) {
        try producer.flush()
        var offsets: [KafkaTopicPartition] = []
        for i in partitions.indices where partitions[i].nextOffset > partitions[i].committedOffset {
            offsets.append(KafkaTopicPartition(topic: partitions[i].topic, partition: partitions[i].partition, offset: partitions[i].nextOffset))
            partitions[i].committedOffset = partitions[i].nextOffset
        }
        if !offsets.isEmpty {
            try consumer.commit(offsets)
            stats.commits += 1
        }
    }

    /// Leaves the group (after ``commit()``).
    public func close() throws(KafkaError) {
        try commit()
        try consumer.close()
    }

    /// Ends bounded input: every partition's watermark moves to the end of time and all windows are emitted.
    public func finishWindows() throws(KafkaError) {
        for p in partitions { p.op.finish(into: &output) }
        try emit()
        try producer.flush()
    }

    private func partitionIndex(_ record: KafkaRecordView) -> Int {
        if let i = partitions.firstIndex(where: { $0.partition == record.partition && $0.topicPointer == record.topic }) { return i }
        let name = record.topicName
        if let i = partitions.firstIndex(where: { $0.partition == record.partition && $0.topic == name }) {
            partitions[i].topicPointer = record.topic
            return i
        }
        let op = PaneWindowOperator(
            spec: config.window,
            watermark: Watermark(outOfOrderness: config.outOfOrderness, idleTimeout: config.idleTimeout),
            expectedSensors: max(1_024, decoder.sensors.count)
        )
        partitions.append(PartitionState(topic: name, partition: record.partition, topicPointer: record.topic, op: op))
        return partitions.count - 1
    }

    private func handleRebalances() {
        for event in consumer.drainRebalanceEvents() {
            if case .revoked(let revoked) = event {
                let gone = Set(revoked.map { "\($0.topic)/\($0.partition)" })
                partitions.removeAll { gone.contains("\($0.topic)/\($0.partition)") }
            }
        }
    }

    private func emit() throws(KafkaError) {
        guard output.rowCount > 0 else { return }
        if config.produceOutputs {
            for i in 0..<output.rowCount {
                encoder.encode(output, row: i, sensors: decoder.sensors, enterprises: decoder.enterprises)
                let enterprise = output.enterprise[i]
                var failure: KafkaError? = nil
                decoder.enterprises.withKeyBytes(for: enterprise) { key in
                    encoder.buffer.withUnsafeBytes { value in
                        do throws(KafkaError) {
                            try producer.produce(topic: config.outputTopic, key: key, value: value)
                        } catch { failure = error }
                    }
                }
                if let failure { throw failure }
            }
        }
        stats.rows += Int64(output.rowCount)
        output.removeAll()
    }

    private func sendLate(partitionIndex i: Int) throws(KafkaError) {
        let batch = partitions[i].batch
        for index in late.indices {
            let k = Int(index)
            let sensor = decoder.sensors.key(for: batch.sensor[k])
            let enterprise = decoder.enterprises.key(for: batch.enterprise[k])
            let json = "{\"enterprise\":\"\(enterprise)\",\"sensor\":\"\(sensor)\",\"ts\":\(batch.eventTime[k]),\"value\":\(batch.value[k])}"
            try sendDeadLetter(
                reason: "late_record",
                detail: "event time \(batch.eventTime[k]) is behind the watermark \(partitions[i].op.watermark.current) by more than the allowed lateness",
                state: partitions[i], offset: batch.offset[k], key: Array(enterprise.utf8), value: Array(json.utf8)
            )
            stats.late += 1
        }
    }

    private func sendDeadLetter(
        reason: String, detail: String, state: PartitionState, offset: Int64, key: [UInt8]?, value: [UInt8]
    ) throws(KafkaError) {
        var failure: KafkaError? = nil
        value.withUnsafeBytes { v in
            func send(_ k: UnsafeRawBufferPointer?) {
                do throws(KafkaError) {
                    try dlq.send(
                        producer: producer, reason: reason, detail: detail, sourceTopic: state.topic,
                        sourcePartition: state.partition, sourceOffset: offset, key: k, value: v
                    )
                } catch { failure = error }
            }
            if let key { key.withUnsafeBytes { send($0) } } else { send(nil) }
        }
        if let failure { throw failure }
        stats.deadLetters += 1
    }
}

@available(*, unavailable)
extension StreamJob: Sendable {}

/// Wall-clock milliseconds since the Unix epoch.
public func currentTimeMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000 + Int64(ts.tv_nsec) / 1_000_000
}
