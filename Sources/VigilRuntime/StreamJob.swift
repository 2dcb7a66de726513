public import VigilCore
public import VigilKafka
import Foundation

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
    /// The window operators; each row names its window when there is more than one (or when named).
    public var windows: [(name: String?, spec: WindowSpec)]
    /// Bounded out-of-orderness of the per-partition watermark, ms.
    public var outOfOrderness: Int64 = 5_000
    /// Idle timeout after which a silent partition's watermark follows the processing clock, ms.
    public var idleTimeout: Int64? = 60_000
    public var decoder = ReadingDecoderConfig()
    /// Records per poll.
    public var pollBatch = 10_000
    /// Whether to produce window rows (benchmarks switch it off to measure the engine alone).
    public var produceOutputs = true
    /// How often state is checkpointed and offsets committed (after flushing the outputs), ms.
    public var commitInterval: Int64 = 5_000
    /// Where partition snapshots are kept (default none: state is lost on restart or rebalance).
    public var checkpoint: CheckpointMode = .none
    public var consumerAdditional: [String: String] = [:]
    public var producerAdditional: [String: String] = [:]
    public var sessionTimeoutMs = 10_000
    /// Two-level alarm rules and the sensor-id substrings that select them (first match wins).
    public var alarmRules: [(rule: ThresholdRule, match: [String])] = []
    /// Alarm transitions (raised / escalated / de-escalated / cleared) go here, keyed by enterprise id.
    public var alertsTopic = "risk.alerts"
    /// Acknowledgements of alerts (`{"alert_id": …, "ts": ms, "by": …}`), read in full as a table; an
    /// acknowledged alarm is not escalated (nil: every alarm counts as unacknowledged).
    public var acknowledgementsTopic: String? = nil
    /// Enterprise risk grades go here (on change and as a heartbeat); nil disables grading.
    public var gradesTopic: String? = nil
    /// The grade model's bands, hysteresis and weights.
    public var grader = RiskGrader()
    /// An enterprise's grade is evaluated at least this often (event time, ms) and at each of its alarm transitions.
    public var gradeEvaluation: Int64 = 60_000
    /// Grades are re-emitted at least this often (event time), ms.
    public var gradeHeartbeat: Int64 = 3_600_000
    /// The enterprise profile topic, read in full as a table (region, industry, major-hazard grade).
    public var profilesTopic: String? = nil
    /// Special-work permits (O) and hidden hazards (H), read in full as tables; nil: the factor stays 0.
    public var permitsTopic: String? = nil
    public var hazardsTopic: String? = nil
    /// Weights of O and H.
    public var factorWeights = FactorWeights()
    /// §4.3 overrides: a red-severity AL2 lasting longer than this makes the enterprise red (10 min); any AL2
    /// while a permit of these kinds is valid makes it red.
    public var redAlarmFor: Int64 = 600_000
    /// A regular expression whose first capture group reads a point's unit from its sensor id (permits naming
    /// a unit then cover that unit's points only); nil: every permit covers its whole enterprise.
    public var permitUnitPattern: String? = nil
    public var hotWorkKinds: Set<String> = ["hot_work_special", "hot_work_1", "hot_work_2", "confined_space"]
    /// §5 / §4.3: an enterprise with more than this share of its points offline (no reading for 30 min) has a
    /// data interruption; lasting `interruptionYellowAfter` it is at least yellow, during hot work orange.
    public var interruptionShare = 0.2
    public var interruptionYellowAfter: Int64 = 86_400_000
    /// Per-point setpoints (H/HH/L/LL, `DOMAIN.md` §3.2), read in full as a table; they replace the levels of
    /// the points' rules. nil: the rules' levels only.
    public var setpointsTopic: String? = nil
    /// §4.3: HH or LL on a tank of one of these major-hazard grades lasting longer than `tankAlarmFor` → at least orange.
    public var tankAlarmFor: Int64 = 1_800_000
    public var tankGrades: Set<Int> = [1, 2]
    /// Daily safety commitments, read in full as a table; from `commitmentDue` (local time of day, ms) a
    /// missing one adds `factorWeights.missingCommitment` to Q. nil: not checked.
    public var commitmentsTopic: String? = nil
    /// Offline notices (离线报备), read as a table: a filed notice suspends the escalation of the enterprise's
    /// data interruption until its planned online time + `offlineNoticeGrace` (§5).
    public var offlineNoticesTopic: String? = nil
    public var offlineNoticeGrace: Int64 = 3_600_000
    public var commitmentDue: Int64 = 9 * 3_600_000
    /// A copy of every grade keyed by the enterprise's region goes here (when the region is known).
    public var gradesByRegionTopic: String? = nil
    /// Readings whose anomaly score reaches `anomalyFloor` go here; nil disables scoring.
    public var anomaliesTopic: String? = nil
    public var anomalyFloor = 0.6
    /// Severity colours and departments per alarm rule (same order as ``alarmRules``; missing: yellow/orange, safety).
    public var alertPolicies: [AlertPolicy] = []
    /// Copies of alert records whose severity is in `levels` go to `topic`.
    public var alertRoutes: [AlertRoute] = []
    /// Response deadline per severity (`DOMAIN.md` §6): red 5 min, orange 30 min, yellow 2 h, blue 24 h.
    public var alertDeadlines: [RiskLevel: Int64] = [.red: 300_000, .orange: 1_800_000, .yellow: 7_200_000, .blue: 86_400_000]
    /// Chattering and flood thresholds (ISA-18.2, `DOMAIN.md` §3.7).
    public var suppression = AlarmFloodFilter()
    /// Severity of `offline` records (a point's data gap; `DOMAIN.md` §5: blue).
    public var offlineSeverity: RiskLevel = .blue
    /// A point silent for this long (event time) gets an `offline` record on the alerts topic; nil disables.
    public var offlineAfter: Int64? = 1_800_000
    /// Instrument checks per sensor type and the id substrings that select it (first match wins; `DOMAIN.md` §5
    /// FAULT, FROZEN): `fault`/`frozen` records on the alerts topic; frozen points count in Q. Empty: none.
    public var deviceChecks: [(check: DeviceCheck, match: [String])] = []
    /// When the job runs a pipeline: per entry of ``deviceChecks`` (the pipeline's sensor types, in order), the
    /// index of its rule in ``alarmRules`` (nil: the type has no alarm levels). A point then takes the first type
    /// it matches among all of them and that type's rule, if any (a type without levels listed first is not
    /// passed over for a later one with levels). Empty: the alarm rules are matched on their own.
    public var typeAlarmRules: [Int?] = []
    /// An analog value unchanged for longer than this is FROZEN (default 24 h).
    public var frozenAfter: Int64 = 86_400_000
    /// The window of each enterprise's offline KPI (`DOMAIN.md` §5: offline hours and count; default 30 days).
    public var offlineKPIWindow: Int64 = 30 * 86_400_000
    public var anomalySettings = AnomalySettings()

    /// A job with one unnamed window.
    public init(brokers: String, groupID: String, inputTopics: [String], window: WindowSpec) {
        self.init(brokers: brokers, groupID: groupID, inputTopics: inputTopics, windows: [(nil, window)])
    }

    public init(brokers: String, groupID: String, inputTopics: [String], windows: [(name: String?, spec: WindowSpec)]) {
        self.brokers = brokers
        self.groupID = groupID
        self.inputTopics = inputTopics
        self.windows = windows
    }
}

