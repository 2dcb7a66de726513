import Foundation
public import Prometheus
import CoreMetrics
import Synchronization

/// The runtime's metrics, on swift-metrics handles backed by a swift-prometheus registry.
///
/// The job thread assembles a ``Snapshot`` of its totals after each step and calls ``update(_:)``: counters
/// grow by what the step added (never reset while the process lives), gauges take the step's value, and the
/// gauges of partitions no longer assigned are removed. The per-reading path never touches a metric, so the
/// kernels stay free of locks; `/metrics` renders the registry (``render()``), which also holds whatever
/// other libraries record through the process's `MetricsSystem` when the CLI bootstraps it with this registry.
public final class RuntimeMetrics: Sendable {
    /// Upper bounds (seconds) of the batch-latency histogram buckets.
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    /// What the job publishes after each step: totals since the process started, and current values.
    public struct Snapshot: Sendable {
        public var inputTopics: [String] = []
        public var outputTopic = ""
        public var deadLetterTopic = ""
        public var messagesIn: Int64 = 0
        public var readings: Int64 = 0
        public var decodeErrors: [String: Int64] = [:]
        public var lateRecords: Int64 = 0
        public var deadLetters: Int64 = 0
        public var rowsByWindow: [String: Int64] = [:]
        public var commits: Int64 = 0
        public var checkpoints: Int64 = 0
        public var snapshotsWritten: Int64 = 0
        public var lastCheckpointSeconds = 0.0
        public var lastCheckpointBytes: Int64 = 0
        public var partitionsRestored: Int64 = 0
        public var lastRestoreSeconds = 0.0
        public var alerts: [String: Int64] = [:]  // "raised AL2" → count
        public var anomalies: [String: Int64] = [:]  // detector → count
        public var grades: [String: Int64] = [:]  // level → count
        public var tableRecordsIgnored: [String: Int64] = [:]  // table → records rejected (to the dead-letter topic)
        /// Per table topic: its table, partitions read, records applied, and whether it has been read to its end.
        public var tableTopics: [String: (table: String, partitions: Int32, read: Int64, complete: Bool)] = [:]
        public var lag: [String: Int64] = [:]  // "topic/partition" → lag
        public var assignedPartitions = 0
        public var windowStateBytes = 0
        /// Processing time (ms) of the last completed step; 0 before the first.
        public var lastStepAt: Int64 = 0
        public var running = false
        public init() {}
    }

    /// The tables whose ignored records are always exposed (0 until one is rejected).
    static let tables = ["profiles", "permits", "hazards", "acknowledgements", "setpoints", "commitments", "offline_notices"]

    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// The value of the `pipeline` label on every sample.
    public let pipeline: String
    private let factory: PrometheusMetricsFactory
    private let batchLatency: CoreMetrics.Timer
    private let state: Mutex<State>

    /// The handles made so far, each worker's last snapshot and their sum, the snapshot published.
    private struct State: ~Copyable {
        var workers = [Snapshot()]
        var published = Snapshot()
        var counters: [SeriesKey: (metric: CoreMetrics.Counter, total: Int64)] = [:]
        var gauges: [SeriesKey: (metric: CoreMetrics.Meter, handler: Prometheus.Gauge)] = [:]
    }

    private struct SeriesKey: Hashable {
        var name: String
        var labels: [String]
    }

