import Foundation
import Synchronization
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
        /// Stream jobs in the group, each on its own thread (`vigil run --workers`).
        public var workers: Int
        /// Records consumed while timed (from the moment every worker held partitions to the last record).
        public var records: Int64
        public var seconds: Double
        public var rate: Double { Double(records) / seconds }
        public var checkpoints: Int64
        public var snapshotBytes: Int64
        public var checkpointSeconds: Double
        /// Alert, anomaly and grade records produced.
        public var riskRecords: Int64
    }

    public static func run(
        records: Int, partitions: Int32 = 64, passes: Int = 2, interval: Int64 = 5_000, directory: String,
        modes: [String] = ["none", "directory", "kafka"], workers: [Int] = [1], progress: (String) -> Void = { _ in }
    ) throws -> [Pass] {
        let cluster = try EmbeddedKafkaCluster()
        let results = try measure(
            cluster: cluster, records: records, partitions: partitions, passes: passes, interval: interval, directory: directory,
            modes: modes, workers: workers, progress: progress
        )
        withExtendedLifetime(cluster) {}
        return results
    }

    static func measure(
        cluster: EmbeddedKafkaCluster, records: Int, partitions: Int32, passes: Int, interval: Int64, directory: String,
        modes: [String], workers: [Int], progress: (String) -> Void
    ) throws -> [Pass] {
        let topic = "w2.readings"
        try cluster.createTopic(topic, partitions: partitions)
        try cluster.createTopic("w2.window-stats", partitions: partitions)
        if modes.contains("detectors") {
            for t in ["w2.alerts", "w2.anomalies", "w2.grades"] { try cluster.createTopic(t, partitions: partitions) }
        }
        for pass in 0..<passes { for n in workers { try cluster.createTopic("w2.checkpoints-\(pass)-\(n)", partitions: 1) } }
        let bytes = try E2EBenchmark.produce(cluster: cluster, topic: topic, records: records, compression: .lz4)
        progress("checkpoint bench: produced \(records) readings (\(bytes) bytes) to \(partitions) partitions")
        var best: [String: Pass] = [:]
        for pass in 0..<passes {
            for mode in modes {
                for n in workers {
                    var config = StreamJobConfig(
                        brokers: cluster.bootstrapServers, groupID: "w2-\(mode)-\(pass)-\(n)", inputTopics: [topic],
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
                    let path = "\(directory)/w2-\(pass)-\(n)"
                    switch mode {
                    case "directory": config.checkpoint = .directory(path: path)
                    // A topic per pass: a job restores what an earlier one checkpointed and would start at the end.
                    case "kafka": config.checkpoint = .kafka(topic: "w2.checkpoints-\(pass)-\(n)", transactionalID: "w2-\(pass)-\(n)")
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
                    let result = try runJobs(config, workers: n, records: Int64(records), partitions: Int(partitions), mode: mode)
                    try? FileManager.default.removeItem(atPath: path)
                    progress("checkpoint bench: pass \(pass + 1) \(mode), \(n) worker(s): \(result.seconds) s, \(result.checkpoints) checkpoints")
                    let key = "\(mode)/\(n)"
                    if best[key].map({ result.rate > $0.rate }) ?? true { best[key] = result }
                }
            }
        }
        return modes.flatMap { mode in workers.compactMap { best["\(mode)/\($0)"] } }
    }

    /// `workers` jobs of `config` in one group, each stepping on its own thread until the group has consumed
    /// `records`; timed from the moment every worker holds partitions (and all `partitions` are held), so the
    /// group's joining is not measured, only records consumed after it.
    static func runJobs(_ config: StreamJobConfig, workers: Int, records: Int64, partitions: Int, mode: String) throws -> Pass {
        let consumed = Atomic<Int64>(0)
        let assigned = Mutex([Int](repeating: 0, count: workers))
        let outcomes = Mutex<[Result<StreamJobStats, any Error>]>([])
        let group = DispatchGroup()
        for w in 0..<workers {
            group.enter()
            let worker = {
                var c = config
                if case .kafka(let topic, let id) = config.checkpoint, w > 0 { c.checkpoint = .kafka(topic: topic, transactionalID: "\(id).w\(w)") }
                return c
            }()
            let thread = Thread {
                let r = Result { () throws -> StreamJobStats in
                    let job = try StreamJob(config: worker)
                    while consumed.load(ordering: .relaxed) < records {
                        let n = try job.step()
                        let held = job.assignment.count
                        assigned.withLock { $0[w] = held }
                        consumed.add(Int64(n), ordering: .relaxed)
                    }
                    try job.commit()
                    let stats = job.stats
                    try job.close()
                    return stats
                }
                outcomes.withLock { $0.append(r) }
                group.leave()
            }
            thread.name = "checkpoint-bench-\(w)"
            thread.start()
        }
        let clock = ContinuousClock()
        var start: (ContinuousClock.Instant, Int64)? = nil
        var end = clock.now
        while true {
            let total = consumed.load(ordering: .relaxed)
            if start == nil {
                let held = assigned.withLock { $0 }
                if held.allSatisfy({ $0 > 0 }) && held.reduce(0, +) == partitions { start = (clock.now, total) }
            }
            if total >= records {
                end = clock.now
                break
            }
            if group.wait(timeout: .now() + .microseconds(500)) == .success { break }
        }
        group.wait()
        var stats: [StreamJobStats] = []
        for r in outcomes.withLock({ $0 }) { stats.append(try r.get()) }
        let (began, before) = start ?? (end, 0)
        let elapsed = end - began
        func sum(_ f: (StreamJobStats) -> Int64) -> Int64 { stats.reduce(0) { $0 + f($1) } }
        return Pass(
            mode: mode, workers: workers, records: consumed.load(ordering: .relaxed) - before,
            seconds: elapsed.inSeconds,
            checkpoints: sum(\.checkpoints), snapshotBytes: sum(\.lastCheckpointBytes),
            checkpointSeconds: stats.map(\.lastCheckpointSeconds).max() ?? 0,
            riskRecords: sum {
                $0.alertsByLevel.values.reduce(0, +) + $0.anomaliesByDetector.values.reduce(0, +) + $0.gradesByLevel.values.reduce(0, +)
            }
        )
    }
}
