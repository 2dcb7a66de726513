public import VigilCore
public import VigilKafka
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Settings of a ``StreamJob``: where it reads and writes, and what each partition's pipeline computes.
///
/// The job computes an output only when it has a topic for it: without `topics.anomalies` no anomaly scores,
/// without `topics.grades` no grades (whatever `pipeline` says), and `topics.gradesByRegion` decides the copy
/// re-keyed by region.
public struct StreamJobConfig: Sendable {
    /// The output topics.
    public struct OutputTopics: Sendable {
        /// Window rows, keyed by enterprise id.
        public var windowStats = "risk.window-stats"
        /// Rejected and late records.
        public var deadLetters = "risk.dlq"
        /// Alert records (alarm transitions, deadlines, data gaps, instrument status, interruptions), by enterprise.
        public var alerts = "risk.alerts"
        /// Readings whose anomaly score reaches the pipeline's floor; nil: no scoring.
        public var anomalies: String? = nil
        /// Enterprise grades (on change and as a heartbeat); nil: no grading.
        public var grades: String? = nil
        /// A copy of every grade keyed by the enterprise's region (when the region is known).
        public var gradesByRegion: String? = nil
        public init() {}
    }

    /// The reference-table topics, read in full (nil: the table is not read).
    public struct TableTopics: Sendable {
        /// Enterprise profiles: region, industry, major-hazard grade, diagnosis, credit.
        public var profiles: String? = nil
        /// Special-work permits (O) and hidden hazards (H).
        public var permits: String? = nil
        public var hazards: String? = nil
        /// Acknowledgements of alerts: an acknowledged alarm is not escalated.
        public var acknowledgements: String? = nil
        /// Per-point setpoints (H/HH/L/LL, `DOMAIN.md` §3.2): they replace the levels of the points' rules.
        public var setpoints: String? = nil
        /// Daily safety commitments.
        public var commitments: String? = nil
        /// Offline notices (离线报备, §5).
        public var offlineNotices: String? = nil
        public init() {}
    }

    public var brokers: String
    public var groupID: String
    public var inputTopics: [String]
    /// What each partition computes.
    public var pipeline: PartitionPipelineSettings
    public var topics = OutputTopics()
    public var tables = TableTopics()
    /// Records per poll.
    public var pollBatch = 10_000
    /// How often state is checkpointed and offsets committed (after flushing the outputs), ms.
    public var commitInterval: Int64 = 5_000
    /// Where partition snapshots are kept (default none: state is lost on restart or rebalance).
    public var checkpoint: CheckpointMode = .none
    public var consumerAdditional: [String: String] = [:]
    public var producerAdditional: [String: String] = [:]
    public var sessionTimeoutMs = 10_000
    /// Whether this job sends the reference-table records it cannot apply to the dead-letter topic. Every worker
    /// of a process reads the tables in full; only the first sends their rejects, so each is sent once per process.
    public var sendsTableRejections = true

    /// The grade model's settings (those of `pipeline.grading`, which setting them creates).
    public var grading: PartitionPipelineSettings.Grading {
        get { pipeline.grading ?? .init() }
        set { pipeline.grading = newValue }
    }

    /// A job with one unnamed window.
    public init(brokers: String, groupID: String, inputTopics: [String], window: WindowSpec) {
        self.init(brokers: brokers, groupID: groupID, inputTopics: inputTopics, windows: [(nil, window)])
    }

    public init(brokers: String, groupID: String, inputTopics: [String], windows: [(name: String?, spec: WindowSpec)]) {
        self.init(
            brokers: brokers, groupID: groupID, inputTopics: inputTopics,
            pipeline: PartitionPipelineSettings(windows: windows.map { .init(name: $0.name, spec: $0.spec) }))
    }

    public init(brokers: String, groupID: String, inputTopics: [String], pipeline: PartitionPipelineSettings) {
        self.brokers = brokers
        self.groupID = groupID
        self.inputTopics = inputTopics
        self.pipeline = pipeline
    }
}

