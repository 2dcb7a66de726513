import Foundation
public import Logging
import Synchronization
import VigilCore
import VigilKafka
public import VigilPipeline
public import Prometheus

/// Command-line overrides of a pipeline file.
public struct RunOptions: Sendable {
    /// Bootstrap servers; overrides the file's `brokers`.
    public var brokers: String?
    /// Overrides `session.timeout.ms` (tests on the embedded broker use 6000).
    public var sessionTimeoutMs: Int?
    /// Overrides the file's `checkpoint.path` (the `directory` store's directory).
    public var checkpointPath: String?
    /// Overrides the file's `checkpoint.store`; `none` (``CheckpointStoreChoice/disabled``) runs without checkpoints.
    public var checkpointStore: CheckpointStoreChoice?
    public enum CheckpointStoreChoice: String, Sendable, CaseIterable {
        case directory, kafka
        case disabled = "none"
    }
    /// This instance's stable name, part of the `kafka` store's `transactional.id`
    /// (`vigil.<pipeline>.<instance>`): a restarted instance with the same name fences its predecessor.
    /// Default: the host name.
    public var instanceID: String?
    /// Partition workers in this process; overrides the file's `workers` (default: one per core).
    public var workers: Int?
    public init() {}
}

/// Runs a pipeline as a consumer-group member: decode → partition pipelines → produce, with `/metrics`,
/// `/healthz` and structured logs, as the services of ``services()`` (run them in a `ServiceGroup`).
///
/// Stopping is graceful: the batch in progress finishes, outputs are flushed, offsets committed, and the
/// instance leaves the group (its partitions move to the other instances at once, not after a session timeout).
public final class PipelineRunner {
    /// What a runner is made of (the consumer service builds its runner on its own thread from these).
    public struct Settings: Sendable {
        public var spec: PipelineSpec
        public var options: RunOptions
        public var logger: Logger

        /// How many workers run: `--workers`, else the file's `workers`, else one per core; a heat-map stage
        /// (one consumer of the grades, whose counts span all partitions) always runs one.
        public var workers: Int {
            if spec.sources.readings == nil { return 1 }
            return options.workers ?? spec.workers ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
        }
    }

    public let spec: PipelineSpec
    public let options: RunOptions
    public let metrics: RuntimeMetrics
    var logger: Logger

    /// - Parameter registry: Where the runner's metrics live (the process's registry, which `/metrics` serves).
    public convenience init(
        spec: PipelineSpec, options: RunOptions, logger: Logger, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) {
        self.init(
            settings: Settings(spec: spec, options: options, logger: logger), metrics: RuntimeMetrics(pipeline: spec.name, registry: registry))
    }

    init(settings: Settings, metrics: RuntimeMetrics) {
        self.spec = settings.spec
        self.options = settings.options
        self.metrics = metrics
        self.logger = settings.logger
        self.logger[metadataKey: "pipeline"] = "\(spec.name)"
    }

    /// The pipeline's services: the consumer, with the probes and metrics an HTTP server exposes (VigilServe's
    /// `HTTPService` serves them; `vigil run` starts it first, so it stops last).
    public func services() -> PipelineServices {
        let metrics = self.metrics
        let alwaysHealthy = spec.sources.readings == nil
        let probes = HealthProbes(
            healthy: {
                if alwaysHealthy { return true }
                let s = metrics.snapshot
                let fresh = s.lastStepAt == 0 || currentTimeMillis() - s.lastStepAt < 30_000
                return s.running && fresh
            },
            ready: {
                // Ready once the consume loop runs, one step has completed (the group joined and the
                // assignment's state restored) and every reference table has been read to its end.
                let s = metrics.snapshot
                return s.running && s.lastStepAt != 0 && s.tableTopics.values.allSatisfy(\.complete)
            })
        return PipelineServices(
            consumer: ConsumerService(runner: Settings(spec: spec, options: options, logger: logger), metrics: metrics), probes: probes)
    }