    /// - Parameters:
    ///   - pipeline: The pipeline's name (the `pipeline` label).
    ///   - registry: Where the metrics live; pass the process's registry to serve several sources on one
    ///     `/metrics`.
    public init(pipeline: String = "", registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.pipeline = pipeline
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
        let name = "vigil_batch_latency_seconds"
        let histogram = registry.makeDurationHistogram(
            descriptor: Self.descriptor(name), labels: [("pipeline", pipeline)],
            buckets: Self.latencyBuckets.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) })
        self.batchLatency = CoreMetrics.Timer(label: name, dimensions: [("pipeline", pipeline)], handler: histogram, factory: factory)
        self.state = Mutex(State())
        update { _ in }
    }

    /// The last snapshot published (the sum of the workers').
    public var snapshot: Snapshot { state.withLock { $0.published } }

    /// Each worker's last snapshot.
    public var workerSnapshots: [Snapshot] { state.withLock { $0.workers } }

    /// Changes the (first) worker's snapshot and moves the metrics to the workers' sum.
    public func update(_ body: (inout Snapshot) -> Void) { update(worker: 0, body) }

    /// Changes one worker's snapshot and moves the metrics to the sum of all workers' (``Snapshot/merged(_:)``).
    public func update(worker: Int, _ body: (inout Snapshot) -> Void) {
        state.withLock { state in
            if worker >= state.workers.count { state.workers += Array(repeating: Snapshot(), count: worker + 1 - state.workers.count) }
            body(&state.workers[worker])
            state.published = state.workers.count == 1 ? state.workers[0] : Snapshot.merged(state.workers)
            publish(&state)
        }
    }

    /// Declares how many workers publish: until each has, the sum is not running (not ready).
    public func expectWorkers(_ count: Int) {
        state.withLock { state in
            if count > state.workers.count { state.workers += Array(repeating: Snapshot(), count: count - state.workers.count) }
        }
    }

    /// Records one batch's processing time.
    public func observeLatency(seconds: Double) {
        batchLatency.recordNanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// The Prometheus text exposition of the registry (format 0.0.4).
    public func render() -> String { registry.emitToString() }

    private func publish(_ state: inout State) {
        let s = state.published
        func count(_ name: String, _ total: Int64, _ labels: (String, String)...) {
            let key = SeriesKey(name: name, labels: labels.map { "\($0.0)=\($0.1)" })
            if state.counters[key] == nil {
                let all = [("pipeline", pipeline)] + labels
                let handler = registry.makeCounter(descriptor: Self.descriptor(name), labels: all)
                state.counters[key] = (CoreMetrics.Counter(label: name, dimensions: all, handler: handler, factory: factory), 0)
            }
            let grown = total - state.counters[key]!.total
            if grown > 0 {
                state.counters[key]!.metric.increment(by: grown)
                state.counters[key]!.total = total
            }
        }
        var gaugesSeen = Set<SeriesKey>()
        func gauge(_ name: String, _ value: Double, _ labels: (String, String)...) {
            let key = SeriesKey(name: name, labels: labels.map { "\($0.0)=\($0.1)" })
            gaugesSeen.insert(key)
            if state.gauges[key] == nil {
                let all = [("pipeline", pipeline)] + labels
                let handler = registry.makeGauge(descriptor: Self.descriptor(name), labels: all)
                state.gauges[key] = (CoreMetrics.Meter(label: name, dimensions: all, handler: handler, factory: factory), handler)
            }
            state.gauges[key]!.metric.set(value)
        }
        // The topic-labelled series appear once the job has named its topics.
        if !s.inputTopics.isEmpty { count("vigil_records_in_total", s.messagesIn, ("topic", s.inputTopics.joined(separator: ","))) }
        count("vigil_readings_total", s.readings)
        for (reason, n) in s.decodeErrors { count("vigil_decode_errors_total", n, ("reason", reason)) }
        count("vigil_late_records_total", s.lateRecords)
        if !s.deadLetterTopic.isEmpty { count("vigil_dlq_total", s.deadLetters, ("topic", s.deadLetterTopic)) }
        for (window, n) in s.rowsByWindow { count("vigil_records_out_total", n, ("topic", s.outputTopic), ("window", window)) }
        for (key, n) in s.alerts {
            let parts = key.split(separator: " ")
            count("vigil_alerts_total", n, ("event", String(parts.first ?? "")), ("level", String(parts.last ?? "")))
        }
        for (detector, n) in s.anomalies { count("vigil_anomalies_total", n, ("detector", detector)) }
        for (level, n) in s.grades { count("vigil_grades_total", n, ("level", level)) }
        for table in Self.tables { count("vigil_table_records_ignored_total", s.tableRecordsIgnored[table] ?? 0, ("table", table)) }
        for (topic, t) in s.tableTopics {
            count("vigil_table_records_total", t.read, ("table", t.table), ("topic", topic))
            gauge("vigil_table_partitions", Double(t.partitions), ("table", t.table), ("topic", topic))
            gauge("vigil_table_complete", t.complete ? 1 : 0, ("table", t.table), ("topic", topic))
        }
        count("vigil_offset_commits_total", s.commits)
        count("vigil_checkpoints_total", s.checkpoints)
        count("vigil_checkpoint_snapshots_total", s.snapshotsWritten)
        gauge("vigil_checkpoint_duration_seconds", s.lastCheckpointSeconds)
        gauge("vigil_checkpoint_bytes", Double(s.lastCheckpointBytes))
        count("vigil_partitions_restored_total", s.partitionsRestored)
        gauge("vigil_restore_duration_seconds", s.lastRestoreSeconds)
        for (tp, n) in s.lag {
            let parts = tp.split(separator: "/")
            gauge("vigil_consumer_lag", Double(n), ("topic", String(parts.first ?? "")), ("partition", String(parts.last ?? "")))
        }
        gauge("vigil_assigned_partitions", Double(s.assignedPartitions))
        gauge("vigil_window_state_bytes", Double(s.windowStateBytes))
        gauge("vigil_up", s.running ? 1 : 0)
        // A partition revoked since the last step: its lag series goes away with it.
        for (key, gauge) in state.gauges where !gaugesSeen.contains(key) {
            registry.unregisterGauge(gauge.handler)
            state.gauges[key] = nil
        }
    }

    /// A metric's full name with its help text (the `# HELP` line).
    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name]!)
    }

    /// Each metric's help text.
    static let help: [String: String] = [
        "vigil_records_in_total": "Kafka messages consumed, per input topic set.",
        "vigil_readings_total": "Readings decoded and processed.",
        "vigil_decode_errors_total": "Records rejected by the decoder, by reason.",
        "vigil_late_records_total": "Readings later than the allowed lateness (sent to the dead-letter topic).",
        "vigil_dlq_total": "Records produced to the dead-letter topic.",
        "vigil_records_out_total": "Window rows produced, per output topic and window.",
        "vigil_alerts_total": "Alarm transitions produced, by event and level.",
        "vigil_anomalies_total": "Readings scored at or above the anomaly floor, by detector.",
        "vigil_grades_total": "Enterprise grade records produced (changes and heartbeats), by level.",
        "vigil_table_records_ignored_total":
            "Table records rejected (not JSON, a required field missing, inconsistent values) and sent to the dead-letter topic, by table.",
        "vigil_table_records_total": "Table records read and applied, by table topic.",
        "vigil_table_partitions": "Partitions of each table topic being read (0: the topic does not exist yet).",
        "vigil_table_complete":
            "1 once every partition of the table topic has been read to its end (grades record it as inputs.tables_complete).",
        "vigil_offset_commits_total": "Successful offset commits.",
        "vigil_checkpoints_total": "Checkpoint rounds written (snapshots stored, then offsets committed).",
        "vigil_checkpoint_snapshots_total": "Partition snapshots written.",
        "vigil_checkpoint_duration_seconds": "Duration of the last checkpoint round (flush, snapshot, store, commit).",
        "vigil_checkpoint_bytes": "Bytes of the last checkpoint round's snapshots.",
        "vigil_partitions_restored_total": "Partitions whose state was restored from a checkpoint.",
        "vigil_restore_duration_seconds": "Duration of the last restore of an assignment's snapshots.",
        "vigil_consumer_lag": "Messages behind the high watermark, per assigned partition.",
        "vigil_assigned_partitions": "Partitions assigned to this instance.",
        "vigil_window_state_bytes": "Approximate bytes of window state held.",
        "vigil_batch_latency_seconds": "Processing time of one poll batch that had records: first record handed over to outputs enqueued.",
        "vigil_up": "1 while the pipeline's consume loop runs.",
    ]
}