extension StreamJobConfig {
    /// Every topic the job produces to: the sinks, the alert routes and the dead letters.
    var outputTopics: [String] {
        var all = [topics.windowStats, topics.alerts, topics.deadLetters]
        all += [topics.anomalies, topics.grades, topics.gradesByRegion].compactMap { $0 }
        all += pipeline.alarms.routes.map(\.topic)
        var seen = Set<String>()
        return all.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The topic of an output sink.
    func topic(of sink: PartitionOutputs.Sink) -> String {
        switch sink {
        case .windowRows: topics.windowStats
        case .alerts: topics.alerts
        case .alertRoute(let r): pipeline.alarms.routes[r].topic
        case .anomalies: topics.anomalies ?? ""
        case .grades: topics.grades ?? ""
        case .gradesByRegion: topics.gradesByRegion ?? ""
        }
    }

    /// The reference-table topics the job reads, and the table each holds (empty: none). Profiles, hazards,
    /// commitments and offline notices only feed grades; acknowledgements and setpoints only alarms; permits
    /// both (they tighten the limits of rules that adjust during special work).
    var tableTopics: [String: TableReader.Table] {
        let alarms = !pipeline.alarmRules.isEmpty
        let permitLimits = tables.permits != nil && pipeline.alarmRules.contains { $0.adjustments.contains(where: \.duringPermit) }
        let grading =
            topics.grades != nil
            && (tables.profiles != nil || tables.permits != nil || tables.hazards != nil || tables.commitments != nil
                || tables.offlineNotices != nil)
        let acknowledging = tables.acknowledgements != nil && alarms
        let pointLevels = tables.setpoints != nil && alarms
        guard grading || permitLimits || acknowledging || pointLevels else { return [:] }
        var named: [(String?, TableReader.Table)] = [(tables.permits, .permits)]
        if grading {
            named += [
                (tables.profiles, .profiles), (tables.hazards, .hazards), (tables.commitments, .commitments),
                (tables.offlineNotices, .offlineNotices),
            ]
        }
        if acknowledging { named.append((tables.acknowledgements, .acknowledgements)) }
        if pointLevels { named.append((tables.setpoints, .setpoints)) }
        var topics: [String: TableReader.Table] = [:]
        for case (let topic?, let table) in named { topics[topic] = table }
        return topics
    }

    /// The settings each partition's pipeline runs with: `pipeline`, with the outputs that have no topic off.
    var pipelineSettings: PartitionPipelineSettings {
        var p = pipeline
        p.scoreAnomalies = topics.anomalies != nil
        if topics.grades != nil {
            var g = pipeline.grading ?? .init()
            g.byRegion = topics.gradesByRegion != nil
            p.grading = g
        } else {
            p.grading = nil
        }
        return p
    }
}

/// Counters of a running ``StreamJob``.
public struct StreamJobStats: Sendable, Hashable {
    /// Kafka messages consumed.
    public var messages: Int64 = 0
    /// Readings decoded and processed.
    public var readings: Int64 = 0
    /// Records rejected by the decoder, by reason.
    public var rejectedByReason: [String: Int64] = [:]
    /// Readings later than the allowed lateness.
    public var late: Int64 = 0
    /// Window rows emitted, by window name (`""` for an unnamed window).
    public var rowsByWindow: [String: Int64] = [:]
    /// Records produced to the dead-letter topic.
    public var deadLetters: Int64 = 0
    /// Alarm transitions produced, by event (`raised`, `escalated`, …) and level (`AL1`, `AL2`, `normal`).
    public var alertsByLevel: [String: Int64] = [:]
    /// Anomaly records produced (scores at or above the floor), by detector.
    public var anomaliesByDetector: [String: Int64] = [:]
    /// Alert records marked suppressed (not routed), by reason (`chattering`, `flood`).
    public var suppressedAlerts: [String: Int64] = [:]
    /// Copies of alert records produced to route topics.
    public var routedAlerts: Int64 = 0
    /// Grade records produced, by level.
    public var gradesByLevel: [String: Int64] = [:]
    /// Successful offset commits.
    public var commits: Int64 = 0
    /// Checkpoints written: one per turn (directory store), per revocation or close, or per transaction
    /// (kafka store), each covering the partitions it took that made progress.
    public var checkpoints: Int64 = 0
    /// Partition snapshots written.
    public var snapshotsWritten: Int64 = 0
    /// Bytes of the last checkpoint's snapshots.
    public var lastCheckpointBytes: Int64 = 0
    /// How long the last checkpoint stalled the worker, seconds: a turn's snapshot encoding, store and commit;
    /// on revocation, close and with the kafka store also the flush or the transaction's commit.
    public var lastCheckpointSeconds: Double = 0
    /// Partitions whose state was restored from a snapshot.
    public var partitionsRestored: Int64 = 0
    /// Duration of the last restore (reading and decoding the snapshots of an assignment), seconds.
    public var lastRestoreSeconds: Double = 0