    /// The job configuration worker `worker` runs with. Workers differ in two things only: the `kafka` store's
    /// `transactional.id` (worker 0 keeps `vigil.<pipeline>.<instance>`, worker i > 0 appends `.w<i>`, so that
    /// each worker's restart fences its own predecessor) and that only worker 0 sends rejected table records to
    /// the dead-letter topic.
    public static func jobConfig(spec: PipelineSpec, options: RunOptions, worker: Int = 0) throws -> StreamJobConfig {
        guard let readings = spec.sources.readings else {
            throw RunnerError(
                message:
                    "pipeline '\(spec.name)' has no readings source; grade-based stages (heatmap) need the risk model, which this version does not run yet"
            )
        }
        guard !spec.windows.isEmpty else {
            throw RunnerError(message: "pipeline '\(spec.name)' defines no windows: nothing to compute")
        }
        var config = StreamJobConfig(
            brokers: options.brokers ?? spec.brokers, groupID: spec.consumerGroup, inputTopics: readings.topics, pipeline: spec.partitionSettings)
        config.topics.windowStats = spec.sinks.windowStats
        config.topics.deadLetters = spec.sinks.deadLetters
        config.topics.alerts = spec.sinks.alerts
        if spec.anomalies.floor <= 1 { config.topics.anomalies = spec.sinks.anomalies }
        config.topics.grades = spec.sinks.grades
        if spec.sources.enterprises != nil { config.topics.gradesByRegion = spec.sinks.gradesByRegion }
        config.tables.profiles = spec.sources.enterprises
        config.tables.permits = spec.sources.permits
        config.tables.hazards = spec.sources.hazards
        config.tables.acknowledgements = spec.alerts.acknowledgements
        config.tables.setpoints = spec.sources.setpoints
        config.tables.commitments = spec.sources.commitments
        config.tables.offlineNotices = spec.sources.offlineNotices
        config.commitInterval = spec.checkpoint.interval
        let store = options.checkpointStore ?? (spec.checkpoint.store == .kafka ? .kafka : .directory)
        switch store {
        case .disabled:
            config.checkpoint = .none
        case .kafka:
            let instance = options.instanceID ?? ProcessInfo.processInfo.hostName
            let suffix = worker == 0 ? "" : ".w\(worker)"
            config.checkpoint = .kafka(topic: "vigil.\(spec.name).checkpoints", transactionalID: "vigil.\(spec.name).\(instance)\(suffix)")
        case .directory:
            config.checkpoint = .directory(path: options.checkpointPath ?? spec.checkpoint.path)
        }
        config.consumerAdditional = spec.kafka
        config.producerAdditional = spec.kafka
        if let t = options.sessionTimeoutMs { config.sessionTimeoutMs = t }
        config.sendsTableRejections = worker == 0
        return config
    }

    /// Worker `worker`: consumes until `shouldStop` returns true (asked between polls), then checkpoints and
    /// leaves the group. Blocking: ``ConsumerService`` calls it on a dedicated thread per worker.
    ///
    /// - Throws: A configuration or Kafka error; data errors never stop the loop (they go to the DLQ).
    func consume(worker: Int = 0, until shouldStop: () -> Bool) throws {
        if spec.sources.readings == nil, let heatmap = spec.heatmap, let grades = spec.sources.grades {
            try consumeHeatmap(heatmap, input: grades, until: shouldStop)
            return
        }
        let config = try Self.jobConfig(spec: spec, options: options, worker: worker)
        let job = try StreamJob(config: config)
        let metrics = WorkerMetrics(metrics: self.metrics, worker: worker)
        let workers = Settings(spec: spec, options: options, logger: logger).workers
        if workers > 1 { logger[metadataKey: "worker"] = "\(worker)" }
        let noticeLogger = logger
        job.onNotice = { noticeLogger.warning("\($0)") }
        job.onInfo = { noticeLogger.info("\($0)") }
        job.prepare()
        metrics.update { s in
            s.inputTopics = config.inputTopics
            s.outputTopic = config.topics.windowStats
            s.deadLetterTopic = config.topics.deadLetters
            s.running = true
        }
        logger.info(
            "pipeline started",
            metadata: [
                "group": "\(config.groupID)", "brokers": "\(config.brokers)", "input": "\(config.inputTopics.joined(separator: ","))",
                "output": "\(config.topics.windowStats)", "dlq": "\(config.topics.deadLetters)",
                "windows": "\(spec.windows.map(\.name).joined(separator: ","))", "checkpoint": "\(config.checkpoint)",
                "workers": "\(workers)",
            ]
        )
        var lastAssignment: [KafkaTopicPartition] = []
        var lastProgress = currentTimeMillis()
        var lastReadings: Int64 = 0
        while !shouldStop() {
            try job.step()
            if let seconds = job.lastStepSeconds { metrics.observeLatency(seconds: seconds) }
            let assignment = job.assignment
            if assignment != lastAssignment {
                logger.info(
                    "partitions assigned",
                    metadata: [
                        "partitions": "\(assignment.map(\.description).joined(separator: ","))",
                        "restored_total": "\(job.stats.partitionsRestored)", "restore_s": "\(job.stats.lastRestoreSeconds)",
                    ]
                )
                lastAssignment = assignment
            }
            let now = currentTimeMillis()
            publish(job, to: metrics, now: now)
            if now - lastProgress >= 10_000 {
                let rate = Double(job.stats.readings - lastReadings) * 1000 / Double(now - lastProgress)
                logger.info(
                    "progress",
                    metadata: [
                        "readings_per_s": "\(Int(rate))", "readings": "\(job.stats.readings)", "rows": "\(job.stats.rows)",
                        "dead_letters": "\(job.stats.deadLetters)", "late": "\(job.stats.late)",
                    ]
                )
                lastProgress = now
                lastReadings = job.stats.readings
            }
        }
        logger.info("stopping: batch finished; flushing outputs, checkpointing and committing offsets")
        try job.commit()
        logger.info("checkpointed", metadata: ["commits": "\(job.stats.commits)", "checkpoints": "\(job.stats.checkpoints)"])
        try job.close()
        metrics.update { $0.running = false }
        logger.info(
            "left the consumer group",
            metadata: ["readings": "\(job.stats.readings)", "rows": "\(job.stats.rows)", "dead_letters": "\(job.stats.deadLetters)"]
        )
    }

