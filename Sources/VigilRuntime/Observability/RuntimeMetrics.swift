import Foundation
import Synchronization

/// The runtime's metrics, published by the job thread after each step and rendered in the Prometheus text
/// format by the `/metrics` endpoint.
public final class RuntimeMetrics: Sendable {
    /// Upper bounds (seconds) of the batch-latency histogram buckets.
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    public struct Snapshot: Sendable {
        public var pipeline = ""
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
        public var latencyCounts = [Int64](repeating: 0, count: RuntimeMetrics.latencyBuckets.count + 1)
        public var latencySum = 0.0
        /// Processing time (ms) of the last completed step; 0 before the first.
        public var lastStepAt: Int64 = 0
        public var running = false
    }

    let state = Mutex(Snapshot())

    public init() {}

    public func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Records one batch's processing time.
    public func observeLatency(seconds: Double) {
        state.withLock { s in
            let bucket = Self.latencyBuckets.firstIndex { seconds <= $0 } ?? Self.latencyBuckets.count
            s.latencyCounts[bucket] += 1
            s.latencySum += seconds
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    public func render() -> String {
        let s = snapshot
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
            let all = [("pipeline", s.pipeline)] + labels
            let text = all.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
            out += "\(name){\(text)} \(value)\n"
        }
        /// A metric with one unlabelled sample.
        func single(_ name: String, _ type: String, _ help: String, _ value: String) {
            family(name, type, help)
            sample(name, [], value)
        }
        family("vigil_records_in_total", "counter", "Kafka messages consumed, per input topic set.")
        sample("vigil_records_in_total", [("topic", s.inputTopics.joined(separator: ","))], "\(s.messagesIn)")
        single("vigil_readings_total", "counter", "Readings decoded and processed.", "\(s.readings)")
        family("vigil_decode_errors_total", "counter", "Records rejected by the decoder, by reason.")
        if s.decodeErrors.isEmpty { sample("vigil_decode_errors_total", [("reason", "none")], "0") }
        for (reason, n) in s.decodeErrors.sorted(by: { $0.key < $1.key }) { sample("vigil_decode_errors_total", [("reason", reason)], "\(n)") }
        single("vigil_late_records_total", "counter", "Readings later than the allowed lateness (sent to the dead-letter topic).", "\(s.lateRecords)")
        family("vigil_dlq_total", "counter", "Records produced to the dead-letter topic.")
        sample("vigil_dlq_total", [("topic", s.deadLetterTopic)], "\(s.deadLetters)")
        family("vigil_records_out_total", "counter", "Window rows produced, per output topic and window.")
        for (window, n) in s.rowsByWindow.sorted(by: { $0.key < $1.key }) {
            sample("vigil_records_out_total", [("topic", s.outputTopic), ("window", window)], "\(n)")
        }
        family("vigil_alerts_total", "counter", "Alarm transitions produced, by event and level.")
        if s.alerts.isEmpty { sample("vigil_alerts_total", [("event", "raised"), ("level", "AL1")], "0") }
        for (key, n) in s.alerts.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: " ")
            sample("vigil_alerts_total", [("event", String(parts.first ?? "")), ("level", String(parts.last ?? ""))], "\(n)")
        }
        family("vigil_anomalies_total", "counter", "Readings scored at or above the anomaly floor, by detector.")
        if s.anomalies.isEmpty { sample("vigil_anomalies_total", [("detector", "none")], "0") }
        for (d, n) in s.anomalies.sorted(by: { $0.key < $1.key }) { sample("vigil_anomalies_total", [("detector", d)], "\(n)") }
        family("vigil_grades_total", "counter", "Enterprise grade records produced (changes and heartbeats), by level.")
        if s.grades.isEmpty { sample("vigil_grades_total", [("level", "blue")], "0") }
        for (l, n) in s.grades.sorted(by: { $0.key < $1.key }) { sample("vigil_grades_total", [("level", l)], "\(n)") }
        family(
            "vigil_table_records_ignored_total", "counter",
            "Table records rejected (not JSON, a required field missing, inconsistent values) and sent to the dead-letter topic, by table.")
        for table in ["profiles", "permits", "hazards", "acknowledgements", "setpoints", "commitments", "offline_notices"] {
            sample("vigil_table_records_ignored_total", [("table", table)], "\(s.tableRecordsIgnored[table] ?? 0)")
        }
        let topics = s.tableTopics.sorted { $0.key < $1.key }
        family("vigil_table_records_total", "counter", "Table records read and applied, by table topic.")
        for (topic, t) in topics { sample("vigil_table_records_total", [("table", t.table), ("topic", topic)], "\(t.read)") }
        family("vigil_table_partitions", "gauge", "Partitions of each table topic being read (0: the topic does not exist yet).")
        for (topic, t) in topics { sample("vigil_table_partitions", [("table", t.table), ("topic", topic)], "\(t.partitions)") }
        family(
            "vigil_table_complete", "gauge",
            "1 once every partition of the table topic has been read to its end (grades record it as inputs.tables_complete).")
        for (topic, t) in topics { sample("vigil_table_complete", [("table", t.table), ("topic", topic)], t.complete ? "1" : "0") }
        single("vigil_offset_commits_total", "counter", "Successful offset commits.", "\(s.commits)")
        single("vigil_checkpoints_total", "counter", "Checkpoint rounds written (snapshots stored, then offsets committed).", "\(s.checkpoints)")
        single("vigil_checkpoint_snapshots_total", "counter", "Partition snapshots written.", "\(s.snapshotsWritten)")
        single(
            "vigil_checkpoint_duration_seconds", "gauge", "Duration of the last checkpoint round (flush, snapshot, store, commit).",
            "\(s.lastCheckpointSeconds)")
        single("vigil_checkpoint_bytes", "gauge", "Bytes of the last checkpoint round's snapshots.", "\(s.lastCheckpointBytes)")
        single("vigil_partitions_restored_total", "counter", "Partitions whose state was restored from a checkpoint.", "\(s.partitionsRestored)")
        single("vigil_restore_duration_seconds", "gauge", "Duration of the last restore of an assignment's snapshots.", "\(s.lastRestoreSeconds)")
        family("vigil_consumer_lag", "gauge", "Messages behind the high watermark, per assigned partition.")
        for (tp, n) in s.lag.sorted(by: { $0.key < $1.key }) {
            let parts = tp.split(separator: "/")
            sample("vigil_consumer_lag", [("topic", String(parts.first ?? "")), ("partition", String(parts.last ?? ""))], "\(n)")
        }
        single("vigil_assigned_partitions", "gauge", "Partitions assigned to this instance.", "\(s.assignedPartitions)")
        single("vigil_window_state_bytes", "gauge", "Approximate bytes of window state held.", "\(s.windowStateBytes)")
        family(
            "vigil_batch_latency_seconds", "histogram",
            "Processing time of one poll batch that had records: first record handed over to outputs enqueued.")
        var cumulative: Int64 = 0
        for (i, bound) in Self.latencyBuckets.enumerated() {
            cumulative += s.latencyCounts[i]
            sample("vigil_batch_latency_seconds_bucket", [("le", "\(bound)")], "\(cumulative)")
        }
        cumulative += s.latencyCounts[Self.latencyBuckets.count]
        sample("vigil_batch_latency_seconds_bucket", [("le", "+Inf")], "\(cumulative)")
        sample("vigil_batch_latency_seconds_sum", [], "\(s.latencySum)")
        sample("vigil_batch_latency_seconds_count", [], "\(cumulative)")
        family("vigil_up", "gauge", "1 while the pipeline's consume loop runs.")
        sample("vigil_up", [], s.running ? "1" : "0")
        return out
    }

    func escape(_ v: String) -> String {
        v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