    public var rejected: Int64 { rejectedByReason.values.reduce(0, +) }

    /// Adds what a pipeline emitted.
    mutating func add(_ c: PipelineCounters) {
        guard !c.isEmpty else { return }
        alertsByLevel.merge(c.alertsByLevel, uniquingKeysWith: +)
        anomaliesByDetector.merge(c.anomaliesByDetector, uniquingKeysWith: +)
        suppressedAlerts.merge(c.suppressedAlerts, uniquingKeysWith: +)
        routedAlerts += c.routedAlerts
        gradesByLevel.merge(c.gradesByLevel, uniquingKeysWith: +)
        rowsByWindow.merge(c.rowsByWindow, uniquingKeysWith: +)
        late += c.late
        // Refused by the pipeline rather than the decoder, but as much a rejected reading.
        if c.enterpriseMismatches > 0 { rejectedByReason[RejectReason.sensorEnterpriseMismatch.rawValue, default: 0] += c.enterpriseMismatches }
    }
    public var rows: Int64 { rowsByWindow.values.reduce(0, +) }
}

/// Consumes readings as a consumer-group member, decodes them, computes window statistics per partition,
/// produces the rows, and sends bad and late records to the dead-letter topic.
///
/// One instance runs on one thread (all calls block). Each assigned partition has its own key dictionary,
/// watermark, window, alarm, anomaly and grade state (all per-enterprise state is partition-local because
/// readings are keyed by enterprise).
///
/// With a ``CheckpointMode`` other than `.none`, on revocation (inside the rebalance callback, before another
/// member can own the partition) and on close, the job flushes its outputs, writes one ``PartitionSnapshot``
/// per partition that made progress, and commits the offsets. Every `commitInterval` each partition is
/// checkpointed too: in `.kafka` mode all of them in one transaction, otherwise in turns spread over the
/// interval, each written once the outputs before it are acknowledged (``checkpointInTurn(now:)``). An assigned partition resumes from its snapshot's offset with the snapshot's
/// state. Outputs are deterministic functions of the input, so what a restart replays is byte-identical to
/// what was already written.
public final class StreamJob {
    public let config: StreamJobConfig
    public internal(set) var stats = StreamJobStats()
    /// Processing time of the last ``step(now:)`` that received records, in seconds: from the first record
    /// handed over by librdkafka to the outputs enqueued (waiting for records is not counted). Nil after an
    /// idle poll.
    public private(set) var lastStepSeconds: Double? = nil
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let dlq: DeadLetterQueue

    /// One assigned partition: its position and its pipeline.
    final class PartitionState {
        let topic: String
        let partition: Int32
        /// The topic's token in the consumer (nil until a record of it was read).
        var topicToken: KafkaTopicToken?
        var pipeline: PartitionPipeline
        var nextOffset: Int64 = -1
        var committedOffset: Int64 = -1
        /// The checkpoint turn in which this partition was last checkpointed (0: not yet since its assignment).
        var checkpointTurn: UInt64 = 0

