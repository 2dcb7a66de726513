import Foundation
import VigilRuntime
import VigilCore
import VigilKafka

/// The throughput cost of checkpointing on W2: the same JSON readings (W1's key space) through a full
/// ``StreamJob`` (consumer group, decode, W1 windows, rows produced), once per checkpoint mode, in
/// alternating passes. Reported per mode: the best wall time from the first record to the last one
/// consumed, checkpoints written and their size. The ratio to `none` is the cost.
///
/// Mode `detectors` is `none` plus the detectors and grading on every reading: an alarm rule (AL1 40, AL2 50) with
/// alert records, the anomaly scorer with records at or above 0.9, instrument checks (range, frozen values, a
/// per-type stale gap), and enterprise grading (alarm behaviour, pseudo-alarms, data quality, hysteresis) with
/// grade records; its ratio to `none` is what the detectors and
/// grading cost in the whole job.
public enum CheckpointBenchmark: Sendable {
    public struct Pass: Sendable {
        public var mode: String
        public var seconds: Double
        public var checkpoints: Int64
        public var snapshotBytes: Int64
        public var checkpointSeconds: Double
        /// Alert, anomaly and grade records produced.
        public var riskRecords: Int64
    }

    public static func run(
        records: Int, partitions: Int32 = 64, passes: Int = 2, interval: Int64 = 5_000, directory: String,
        modes: [String] = ["none", "directory", "kafka"], progress: (String) -> Void = { _ in }
    ) throws -> [Pass] {
        let cluster = try EmbeddedKafkaCluster()
        let results = try measure(
            cluster: cluster, records: records, partitions: partitions, passes: passes, interval: interval, directory: directory,
            modes: modes, progress: progress
        )
        withExtendedLifetime(cluster) {}
        return results
    }

    static func measure(
        cluster: EmbeddedKafkaCluster, records: Int, partitions: Int32, passes: Int, interval: Int64, directory: String,
        modes: [String], progress: (String) -> Void
    ) throws -> [Pass] {
        let topic = "w2.readings"
        try cluster.createTopic(topic, partitions: partitions)
        try cluster.createTopic("w2.window-stats", partitions: partitions)
        if modes.contains("detectors") {
            for t in ["w2.alerts", "w2.anomalies", "w2.grades"] { try cluster.createTopic(t, partitions: partitions) }
        }
        for pass in 0..<passes { try cluster.createTopic("w2.checkpoints-\(pass)", partitions: 1) }
        let bytes = try E2EBenchmark.produce(cluster: cluster, topic: topic, records: records, compression: .lz4)
        progress("checkpoint bench: produced \(records) readings (\(bytes) bytes) to \(partitions) partitions")
        var best: [String: Pass] = [:]
        let clock = ContinuousClock()
        for pass in 0..<passes {
            for mode in modes {
                var config = StreamJobConfig(
                    brokers: cluster.bootstrapServers, groupID: "w2-\(mode)-\(pass)", inputTopics: [topic],
                    window: WindowSpec(kind: .tumbling(size: 60_000))
                )
                config.topics.windowStats = "w2.window-stats"
                config.pipeline.outOfOrderness = 0
                config.pipeline.idleTimeout = nil
                config.pipeline.decoder.futureHorizon = nil
                config.pipeline.decoder.pastHorizon = nil
                config.commitInterval = interval
                config.sessionTimeoutMs = 6_000
                config.consumerAdditional = [
                    "log_level": "3", "fetch.message.max.bytes": "4194304", "queued.min.messages": "1000000",
                    "queued.max.messages.kbytes": "2097151",
                ]
                config.producerAdditional = ["log_level": "3"]
                let path = "\(directory)/w2-\(pass)"
                switch mode {
                case "directory": config.checkpoint = .directory(path: path)
                // A topic per pass: a job restores what an earlier one checkpointed and would start at the end.
                case "kafka": config.checkpoint = .kafka(topic: "w2.checkpoints-\(pass)", transactionalID: "w2-\(pass)")
                case "detectors":
                    config.pipeline.sensorTypes = [
                        SensorTypePlan(
                            name: "w2", match: ["-S"], rule: ThresholdRule(name: "w2", level1: 40, level2: 50, deadband: 1),
                            check: DeviceCheck(rangeMin: 0, rangeMax: 1_000, staleAfter: 300_000))
                    ]
                    config.topics.alerts = "w2.alerts"
                    config.topics.anomalies = "w2.anomalies"
                    config.pipeline.anomalyFloor = 0.9
                    config.topics.grades = "w2.grades"
                default: config.checkpoint = .none
                }
                let job = try StreamJob(config: config)
                var start: ContinuousClock.Instant? = nil
                while job.stats.messages < Int64(records) {
                    let n = try job.step()
                    if n > 0 && start == nil { start = clock.now }
                }
                try job.commit()
                let elapsed = clock.now - start!
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                let result = Pass(
                    mode: mode, seconds: seconds, checkpoints: job.stats.checkpoints, snapshotBytes: job.stats.lastCheckpointBytes,
                    checkpointSeconds: job.stats.lastCheckpointSeconds,
                    riskRecords: job.stats.alertsByLevel.values.reduce(0, +) + job.stats.anomaliesByDetector.values.reduce(0, +)
                        + job.stats.gradesByLevel.values.reduce(0, +)
                )
                try job.close()
                try? FileManager.default.removeItem(atPath: path)
                progress("checkpoint bench: pass \(pass + 1) \(mode): \(seconds) s, \(result.checkpoints) checkpoints")
                if best[mode].map({ seconds < $0.seconds }) ?? true { best[mode] = result }
            }
        }
        return modes.compactMap { best[$0] }
    }
}