extension StreamJobConfig {
    /// The topic of an output sink.
    func topic(of sink: PartitionOutputs.Sink) -> String {
        switch sink {
        case .windowRows: outputTopic
        case .alerts: alertsTopic
        case .alertRoute(let r): alertRoutes[r].topic
        case .anomalies: anomaliesTopic ?? ""
        case .grades: gradesTopic ?? ""
        case .gradesByRegion: gradesByRegionTopic ?? ""
        }
    }

    /// The reference-table topics the job reads, and the table each holds (empty: none). Profiles, hazards,
    /// commitments and offline notices only feed grades; acknowledgements and setpoints only alarms; permits
    /// both (they tighten the limits of rules that adjust during special work).
    var tableTopics: [String: TableReader.Table] {
        let permitLimits = permitsTopic != nil && alarmRules.contains { $0.rule.adjustments.contains(where: \.duringPermit) }
        let grading =
            gradesTopic != nil
            && (profilesTopic != nil || permitsTopic != nil || hazardsTopic != nil || commitmentsTopic != nil || offlineNoticesTopic != nil)
        let acknowledging = acknowledgementsTopic != nil && !alarmRules.isEmpty
        let pointLevels = setpointsTopic != nil && !alarmRules.isEmpty
        guard grading || permitLimits || acknowledging || pointLevels else { return [:] }
        var named: [(String?, TableReader.Table)] = [(permitsTopic, .permits)]
        if grading {
            named += [(profilesTopic, .profiles), (hazardsTopic, .hazards), (commitmentsTopic, .commitments), (offlineNoticesTopic, .offlineNotices)]
        }
        if acknowledging { named.append((acknowledgementsTopic, .acknowledgements)) }
        if pointLevels { named.append((setpointsTopic, .setpoints)) }
        var topics: [String: TableReader.Table] = [:]
        for case (let topic?, let table) in named { topics[topic] = table }
        return topics
    }