        init(topic: String, partition: Int32, topicToken: KafkaTopicToken?, pipeline: PartitionPipeline) {
            self.topic = topic
            self.partition = partition
            self.topicToken = topicToken
            self.pipeline = pipeline
        }
    }
    var partitions: [PartitionState] = []
    var rejections: [DecodeRejection] = []
    var rejectedPayloads: [(Int, [UInt8], [UInt8]?, Int32)] = []  // (rejection index, record bytes, key, partition index)
    /// What the pipelines emitted in the current step (reused).
    var outputs = PartitionOutputs()
    /// The pipeline settings every partition runs with.
    let pipelineSettings: PartitionPipelineSettings
    var lastCommit: Int64 = 0
    /// Checkpoint turns taken (without the kafka store the partitions are checkpointed in turns).
    var checkpointTurns: UInt64 = 0
    /// A turn's checkpoint waiting for the producer to acknowledge the outputs enqueued before it.
    var pendingCheckpoint: PendingCheckpoint? = nil
    let profiles: ProfileTable?
    let directoryStore: DirectoryCheckpointStore?
    let kafkaStore: KafkaCheckpointStore?
    /// Partitions assigned to this member (records of other partitions still in a poll's batch are dropped).
    var assigned: Set<KafkaTopicPartition> = []
    /// Whether the checkpoint directory has been checked against the cluster (at the first assignment).
    var clusterBound = false
    /// An error raised inside a rebalance callback (a restore or a checkpoint), thrown by the next ``step(now:)``.
    var callbackFailure: JobError? = nil
    /// Called with operational notices (a checkpoint section that starts afresh, a store that could not be set up).
    public var onNotice: (String) -> Void = { _ in }
    /// Called with progress worth a log line at info level (a table topic found, read to its end).
    public var onInfo: (String) -> Void = { _ in }

    public convenience init(config: StreamJobConfig) throws(JobError) {
        do throws(KafkaError) {
            try self.init(starting: config)
        } catch {
            throw JobError(.start, error)
        }
    }

    private init(starting config: StreamJobConfig) throws(KafkaError) {
        self.config = config
        pipelineSettings = config.pipelineSettings
        var cc = KafkaConsumerConfig(bootstrapServers: config.brokers, groupID: config.groupID)
        cc.sessionTimeoutMs = config.sessionTimeoutMs
        cc.additionalConfig = config.consumerAdditional
        self.consumer = try KafkaConsumer(config: cc)
        var pc = KafkaProducerConfig(bootstrapServers: config.brokers)
        pc.additionalConfig = config.producerAdditional
        switch config.checkpoint {
        case .none:
            directoryStore = nil
            kafkaStore = nil
        case .directory(let path):
            do {
                directoryStore = try DirectoryCheckpointStore(path: path)
            } catch {
                throw KafkaError(.configuration, error.message)
            }
            kafkaStore = nil
        case .kafka(let topic, let transactionalID):
            directoryStore = nil
            kafkaStore = KafkaCheckpointStore(topic: topic, brokers: config.brokers, additional: config.consumerAdditional)
            pc.transactionalID = transactionalID
        }
        self.producer = try KafkaProducer(config: pc)
        if kafkaStore != nil {
            try producer.initTransactions()
            try producer.beginTransaction()
        }
        self.dlq = DeadLetterQueue(topic: config.topics.deadLetters)
        let tables = config.tableTopics
        profiles = tables.isEmpty ? nil : try ProfileTable(topics: tables, brokers: config.brokers, additional: config.consumerAdditional)
        consumer.setRebalanceHandlers(
            onAssign: { [unowned self] partitions in self.partitionsAssigned(partitions) },
            onRevoke: { [unowned self] partitions in self.partitionsRevoked(partitions) }
        )
        try consumer.subscribe(config.inputTopics)
    }

    deinit {
        // The consumer may outlive this object by a moment (closing it in its deinit runs a revocation).
        consumer.setRebalanceHandlers(onAssign: nil, onRevoke: nil)
    }

    /// Gets ready to produce; reports to ``onNotice`` what the caller should log (a checkpoint topic that could
    /// not be created, an output topic the cluster does not have).
    ///
    /// Fetches the output topics' metadata up front. librdkafka otherwise looks a topic up at its first record:
    /// in W3 the first window close of a run reached its reader 0.5–1 s late, the later ones 25–33 ms after
    /// the close, and the first alert of a topic would wait the same way.
    public func prepare() {
        if let store = kafkaStore, let problem = store.ensureTopic() { onNotice(problem) }
        for topic in config.outputTopics {
            do throws(KafkaError) {
                if try producer.lookUp(topic: topic, timeoutMs: 2_000) == nil {
                    onNotice("output topic \(topic) does not exist on the cluster: records to it will fail until it is created")
                }
            } catch {
                // The brokers do not answer yet: the rest would wait as long; the first records look them up.
                onNotice("output topics: no metadata yet (\(topic): \(error.message)); the first records to each wait for it")
                break
            }
        }
    }

