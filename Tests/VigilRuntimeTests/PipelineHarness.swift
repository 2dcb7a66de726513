import Foundation
import Testing
import VigilCore
@testable import VigilRuntime

/// Runs a job configuration's partition pipelines on records held in memory, the way ``StreamJob`` runs them
/// on what it polls — without a broker, a consumer group or a producer — so that a domain rule (an alert's
/// lifecycle, a grade factor, an override) is tested in milliseconds. The wiring to Kafka is tested by the broker
/// tests in VigilKafkaTests; this harness shares everything else with the job: the same settings
/// (`StreamJobConfig.pipelineSettings`), the same table reader, the same sink-to-topic mapping.
///
/// Records are appended per topic and partition. ``run(_:batch:now:)`` applies every table record first (the job
/// catches its tables up before it starts), then hands each input partition's readings to that partition's
/// pipeline in batches of `batch`, visiting the partitions in turn as polls do, and collects what they emit.
final class PipelineHarness {

    let input = "in"
    let outputs = "out"
    /// An hour before now: within the decoder's horizons.
    let t0 = currentTimeMillis() - 3_600_000
    private var records: [String: [Int32: [(key: [UInt8]?, value: [UInt8])]]] = [:]

    /// What a run emitted.
    struct Run {
        /// Every output record as `topic|key|value`, with the topic relative to ``PipelineHarness/outputs``
        /// (`""` for window rows, `.alerts`, `.grades`, …), in emission order.
        var records: [String]
        var counters: PipelineCounters
        /// Readings processed, decoder rejections by reason, and offline notices the table reader ignored.
        var readings: Int64
        var rejected: [String: Int]
        var rejectedOfflineNotices = 0
        /// Why each table record that could not be applied was rejected (the job sends those to the DLQ).
        var rejectedTableRecords: [String] = []
        /// The pipelines by input partition, as they are after the run.
        var pipelines: [Int32: PartitionPipeline]