    /// The second stage: grades by region → counts per level per group.
    func consumeHeatmap(_ heatmap: HeatmapSpec, input: String, until shouldStop: () -> Bool) throws {
        var config = HeatmapJob.Config(
            brokers: options.brokers ?? spec.brokers, groupID: spec.consumerGroup, inputTopic: input, outputTopic: spec.sinks.heatmap
        )
        config.groupBy = heatmap.groupBy
        config.every = heatmap.every
        config.deadLetters = spec.sinks.deadLetters
        config.consumerAdditional = spec.kafka
        config.producerAdditional = spec.kafka
        if let t = options.sessionTimeoutMs { config.sessionTimeoutMs = t }
        let job = try HeatmapJob(config: config)
        metrics.update { s in
            s.inputTopics = [input]
            s.outputTopic = spec.sinks.heatmap
            s.running = true
        }
        logger.info("heat-map stage started", metadata: ["group": "\(config.groupID)", "input": "\(input)", "output": "\(config.outputTopic)"])
        while !shouldStop() {
            try job.step()
            let (read, produced, assigned, rejected) = (job.gradesRead, job.snapshotsProduced, job.assignment.count, job.gradesRejected)
            metrics.update { s in
                s.messagesIn = read
                s.deadLetters = rejected
                s.rowsByWindow = ["heatmap": produced]
                s.assignedPartitions = assigned
                s.lastStepAt = currentTimeMillis()
            }
        }
        try job.close()
        metrics.update { $0.running = false }
        logger.info(
            "left the consumer group",
            metadata: ["grades": "\(job.gradesRead)", "rejected": "\(job.gradesRejected)", "snapshots": "\(job.snapshotsProduced)"])
    }

    private func publish(_ job: StreamJob, to metrics: WorkerMetrics, now: Int64) {
        let stats = job.stats
        let lag = job.lag()
        let assigned = job.assignment.count
        let bytes = job.windowStateBytes
        metrics.update { s in
            s.messagesIn = stats.messages
            s.readings = stats.readings
            s.decodeErrors = stats.rejectedByReason
            s.lateRecords = stats.late
            s.deadLetters = stats.deadLetters
            s.alerts = stats.alertsByLevel
            s.anomalies = stats.anomaliesByDetector
            s.grades = stats.gradesByLevel
            if let tables = job.profiles {
                s.tableRecordsIgnored = tables.rejectedByTable
                s.tableTopics = tables.status.mapValues { ($0.table, $0.partitions, $0.read, $0.complete) }
            }
            s.rowsByWindow = stats.rowsByWindow
            s.commits = stats.commits
            s.checkpoints = stats.checkpoints
            s.snapshotsWritten = stats.snapshotsWritten
            s.lastCheckpointSeconds = stats.lastCheckpointSeconds
            s.lastCheckpointBytes = stats.lastCheckpointBytes
            s.partitionsRestored = stats.partitionsRestored
            s.lastRestoreSeconds = stats.lastRestoreSeconds
            s.lag = Dictionary(uniqueKeysWithValues: lag.map { ("\($0.key.topic)/\($0.key.partition)", $0.value) })
            s.assignedPartitions = assigned
            s.windowStateBytes = bytes
            s.lastStepAt = now
        }
    }
}

@available(*, unavailable)
extension PipelineRunner: Sendable {}

/// One worker's view of the runtime metrics: its updates go to its own snapshot, which the registry sums.
struct WorkerMetrics {
    let metrics: RuntimeMetrics
    let worker: Int
    func update(_ body: (inout RuntimeMetrics.Snapshot) -> Void) { metrics.update(worker: worker, body) }
    func observeLatency(seconds: Double) { metrics.observeLatency(seconds: seconds) }
}

public struct RunnerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}