    /// Partitions currently assigned to this instance.
    public var assignment: [KafkaTopicPartition] { consumer.assignment }

    /// Consumer lag per assigned partition.
    public func lag() -> [KafkaTopicPartition: Int64] {
        var known: [KafkaTopicPartition: Int64] = [:]
        for p in partitions where p.nextOffset >= 0 { known[KafkaTopicPartition(topic: p.topic, partition: p.partition)] = p.nextOffset }
        return consumer.lag(knownPositions: known)
    }

    /// Approximate bytes of window state held by all partitions.
    public var windowStateBytes: Int { partitions.reduce(0) { $0 + $1.pipeline.windowStateBytes } }

    /// Polls once, processes what arrived, produces results. Returns the number of messages consumed.
    @discardableResult
    public func step(now: Int64 = currentTimeMillis()) throws(JobError) -> Int {
        let clock = ContinuousClock()
        var started: ContinuousClock.Instant? = nil
        rejections.removeAll(keepingCapacity: true)
        rejectedPayloads.removeAll(keepingCapacity: true)
        let n: Int
        do throws(KafkaError) {
            n = try poll(now: now, started: &started, clock: clock)
        } catch {
            throw JobError(.step, error)
        }
        stats.messages += Int64(n)
        if let failure = callbackFailure {
            callbackFailure = nil
            throw failure
        }
        do throws(KafkaError) {
            try processPolled(now: now)
        } catch {
            throw JobError(.step, error)
        }
        if kafkaStore == nil {
            try checkpointInTurn(now: now)
        } else if now - lastCommit >= config.commitInterval {
            try commit()
            lastCommit = now
        }
        _ = consumer.drainRebalanceEvents()
        if let started {
            let elapsed = clock.now - started
            lastStepSeconds = elapsed.inSeconds
        } else {
            lastStepSeconds = nil
        }
        return n
    }

    /// Polls once and decodes what arrived into the partitions' batches (rejections aside).
    private func poll(now: Int64, started: inout ContinuousClock.Instant?, clock: ContinuousClock) throws(KafkaError) -> Int {
        var cachedToken: KafkaTopicToken? = nil
        var cachedPartition: Int32 = -1
        var cachedIndex = -1
        var first: ContinuousClock.Instant? = nil
        defer { if started == nil { started = first } }
        return try consumer.poll(maxMessages: config.pollBatch, timeoutMs: 100) { record in
            if first == nil { first = clock.now }
            if started == nil { started = clock.now }
            var index = cachedIndex
            if record.topicToken != cachedToken || record.partition != cachedPartition {
                index = self.partitionIndex(record)
                cachedToken = record.topicToken
                cachedPartition = record.partition
                cachedIndex = index
            }
            // A record fetched before its partition was revoked in this poll: the new owner reads it.
            guard index >= 0 else { return }
            let before = rejections.count
            let pipeline = partitions[index].pipeline
            pipeline.decoder.decode(payload: record.payload, offset: record.offset, now: now, into: &pipeline.batch, rejections: &rejections)
            for r in before..<rejections.count {
                let bytes = Array(record.payload[rejections[r].range])
                rejectedPayloads.append((r, bytes, record.key.map { Array($0) }, Int32(index)))
            }
            partitions[index].nextOffset = record.offset + 1
        }
    }

    /// Sends the poll's rejected records to the dead-letter topic, runs every partition's pipeline on its
    /// batch and produces what it emitted.
    private func processPolled(now: Int64) throws(KafkaError) {
        for (r, bytes, key, index) in rejectedPayloads {
            let rejection = rejections[r]
            try sendDeadLetter(
                reason: rejection.reason, detail: rejection.detail, state: partitions[Int(index)],
                offset: rejection.offset, key: key, value: bytes
            )
            stats.rejectedByReason[rejection.reason.rawValue, default: 0] += 1
        }
        // The tables (profiles, permits, hazards, acknowledgements): whatever arrived, once per poll.
        try profiles?.refresh()
        for notice in profiles?.takeNotices() ?? [] { onInfo(notice) }
        try sendRejectedTableRecords()
        let tables = profiles?.tables
        for state in partitions {
            let pipeline = state.pipeline
            stats.readings += Int64(pipeline.batch.count)
            pipeline.process(pipeline.batch, tables: tables, now: now, into: &outputs)
            pipeline.batch.removeAll()
            try produceOutputs(of: state)
        }
    }

