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
    var encoders: [WindowStatsEncoder]

    /// One assigned partition's state (a class, so the decoder and the batch it fills can be borrowed together).
    final class PartitionState {
        let topic: String
        let partition: Int32
        var topicPointer: UnsafePointer<CChar>?
        var decoder: ReadingDecoder
        var batch = ReadingBatch(capacity: 1_024)
        var operators: [PaneOrSession]
        var detector: ThresholdDetector
        var scorer: AnomalyScorer
        var gaps: DataGapDetector
        var devices: DeviceStatusDetector
        var alerts: AlertBook
        var flood: AlarmFloodFilter
        /// Grading state per enterprise slot.
        var risk: [EnterpriseRisk?] = []
        /// The latest event time the grading saw in this partition, and the tick at which it next evaluates the
        /// enterprises that fell silent.
        var gradeTime: Int64 = .min
        var nextSilentCheck: Int64 = .min
        /// Per sensor slot: its position in its enterprise's alarm behaviour (-1: not known yet; not
        /// snapshotted, positions are found again after a restore), and that enterprise.
        var pointPosition: [Int32] = []
        var pointEnterprise: [UInt32] = []
        /// Per sensor slot: frozen as of the reading being graded (the device detector's state runs a batch
        /// ahead); equal to it between batches, so it is not snapshotted.
        var frozenNow: [Bool] = []
        /// Per sensor slot: its sensor type (index in `config.deviceChecks`), -1 for none, -2 not matched yet.
        var slotTypes: [Int32] = []
        /// Processing time of the last batch with readings (or of the assignment), and the latest event time
        /// read: the partition's clock once its whole input stops (see `advanceIdle`).
        var lastActivity: Int64? = nil
        var latestEventTime: Int64 = .min
        var nextOffset: Int64 = -1
        var committedOffset: Int64 = -1
        /// Calendar and permits for dynamic alarm limits, and the (table version, enterprises) it was built for.
        var limitContext = LimitContext()
        var limitContextBuiltFor = (version: -1, enterprises: -1)
        var setpointsBuiltFor = (version: -1, sensors: -1)

        init(
            topic: String, partition: Int32, topicPointer: UnsafePointer<CChar>?, decoder: ReadingDecoder, operators: [PaneOrSession],
            detector: ThresholdDetector, scorer: AnomalyScorer, gaps: DataGapDetector, devices: DeviceStatusDetector, alerts: AlertBook,
            flood: AlarmFloodFilter
        ) {
            self.topic = topic
            self.partition = partition
            self.topicPointer = topicPointer
            self.decoder = decoder
            self.operators = operators
            self.detector = detector
            self.scorer = scorer
            self.gaps = gaps
            self.devices = devices
            self.alerts = alerts
            self.flood = flood
        }
    }
    var partitions: [PartitionState] = []
    var rejections: [DecodeRejection] = []
    var rejectedPayloads: [(Int, [UInt8], [UInt8]?, Int32)] = []  // (rejection index, record bytes, key, partition index)
    var output = WindowResults()
    var late = LateRecords()
    var transitions: [AlarmTransition] = []
    var readingLimits = ReadingLimits()
    var anomalyScores = AnomalyScores()
    var gapEvents: [DataGapEvent] = []
    /// The batch position of the reading at which each of `gapEvents` was found (empty on the idle path).
    var gapPositions: [Int] = []
    var deviceEvents: [DeviceStatusEvent] = []
    var alertEvents: [AlertBook.Event] = []
    /// The encoding of the last anomaly record, and of the last alert record.
    var anomalyJSON = JSONBytes()
    var alertJSON = JSONBytes()
    var gradeJSON = JSONBytes(capacity: 1_024)
    /// Whether each of `transitions` counts in the alarm-behaviour score (chattering raises count once per hold).
    var transitionCounts: [Bool] = []
    var lastCommit: Int64 = 0
    let profiles: ProfileTable?
    /// Whether an alarm rule tightens during special work (the permit table feeds the limits).
    let permitLimits: Bool
    let directoryStore: DirectoryCheckpointStore?
    let kafkaStore: KafkaCheckpointStore?
    /// Partitions assigned to this member (records of other partitions still in a poll's batch are dropped).
    var assigned: Set<KafkaTopicPartition> = []
    /// Whether the checkpoint directory has been checked against the cluster (at the first assignment).
    var clusterBound = false
    /// An error raised inside a rebalance callback, thrown by the next ``step(now:)``.
    var callbackFailure: (any Error)? = nil
    /// Called with operational notices (a checkpoint section that starts afresh, a store that could not be set up).
    public var onNotice: (String) -> Void = { _ in }

    /// `config.permitUnitPattern`, compiled (nil: none, or not a regular expression; pipelines are validated).
    let unitRegex: NSRegularExpression?
    /// The alarm rules' names, by rule index (alert ids).
    let alarmRuleNames: [String]

    public init(config: StreamJobConfig) throws(KafkaError) {
        unitRegex = config.permitUnitPattern.flatMap { try? NSRegularExpression(pattern: $0) }
        precondition(
            config.typeAlarmRules.isEmpty || config.typeAlarmRules.count == config.deviceChecks.count,
            "typeAlarmRules needs one entry per device check (sensor type)")
        alarmRuleNames = config.alarmRules.map(\.rule.name)
        self.config = config
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
        self.encoders = config.windows.map { WindowStatsEncoder(statistics: $0.spec.statistics) }
        permitLimits = config.permitsTopic != nil && config.alarmRules.contains { $0.rule.adjustments.contains(where: \.duringPermit) }
        let grading =
            config.gradesTopic != nil
            && (config.profilesTopic != nil || config.permitsTopic != nil || config.hazardsTopic != nil || config.commitmentsTopic != nil
                || config.offlineNoticesTopic != nil)
        let acknowledging = config.acknowledgementsTopic != nil && !config.alarmRules.isEmpty
        let pointLevels = config.setpointsTopic != nil && !config.alarmRules.isEmpty
        if grading || permitLimits || acknowledging || pointLevels {
            self.profiles = try ProfileTable(
                profiles: grading ? config.profilesTopic : nil, permits: config.permitsTopic, hazards: grading ? config.hazardsTopic : nil,
                acknowledgements: acknowledging ? config.acknowledgementsTopic : nil, setpoints: pointLevels ? config.setpointsTopic : nil,
                commitments: grading ? config.commitmentsTopic : nil, offlineNotices: grading ? config.offlineNoticesTopic : nil,
                brokers: config.brokers, additional: config.consumerAdditional
            )
        } else {
            self.profiles = nil
        }
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
    public var windowStateBytes: Int { partitions.reduce(0) { $0 + $1.operators.reduce(0) { $0 + $1.stateBytes } } }

    /// Polls once, processes what arrived, produces results. Returns the number of messages consumed.
    @discardableResult
    public func step(now: Int64 = currentTimeMillis()) throws(KafkaError) -> Int {
        let clock = ContinuousClock()
        var started: ContinuousClock.Instant? = nil
        var cachedPointer: UnsafePointer<CChar>? = nil
        var cachedPartition: Int32 = -1
        var cachedIndex = -1
        rejections.removeAll(keepingCapacity: true)
        rejectedPayloads.removeAll(keepingCapacity: true)
        let n = try consumer.poll(maxMessages: config.pollBatch, timeoutMs: 100) { record in
            if started == nil { started = clock.now }
            var index = cachedIndex
            if record.topic != cachedPointer || record.partition != cachedPartition {
                index = self.partitionIndex(record)
                cachedPointer = record.topic
                cachedPartition = record.partition
                cachedIndex = index
            }
            // A record fetched before its partition was revoked in this poll: the new owner reads it.
            guard index >= 0 else { return }
            let before = rejections.count
            let state = partitions[index]
            state.decoder.decode(payload: record.payload, offset: record.offset, now: now, into: &state.batch, rejections: &rejections)
            for r in before..<rejections.count {
                let bytes = Array(record.payload[rejections[r].range])
                rejectedPayloads.append((r, bytes, record.key.map { Array($0) }, Int32(index)))
            }
            state.nextOffset = record.offset + 1
        }
        stats.messages += Int64(n)
        if let failure = callbackFailure {
            callbackFailure = nil
            throw KafkaError(.rebalance, "\(failure)")
        }
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
        for i in partitions.indices {
            let hasData = !partitions[i].batch.isEmpty
            if hasData {
                stats.readings += Int64(partitions[i].batch.count)
                partitions[i].noteActivity(now: now)
            } else {
                try advanceIdle(partitionIndex: i, now: now)
            }
            transitions.removeAll(keepingCapacity: true)
            transitionCounts.removeAll(keepingCapacity: true)
            deviceEvents.removeAll(keepingCapacity: true)
            gapEvents.removeAll(keepingCapacity: true)
            gapPositions.removeAll(keepingCapacity: true)
            if hasData && !config.alarmRules.isEmpty { try detectAlarms(partitionIndex: i) }
            if hasData && config.offlineAfter != nil { try detectGaps(partitionIndex: i) }
            if hasData && !config.deviceChecks.isEmpty { try detectDeviceStatus(partitionIndex: i) }
            if hasData && config.anomaliesTopic != nil { try scoreAnomalies(partitionIndex: i) }
            if hasData && config.gradesTopic != nil { try grade(partitionIndex: i) }
            for w in partitions[i].operators.indices {
                let op = partitions[i].operators[w]
                if hasData {
                    op.noteActivity(processingTime: now)
                    op.process(partitions[i].batch, into: &output, late: &late)
                    // A reading is late only if it is late for the first window (others may have more lateness).
                    if w == 0 && !late.indices.isEmpty { try sendLate(partitionIndex: i, watermark: op.watermark) }
                    late.removeAll()
                } else {
                    op.advance(processingTime: now, into: &output)
                }
                try emit(window: w, partitionIndex: i)
            }
            partitions[i].batch.removeAll()
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

    /// Runs ``step(now:)`` until `shouldStop` returns true, then checkpoints and commits.
    public func run(until shouldStop: () -> Bool) throws(KafkaError) {
        while !shouldStop() { try step() }
        try commit()
    }

    /// Flushes outputs, checkpoints the state of every partition that made progress, and commits its offsets
    /// (in `.kafka` mode: commits the transaction holding the outputs, the snapshots and the offsets).
    public func commit() throws(KafkaError) {
        try checkpoint(partitions.indices.map { $0 })
    }

    /// Leaves the group: the revocation inside checkpoints every partition, then the consumer closes.
    public func close() throws(KafkaError) {
        try commit()
        try consumer.close()
        if let failure = callbackFailure {
            callbackFailure = nil
            throw KafkaError(.rebalance, "\(failure)")
        }
        if kafkaStore != nil { try? producer.abortTransaction() }
    }

    /// Ends bounded input: every partition's watermark moves to the end of time and all windows are emitted.
    public func finishWindows() throws(KafkaError) {
        for i in partitions.indices {
            for w in partitions[i].operators.indices {
                partitions[i].operators[w].finish(into: &output)
                try emit(window: w, partitionIndex: i)
            }
        }
        try producer.flush()
    }

    /// The state index of the record's partition, or -1 for a partition no longer assigned.
    private func partitionIndex(_ record: KafkaRecordView) -> Int {
        if let i = partitions.firstIndex(where: { $0.partition == record.partition && $0.topicPointer == record.topic }) { return i }
        let name = record.topicName
        if let i = partitions.firstIndex(where: { $0.partition == record.partition && $0.topic == name }) {
            partitions[i].topicPointer = record.topic
            return i
        }
        guard assigned.contains(KafkaTopicPartition(topic: name, partition: record.partition)) else { return -1 }
        partitions.append(newPartitionState(topic: name, partition: record.partition, topicPointer: record.topic))
        return partitions.count - 1
    }

    func newPartitionState(topic: String, partition: Int32, topicPointer: UnsafePointer<CChar>?) -> PartitionState {
        let operators = config.windows.map { window in
            PaneOrSession(
                spec: window.spec,
                watermark: Watermark(outOfOrderness: config.outOfOrderness, idleTimeout: config.idleTimeout)
            )
        }
        return PartitionState(
            topic: topic, partition: partition, topicPointer: topicPointer,
            decoder: ReadingDecoder(config: config.decoder), operators: operators,
            detector: ThresholdDetector(rules: config.alarmRules.map(\.rule)),
            scorer: AnomalyScorer(settings: config.anomalySettings), gaps: config.newGapDetector(), devices: config.newDeviceDetector(),
            alerts: config.newAlertBook(), flood: config.suppression
        )
    }

    private func emit(window w: Int, partitionIndex i: Int) throws(KafkaError) {
        guard output.rowCount > 0 else { return }
        let name = config.windows[w].name
        if config.produceOutputs {
            let sensors = partitions[i].decoder.sensors
            let enterprises = partitions[i].decoder.enterprises
            for r in 0..<output.rowCount {
                encoders[w].encode(output, row: r, sensors: sensors, enterprises: enterprises, window: name)
                var failure: KafkaError? = nil
                enterprises.withKeyBytes(for: output.enterprise[r]) { key in
                    encoders[w].buffer.withUnsafeBytes { value in
                        do throws(KafkaError) {
                            try producer.produce(topic: config.outputTopic, key: key, value: value)
                        } catch { failure = error }
                    }
                }
                if let failure { throw failure }
            }
        }
        stats.rowsByWindow[name ?? "", default: 0] += Int64(output.rowCount)
        output.removeAll()
    }

    private func sendLate(partitionIndex i: Int, watermark: Watermark) throws(KafkaError) {
        let batch = partitions[i].batch
        let decoder = partitions[i].decoder
        for index in late.indices {
            let k = Int(index)
            let sensor = decoder.sensors.key(for: batch.sensor[k])
            let enterprise = decoder.enterprises.key(for: batch.enterprise[k])
            let json = "{\"enterprise\":\(jsonString(enterprise)),\"sensor\":\(jsonString(sensor)),\"ts\":\(batch.eventTime[k]),\"value\":\(batch.value[k])}"
            try sendDeadLetter(
                reason: "late_record",
                detail: "event time \(batch.eventTime[k]) is behind the watermark \(watermark.current) by more than the allowed lateness",
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