    /// The settings of each partition's pipeline.
    var pipelineSettings: PartitionPipelineSettings {
        var p = PartitionPipelineSettings(windows: windows.map { .init(name: $0.name, spec: $0.spec) })
        p.outOfOrderness = outOfOrderness
        p.idleTimeout = idleTimeout
        p.decoder = decoder
        p.encodeOutputs = produceOutputs
        p.alarms.rules = alarmRules
        p.alarms.policies = alertPolicies
        p.alarms.routes = alertRoutes
        p.alarms.deadlines = alertDeadlines
        p.alarms.suppression = suppression
        p.alarms.hotWorkKinds = hotWorkKinds
        p.sensorTypes.checks = deviceChecks
        p.sensorTypes.alarmRules = typeAlarmRules
        p.sensorTypes.frozenAfter = frozenAfter
        if let pattern = permitUnitPattern, let regex = try? NSRegularExpression(pattern: pattern) {
            let box = UncheckedRegex(regex)
            p.sensorUnit = { id in box.firstCapture(in: id) }
        }
        p.offlineSeverity = offlineSeverity
        p.offlineAfter = offlineAfter
        p.anomalySettings = anomalySettings
        p.scoreAnomalies = anomaliesTopic != nil
        p.anomalyFloor = anomalyFloor
        if gradesTopic != nil {
            var g = PartitionPipelineSettings.Grading()
            g.grader = grader
            g.factorWeights = factorWeights
            g.evaluation = gradeEvaluation
            g.heartbeat = gradeHeartbeat
            g.byRegion = gradesByRegionTopic != nil
            g.redAlarmFor = redAlarmFor
            g.interruptionShare = interruptionShare
            g.interruptionYellowAfter = interruptionYellowAfter
            g.tankAlarmFor = tankAlarmFor
            g.tankGrades = tankGrades
            g.commitmentDue = commitmentDue
            g.offlineNoticeGrace = offlineNoticeGrace
            g.offlineKPIWindow = offlineKPIWindow
            p.grading = g
        }
        return p
    }
}

/// A compiled regular expression shared by the partitions' pipelines (NSRegularExpression is immutable and
/// documented thread-safe for matching).
private final class UncheckedRegex: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }

    /// The first capture group of the first match in `id`, nil when none.
    func firstCapture(in id: String) -> String? {
        let match = regex.firstMatch(in: id, range: NSRange(id.startIndex..., in: id))
        return match.flatMap { $0.numberOfRanges > 1 ? Range($0.range(at: 1), in: id) : nil }.map { String(id[$0]) }
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
    /// Checkpoints written (one per checkpoint round, covering every partition that made progress).
    public var checkpoints: Int64 = 0
    /// Partition snapshots written.
    public var snapshotsWritten: Int64 = 0
    /// Bytes of the last checkpoint round's snapshots.
    public var lastCheckpointBytes: Int64 = 0
    /// Duration of the last checkpoint round (flush, snapshot, store, commit), seconds.
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
/// With a ``CheckpointMode`` other than `.none`, every `commitInterval`, on revocation (inside the rebalance
/// callback, before another member can own the partition) and on close, the job flushes its outputs, writes
/// one ``PartitionSnapshot`` per partition that made progress, and commits the offsets; in `.kafka` mode all
/// of it is one transaction. An assigned partition resumes from its snapshot's offset with the snapshot's
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

    public convenience init(config: StreamJobConfig) throws(JobError) {
        do throws(KafkaError) {
            try self.init(starting: config)
        } catch {
            throw JobError(.start, error)
        }
    }

    private init(starting config: StreamJobConfig) throws(KafkaError) {
        precondition(
            config.typeAlarmRules.isEmpty || config.typeAlarmRules.count == config.deviceChecks.count,
            "typeAlarmRules needs one entry per device check (sensor type)")
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
        self.dlq = DeadLetterQueue(topic: config.deadLetterTopic)
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

    /// A notice from the setup (e.g. a checkpoint topic that could not be created), for the caller's log.
    public func prepare() {
        if let store = kafkaStore, let problem = store.ensureTopic() { onNotice(problem) }
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
        if now - lastCommit >= config.commitInterval {
            try commit()
            lastCommit = now
        }
        _ = consumer.drainRebalanceEvents()
        if let started {
            let elapsed = clock.now - started
            lastStepSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
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
                reason: rejection.reason.rawValue, detail: rejection.detail, state: partitions[Int(index)],
                offset: rejection.offset, key: key, value: bytes
            )
            stats.rejectedByReason[rejection.reason.rawValue, default: 0] += 1
        }
        // The tables (profiles, permits, hazards, acknowledgements): whatever arrived, once per poll.
        try profiles?.refresh()
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
        for late in outputs.late {
            try sendDeadLetter(
                reason: "late_record", detail: late.detail, state: state, offset: late.offset, key: late.key, value: late.value)
        }
        stats.add(outputs.counters)
    }

    func topic(of sink: PartitionOutputs.Sink) -> String { config.topic(of: sink) }

    private func sendDeadLetter(
        reason: String, detail: String, state: PartitionState, offset: Int64, key: (some KafkaContiguousBytes)?, value: some KafkaContiguousBytes
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