    /// Runs ``step(now:)`` until `shouldStop` returns true, then checkpoints and commits.
    public func run(until shouldStop: () -> Bool) throws(JobError) {
        while !shouldStop() { try step() }
        try commit()
    }

    /// Flushes outputs, checkpoints the state of every partition that made progress, and commits its offsets
    /// (in `.kafka` mode: commits the transaction holding the outputs, the snapshots and the offsets).
    public func commit() throws(JobError) {
        try checkpoint(partitions.indices.map { $0 })
    }

    /// Leaves the group: the revocation inside checkpoints every partition, then the consumer closes.
    public func close() throws(JobError) {
        try commit()
        do throws(KafkaError) {
            try consumer.close()
        } catch {
            throw JobError(.close, error)
        }
        if let failure = callbackFailure {
            callbackFailure = nil
            throw failure
        }
        if kafkaStore != nil { try? producer.abortTransaction() }
    }

    /// Ends bounded input: every partition's watermark moves to the end of time and all windows are emitted.
    public func finishWindows() throws(JobError) {
        do throws(KafkaError) {
            for state in partitions {
                state.pipeline.finish(into: &outputs)
                try produceOutputs(of: state)
            }
            try producer.flush()
        } catch {
            throw JobError(.finish, error)
        }
    }

    /// The state index of the record's partition, or -1 for a partition no longer assigned.
    private func partitionIndex(_ record: KafkaRecordView) -> Int {
        if let i = partitions.firstIndex(where: { $0.partition == record.partition && $0.topicToken == record.topicToken }) { return i }
        let name = record.topicName
        if let i = partitions.firstIndex(where: { $0.partition == record.partition && $0.topic == name }) {
            partitions[i].topicToken = record.topicToken
            return i
        }
        guard assigned.contains(KafkaTopicPartition(topic: name, partition: record.partition)) else { return -1 }
        partitions.append(newPartitionState(topic: name, partition: record.partition, topicToken: record.topicToken))
        return partitions.count - 1
    }

    func newPartitionState(topic: String, partition: Int32, topicToken: KafkaTopicToken?) -> PartitionState {
        PartitionState(topic: topic, partition: partition, topicToken: topicToken, pipeline: PartitionPipeline(settings: pipelineSettings))
    }

    /// Produces what a partition's pipeline emitted, in emission order, and adds its counts to the statistics.
    private func produceOutputs(of state: PartitionState) throws(KafkaError) {
        defer {
            outputs.removeAll()
            outputs.counters = PipelineCounters()
        }
        try outputs.forEach { (sink, key, value) throws(KafkaError) in
            try producer.produce(topic: topic(of: sink), key: key, value: value)
        }
        for refused in outputs.deadLetters {
            try sendDeadLetter(
                reason: refused.reason, detail: refused.detail, state: state, offset: refused.offset, key: refused.key, value: refused.value)
        }
        stats.add(outputs.counters)
    }

    func topic(of sink: PartitionOutputs.Sink) -> String { config.topic(of: sink) }

    /// Table records that could not be applied go to the dead-letter topic with their reason.
    private func sendRejectedTableRecords() throws(KafkaError) {
        guard let profiles else { return }
        let rejected = profiles.takeRejected()
        guard config.sendsTableRejections else { return }
        for r in rejected {
            try dlq.send(
                producer: producer, reason: .badTableRecord, detail: r.reason, sourceTopic: r.topic, sourcePartition: r.partition,
                sourceOffset: r.offset, key: r.key, value: r.value)
            stats.deadLetters += 1
        }
    }

    private func sendDeadLetter(
        reason: RejectReason, detail: String, state: PartitionState, offset: Int64, key: (some KafkaContiguousBytes)?,
        value: some KafkaContiguousBytes
    ) throws(KafkaError) {
        try dlq.send(
            producer: producer, reason: reason, detail: detail, sourceTopic: state.topic, sourcePartition: state.partition,
            sourceOffset: offset, key: key, value: value)
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