        /// The records of one output topic (`suffix` as in ``records``), parsed as JSON objects.
        func parsed(_ suffix: String) -> [[String: Any]] {
            records.filter { $0.hasPrefix(suffix + "|") }.compactMap { line in
                line.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).last.flatMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
            }
        }
    }

    func produce(topic: String, partition: Int32 = 0, key: [UInt8]?, value: [UInt8]) {
        records[topic, default: [:]][partition, default: []].append((key, value))
    }

    /// A reading to partition `partition` of the input, keyed by its enterprise.
    func reading(enterprise: String, sensor: String, ts: Int64, value: Double, partition: Int32 = 0) {
        let json = "{\"enterprise\":\"\(enterprise)\",\"sensor\":\"\(sensor)\",\"ts\":\(ts),\"value\":\(value)}"
        produce(topic: input, partition: partition, key: Array(enterprise.utf8), value: Array(json.utf8))
    }

    /// The configuration of the broker tests' setup (`CheckpointStoreTests.Setup.config`): three windows, one
    /// gas rule on `-GT-` points, alerts, anomalies and grades, no idle advance.
    func config() -> StreamJobConfig {
        var c = StreamJobConfig(
            brokers: "", groupID: "harness", inputTopics: [input],
            windows: [
                (name: "m", spec: WindowSpec(kind: .tumbling(size: 60_000), statistics: .all)),
                (name: "h", spec: WindowSpec(kind: .hopping(size: 600_000, slide: 60_000), emit: .final, statistics: .basic)),
                (name: "s", spec: WindowSpec(kind: .session(gap: 30_000), statistics: .basic)),
            ]
        )
        c.topics.windowStats = outputs
        c.topics.alerts = outputs + ".alerts"
        c.topics.deadLetters = outputs + ".dlq"
        c.topics.anomalies = outputs + ".anomalies"
        c.topics.grades = outputs + ".grades"
        c.pipeline.sensorTypes = [
            SensorTypePlan(name: "gas", match: ["-GT-"], rule: ThresholdRule(name: "gas", level1: 25, level2: 50, deadband: 2, onDelay: 2_000))
        ]
        c.pipeline.idleTimeout = nil
        return c
    }

    /// Runs `config` over the records appended so far (the input topics' readings and the table topics the
    /// configuration reads). `now` is the processing time of every batch (the decoder's horizons, idle advance).
    /// - Parameter tablesComplete: What the table consumer says: every table topic read to its end.
    func run(_ config: StreamJobConfig, batch: Int = 500, now: Int64? = nil, tablesComplete: Bool = true) -> Run {
        let settings = config.pipelineSettings
        let tableTopics = config.tableTopics
        var reader = TableReader(reading: Set(tableTopics.values))
        var rejectedTableRecords: [String] = []
        for (topic, table) in tableTopics.sorted(by: { $0.key < $1.key }) {
            for (_, list) in (records[topic] ?? [:]).sorted(by: { $0.key < $1.key }) {
                for r in list {
                    let reason: String? = r.value.withUnsafeBytes { v in
                        guard let key = r.key else { return reader.apply(table, key: nil, payload: v) }
                        return key.withUnsafeBytes { k in reader.apply(table, key: k, payload: v) }
                    }
                    if let reason { rejectedTableRecords.append(reason) }
                }
            }
        }
        reader.complete = tablesComplete
        let tables: ReferenceTables? = tableTopics.isEmpty ? nil : reader.tables
        var inputs: [(Int32, [(key: [UInt8]?, value: [UInt8])])] = []
        for topic in config.inputTopics { inputs += (records[topic] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        var pipelines: [Int32: PartitionPipeline] = [:]
        var positions: [Int32: Int] = [:]
        var out = PartitionOutputs()
        var run = Run(records: [], counters: PipelineCounters(), readings: 0, rejected: [:], pipelines: [:])
        var rejections: [DecodeRejection] = []
        var remaining = true
        while remaining {
            remaining = false
            for (partition, list) in inputs {
                let pipeline = pipelines[partition] ?? PartitionPipeline(settings: settings)
                pipelines[partition] = pipeline
                let from = positions[partition, default: 0]
                let to = min(list.count, from + batch)
                positions[partition] = to
                if to < list.count { remaining = true }
                let clock = now ?? currentTimeMillis()
                for offset in from..<to {
                    _ = list[offset].value.withUnsafeBytes { payload in
                        pipeline.decoder.decode(payload: payload, offset: Int64(offset), now: clock, into: &pipeline.batch, rejections: &rejections)
                    }
                }
                for r in rejections { run.rejected[r.reason.rawValue, default: 0] += 1 }
                rejections.removeAll()
                run.readings += Int64(pipeline.batch.count)
                pipeline.process(pipeline.batch, tables: tables, now: clock, into: &out)
                pipeline.batch.removeAll()
                collect(&out, config: config, into: &run)
            }
        }
        for (partition, _) in inputs {
            pipelines[partition]?.finish(into: &out)
            collect(&out, config: config, into: &run)
        }
        run.pipelines = pipelines
        run.rejectedOfflineNotices = reader.rejectedOfflineNotices
        run.rejectedTableRecords = rejectedTableRecords
        return run
    }

    /// Advances the pipelines of `run` with empty batches at processing time `now` (a silent input).
    func idle(_ run: inout Run, config: StreamJobConfig, now: Int64) {
        let tables: ReferenceTables? = nil
        var out = PartitionOutputs()
        for (_, pipeline) in run.pipelines.sorted(by: { $0.key < $1.key }) {
            pipeline.process(ReadingBatch(), tables: tables, now: now, into: &out)
            collect(&out, config: config, into: &run)
        }
    }

    private func collect(_ out: inout PartitionOutputs, config: StreamJobConfig, into run: inout Run) {
        out.forEach { sink, key, value in
            let topic = config.topic(of: sink)
            let suffix = topic.hasPrefix(outputs) ? String(topic.dropFirst(outputs.count)) : topic
            run.records.append("\(suffix)|\(String(decoding: key, as: UTF8.self))|\(String(decoding: value, as: UTF8.self))")
        }
        // Refused readings as the dead-letter topic's key and original value (the job adds reason and source headers).
        let dlq =
            config.topics.deadLetters.hasPrefix(outputs) ? String(config.topics.deadLetters.dropFirst(outputs.count)) : config.topics.deadLetters
        for refused in out.deadLetters { run.records.append("\(dlq)|\(refused.key)|\(refused.value)") }
        run.counters.alertsByLevel.merge(out.counters.alertsByLevel, uniquingKeysWith: +)
        run.counters.anomaliesByDetector.merge(out.counters.anomaliesByDetector, uniquingKeysWith: +)
        run.counters.gradesByLevel.merge(out.counters.gradesByLevel, uniquingKeysWith: +)
        run.counters.suppressedAlerts.merge(out.counters.suppressedAlerts, uniquingKeysWith: +)
        run.counters.rowsByWindow.merge(out.counters.rowsByWindow, uniquingKeysWith: +)
        run.counters.routedAlerts += out.counters.routedAlerts
        run.counters.late += out.counters.late
        out.removeAll()
        out.counters = PipelineCounters()
    }
}
