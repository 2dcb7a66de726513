import Foundation
import Logging
import Testing
import VigilCore
import VigilKafka
import VigilPipeline
@testable import VigilRuntime
import VigilTools
import VigilTesting

/// Partition workers: the chemical-park pipeline over one fixed simulated stream on four input partitions, run
/// by the production consumer service (``PipelineRunner/services()``) once with one worker and once with two,
/// each into its own output topics. Both runs must emit the same records, byte for byte, per key; with two
/// workers each must have owned partitions and processed readings.
///
/// Records are compared per topic and key as sorted lists: within a partition, the rows of different windows
/// that close at one watermark advance come out in an order that depends on where a poll ends (with any number
/// of workers; ``GoldenStreamTests`` sorts the same way), and the by-region grades mix enterprises of several
/// input partitions under one key.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct WorkersTests {
    static let start: Int64 = GoldenStreamTests.start

    @Test("one worker and two workers emit the same records")
    func twoWorkersEmitWhatOneDoes() async throws {
        let base = try PipelineLoader.load(path: packageRoot() + "/Pipelines/chemical-park.yaml", environment: [:])
        let cluster = try EmbeddedKafkaCluster()
        let readingTopic = try #require(base.sources.readings?.topics.first)
        try cluster.createTopic(readingTopic, partitions: 4)
        for topic in GoldenStreamTests.tableTopics(base) { try cluster.createTopic(topic, partitions: 1) }

        let brokers = cluster.bootstrapServers
        let readings = try await onDedicatedThread(name: "workers-simulate") { () throws -> Int in
            var options = SimulationRun.Options(brokers: brokers)
            options.enterprises = 8
            options.duration = 2 * 3_600_000
            options.fast = true
            options.start = Self.start
            options.seed = 11
            options.kafka = ["log_level": "3"]
            options.rate = Double(base.sensorTypes.count * options.enterprises) / 20
            return try SimulationRun.run(spec: base, options: options, stop: StopSignal()) { _ in }.readings
        }
        #expect(readings > 5_000)

        var outputs: [Int: [String: [String: [String]]]] = [:]
        for workers in [1, 2] {
            let spec = Self.prefixed(base, "w\(workers)")
            for topic in Self.sinkTopics(spec) { try cluster.createTopic(topic, partitions: 2) }
            let state = NSTemporaryDirectory() + "vigil-workers-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: state) }
            let snapshots = try await Self.run(spec, workers: workers, brokers: brokers, state: state)
            #expect(snapshots.count == workers)
            for (w, s) in snapshots.enumerated() {
                #expect(s.assignedPartitions > 0, "worker \(w) of \(workers) owned no partition")
                #expect(s.readings > 0, "worker \(w) of \(workers) processed no reading")
            }
            #expect(snapshots.map(\.readings).reduce(0, +) == Int64(readings), "\(workers) workers processed another number of readings")
            outputs[workers] = try await onDedicatedThread(name: "workers-read") { try Self.read(Self.sinkTopics(spec), brokers: brokers) }
        }
        let one = try #require(outputs[1])
        let two = try #require(outputs[2])
        let sinks = Self.sinkTopics(Self.prefixed(base, ""))
        for sink in sinks {
            let a = one["w1" + sink] ?? [:]
            let b = two["w2" + sink] ?? [:]
            #expect(a.keys.sorted() == b.keys.sorted(), "\(sink): keys differ")
            for key in a.keys.sorted() where a[key] != b[key] {
                Issue.record("\(sink) key \(key): \(a[key]?.count ?? 0) records with one worker, \(b[key]?.count ?? 0) with two")
            }
        }
        let total = one.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }
        #expect(total > 10_000, "only \(total) output records")
        for sink in [base.sinks.windowStats, base.sinks.alerts, base.sinks.grades, base.sinks.anomalies] {
            #expect(!(one["w1" + sink] ?? [:]).isEmpty, "\(sink) is empty: the stream does not exercise it")
        }
    }

    /// Runs `spec` with `workers` workers until every input partition has no lag, then stops it gracefully;
    /// returns each worker's last metrics snapshot.
    static func run(_ spec: PipelineSpec, workers: Int, brokers: String, state: String) async throws -> [RuntimeMetrics.Snapshot] {
        var options = RunOptions()
        options.brokers = brokers
        options.workers = workers
        options.sessionTimeoutMs = 6_000
        options.checkpointPath = state
        var logger = Logger(label: "workers-test")
        logger.logLevel = .warning
        let services = PipelineRunner(spec: spec, options: options, logger: logger).services()
        #expect(services.consumer.workers == workers)
        let task = Task { try await services.consumer.run() }
        let metrics = services.runtimeMetrics
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let s = metrics.snapshot
            if s.running && s.lag.count == 4 && s.lag.values.allSatisfy({ $0 == 0 }) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(metrics.snapshot.lag.count == 4 && metrics.snapshot.lag.values.allSatisfy { $0 == 0 }, "\(workers) workers: not caught up")
        task.cancel()
        try await task.value
        return metrics.workerSnapshots
    }

    /// `spec` writing to topics prefixed with `prefix`, in its own consumer group, checkpointing only on
    /// revocation and shutdown, and with nothing depending on the wall clock (no timestamp horizons, no idle
    /// advance).
    static func prefixed(_ base: PipelineSpec, _ prefix: String) -> PipelineSpec {
        var spec = base
        spec.consumerGroup = "vigil.workers-\(prefix)-\(UUID().uuidString.prefix(8))"
        spec.sinks.windowStats = prefix + spec.sinks.windowStats
        spec.sinks.anomalies = prefix + spec.sinks.anomalies
        spec.sinks.grades = prefix + spec.sinks.grades
        spec.sinks.gradesByRegion = prefix + spec.sinks.gradesByRegion
        spec.sinks.alerts = prefix + spec.sinks.alerts
        spec.sinks.deadLetters = prefix + spec.sinks.deadLetters
        for i in spec.alerts.routes.indices { spec.alerts.routes[i].topic = prefix + spec.alerts.routes[i].topic }
        spec.sources.readings?.decoder.futureHorizon = nil
        spec.sources.readings?.decoder.pastHorizon = nil
        spec.sources.readings?.idleTimeout = 365 * 86_400_000
        spec.checkpoint.store = .directory
        spec.checkpoint.interval = 3_600_000
        spec.kafka["log_level"] = "3"
        return spec
    }

    static func sinkTopics(_ spec: PipelineSpec) -> [String] { GoldenStreamTests.sinkTopics(spec) }

    /// Every record of `topics`, per topic and key, as sorted values.
    static func read(_ topics: [String], brokers: String) throws -> [String: [String: [String]]] {
        let reader = try KafkaConsumer(config: consumerConfig(brokers, group: uniqueName("workers-read")))
        try reader.assign(topics.flatMap { t in (0..<2).map { KafkaTopicPartition(topic: t, partition: $0, offset: 0) } })
        var out: [String: [String: [String]]] = [:]
        var idle = 0
        while idle < 8 {
            let n = try reader.poll(maxMessages: 10_000, timeoutMs: 250) { r in
                let key = r.key.map { String(decoding: $0, as: UTF8.self) } ?? "-"
                out[r.topicName, default: [:]][key, default: []].append(String(decoding: r.payload, as: UTF8.self))
            }
            idle = n == 0 ? idle + 1 : 0
        }
        try reader.close()
        return out.mapValues { $0.mapValues { $0.sorted() } }
    }
}