extension RuntimeMetrics.Snapshot {
    /// What a process of several workers publishes: counts and sizes summed, the slowest worker's step time and
    /// checkpoint duration, running only while every worker runs. Every worker reads the reference tables in full,
    /// so a table's figures are those of the worker that has read the least (complete only when every worker is).
    public static func merged(_ workers: [Self]) -> Self {
        var m = Self()
        for w in workers {
            if m.inputTopics.isEmpty { m.inputTopics = w.inputTopics }
            if m.outputTopic.isEmpty { m.outputTopic = w.outputTopic }
            if m.deadLetterTopic.isEmpty { m.deadLetterTopic = w.deadLetterTopic }
            m.messagesIn += w.messagesIn
            m.readings += w.readings
            m.decodeErrors.merge(w.decodeErrors, uniquingKeysWith: +)
            m.lateRecords += w.lateRecords
            m.deadLetters += w.deadLetters
            m.rowsByWindow.merge(w.rowsByWindow, uniquingKeysWith: +)
            m.commits += w.commits
            m.checkpoints += w.checkpoints
            m.snapshotsWritten += w.snapshotsWritten
            m.lastCheckpointSeconds = max(m.lastCheckpointSeconds, w.lastCheckpointSeconds)
            m.lastCheckpointBytes += w.lastCheckpointBytes
            m.partitionsRestored += w.partitionsRestored
            m.lastRestoreSeconds = max(m.lastRestoreSeconds, w.lastRestoreSeconds)
            m.alerts.merge(w.alerts, uniquingKeysWith: +)
            m.anomalies.merge(w.anomalies, uniquingKeysWith: +)
            m.grades.merge(w.grades, uniquingKeysWith: +)
            m.tableRecordsIgnored.merge(w.tableRecordsIgnored, uniquingKeysWith: max)
            m.lag.merge(w.lag, uniquingKeysWith: max)
            m.assignedPartitions += w.assignedPartitions
            m.windowStateBytes += w.windowStateBytes
        }
        var tables: [String: (table: String, partitions: Int32, read: Int64, complete: Bool)] = [:]
        for w in workers {
            for (topic, t) in w.tableTopics {
                guard let seen = tables[topic] else {
                    tables[topic] = t
                    continue
                }
                tables[topic] = (t.table, min(seen.partitions, t.partitions), min(seen.read, t.read), seen.complete && t.complete)
            }
        }
        // A worker that has not named its tables yet has read none of them.
        if workers.contains(where: { $0.tableTopics.isEmpty }) { for key in tables.keys { tables[key]!.complete = false } }
        m.tableTopics = tables
        m.running = !workers.isEmpty && workers.allSatisfy(\.running)
        m.lastStepAt = workers.map(\.lastStepAt).min() ?? 0
        return m
    }
}
