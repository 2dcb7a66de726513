import Foundation
import Testing
import VigilCore
import VigilKafka
import VigilPipeline
@testable import VigilRuntime
import VigilTools
import VigilTesting

/// The runtime's outputs for one fixed simulated stream, byte for byte.
///
/// A fixed-seed, fixed-start plant simulation (readings plus every table the chemical-park pipeline reads) runs
/// through the chemical-park pipeline on the embedded broker. Every record of every output topic — topic,
/// partition, key and value — goes into one digest. The digest and the per-topic counts are pinned: any change
/// to what the engine emits fails here. A change that is meant to alter the outputs updates the pinned values in
/// the same commit and says why.
///
/// The records of a partition are digested in sorted order, not in offset order: window rows that close at the
/// same watermark advance come out in one group, so where a poll happens to end decides how rows of different
/// windows interleave (each record is still identical, and a replay after a restart is too).
///
/// On a mismatch the records are written to `$TMPDIR/vigil-golden-actual.txt` for a diff against a run of the
/// previous commit.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(5)))
struct GoldenStreamTests {
    /// Thursday 2026-07-02 06:00 +08:00 (summer: the flammable-gas levels' June–August adjustment applies).
    static let start: Int64 = 1_782_943_200_000

    static let expectedCounts: [String: Int] = [
        "risk.alerts": 89, "risk.alerts.equipment": 61, "risk.alerts.regulator": 8, "risk.alerts.urgent": 14, "risk.anomalies": 588,
        "risk.dlq": 3, "risk.grades": 39, "risk.grades.by-region": 36, "risk.window-stats": 12897,
    ]
    /// Changed on purpose, twice: grade records gained `inputs.tables_complete` and `inputs.profile_missing`
    /// (without those two fields the records digest to the pin before, 0xc944_7d22_4a02_f20c); then a point in
    /// instrument fault counts in the frozen share of Q like a frozen one, which changes exactly one record:
    /// E9000's grade at its PT-001 fault (frozen_share 0 → 0.2, Q 5 → 9, R_dyn 25.1 → 29.1, still red)
    /// (pin 0x1287_7632_7507_4dbd). Then the calibrated anomaly scores (tail probabilities, learnt cadence,
    /// resolution floors) and the `tail_probability` field: 1,506 anomaly records → 588 at the floor of 0.6 (the
    /// alert and window counts are unchanged), and one grade record fewer (and its by-region copy), because
    /// anomaly episodes count as pseudo-alarms in the grade's A factor.
    static let expectedDigest: UInt64 = 0x18b3_ad1f_9fd5_a0ac

    @Test("a fixed simulated stream through the chemical-park pipeline gives byte-identical outputs")
    func outputsAreByteIdentical() throws {
        let spec = try PipelineLoader.load(path: packageRoot() + "/Pipelines/chemical-park.yaml", environment: [:])
        let cluster = try EmbeddedKafkaCluster()
        let readingTopic = try #require(spec.sources.readings?.topics.first)
        // One input partition: with several, records of different input partitions that share an output
        // partition (grades by region) interleave in poll order.
        try cluster.createTopic(readingTopic, partitions: 1)
        for topic in Self.tableTopics(spec) { try cluster.createTopic(topic, partitions: 1) }
        let sinks = Self.sinkTopics(spec)
        for topic in sinks { try cluster.createTopic(topic, partitions: 2) }

        var options = SimulationRun.Options(brokers: cluster.bootstrapServers)
        options.enterprises = 6
        options.duration = 3 * 3_600_000
        options.fast = true
        options.start = Self.start
        options.seed = 7
        options.kafka = ["log_level": "3"]
        // One reading per point every 20 s (the embedded broker keeps about 5 MiB per partition).
        let points = Double(spec.sensorTypes.count * options.enterprises)
        options.rate = points / 20
        let summary = try SimulationRun.run(spec: spec, options: options, stop: StopSignal()) { _ in }
        #expect(summary.readings > 10_000)
        let extra = try Self.produceEpilogue(topic: readingTopic, brokers: cluster.bootstrapServers, from: Self.start + options.duration)
        let messages = Int64(summary.readings + extra)

        var runOptions = RunOptions()
        runOptions.brokers = cluster.bootstrapServers
        runOptions.checkpointStore = .disabled
        runOptions.sessionTimeoutMs = 6_000
        var config = try PipelineRunner.jobConfig(spec: spec, options: runOptions)
        // Nothing may depend on the wall clock: no timestamp horizons, no idle advance, no timed commits.
        config.pipeline.decoder.futureHorizon = nil
        config.pipeline.decoder.pastHorizon = nil
        config.pipeline.idleTimeout = nil
        config.commitInterval = .max / 4
        config.consumerAdditional["log_level"] = "3"
        config.producerAdditional["log_level"] = "3"
        let job = try StreamJob(config: config)
        let deadline = Date().addingTimeInterval(120)
        while job.stats.messages < messages && Date() < deadline { try job.step() }
        #expect(job.stats.messages == messages)
        try job.finishWindows()
        try job.close()

        let records = try Self.read(sinks, brokers: cluster.bootstrapServers)
        var counts: [String: Int] = [:]
        var digest = FNV1a()
        for line in records {
            counts[String(line.prefix { $0 != " " }), default: 0] += 1
            digest.add(line)
        }
        let matches = counts == Self.expectedCounts && digest.value == Self.expectedDigest
        if !matches {
            let path = NSTemporaryDirectory() + "/vigil-golden-actual.txt"
            try records.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            print("golden: counts \(counts.sorted { $0.key < $1.key }), digest 0x\(String(digest.value, radix: 16)); records in \(path)")
        }
        #expect(counts == Self.expectedCounts)
        #expect(digest.value == Self.expectedDigest, "digest 0x\(String(digest.value, radix: 16))")
        // The stream exercises every output, so the digest covers every encoder.
        for topic in sinks {
            #expect(counts[topic, default: 0] > 0, "\(topic) is empty: the golden stream does not exercise it")
        }
        let alerts = records.filter { $0.hasPrefix(spec.sinks.alerts + " ") }
        for event in [
            "raised", "escalated", "overdue", "cleared", "offline", "online", "fault", "fault_cleared", "threshold_not_set", "interrupted",
            "restored",
        ] {
            #expect(alerts.contains { $0.contains("\"event\":\"\(event)\"") }, "no '\(event)' alert: the golden stream does not exercise it")
        }
        #expect(records.contains { $0.contains("red_alarm_sustained") })

        // The same inputs, read back from the broker, through the partition pipeline without Kafka (the path the
        // domain-rule tests take) give the same records: the broker job adds only the wiring.
        let direct = try Self.withoutBroker(config: config, brokers: cluster.bootstrapServers)
        let brokered = records.map { line -> String in
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            return "\(parts[0]) \(parts[2])"
        }
        #expect(direct.count == brokered.count)
        #expect(direct.sorted() == brokered.sorted(), "the broker-less pipeline differs from the broker job")
    }

    /// Every input record of `config` read back from the broker, through one ``PartitionPipeline`` in batches of
    /// 500 (tables applied first, as the job catches them up before it starts), as `topic key value` lines.
    static func withoutBroker(config: StreamJobConfig, brokers: String) throws -> [String] {
        let tableTopics = config.tableTopics
        let reader = try KafkaConsumer(config: consumerConfig(brokers, group: uniqueName("golden-inputs")))
        try reader.assign((config.inputTopics + tableTopics.keys.sorted()).map { KafkaTopicPartition(topic: $0, partition: 0, offset: 0) })
        var inputs: [String: [(key: [UInt8]?, value: [UInt8])]] = [:]
        var idle = 0
        while idle < 8 {
            let n = try reader.poll(maxMessages: 10_000, timeoutMs: 250) { r in
                inputs[r.topicName, default: []].append((r.key.map { Array($0) }, Array(r.payload)))
            }
            idle = n == 0 ? idle + 1 : 0
        }
        try reader.close()
        var tables = TableReader(reading: Set(tableTopics.values))
        for (topic, table) in tableTopics.sorted(by: { $0.key < $1.key }) {
            for r in inputs[topic] ?? [] {
                let reason: String? = r.value.withUnsafeBytes { v in
                    guard let key = r.key else { return tables.apply(table, key: nil, payload: v) }
                    return key.withUnsafeBytes { k in tables.apply(table, key: k, payload: v) }
                }
                #expect(reason == nil, "table record of \(topic) rejected: \(reason ?? "")")
            }
        }
        func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        let pipeline = PartitionPipeline(settings: config.pipelineSettings)
        var out = PartitionOutputs()
        var lines: [String] = []
        func collect() {
            out.forEach { sink, key, value in lines.append("\(config.topic(of: sink)) \(text(key)) \(text(value))") }
            for refused in out.deadLetters { lines.append("\(config.topics.deadLetters) \(refused.key) \(refused.value)") }
            out.removeAll()
        }
        let readings = inputs[config.inputTopics[0]] ?? []
        var rejections: [DecodeRejection] = []
        for start in stride(from: 0, to: readings.count, by: 500) {
            for offset in start..<min(readings.count, start + 500) {
                let r = readings[offset]
                let before = rejections.count
                _ = r.value.withUnsafeBytes { payload in
                    pipeline.decoder.decode(payload: payload, offset: Int64(offset), now: 0, into: &pipeline.batch, rejections: &rejections)
                }
                for k in before..<rejections.count {
                    lines.append("\(config.topics.deadLetters) \(r.key.map(text) ?? "-") \(text(r.value[rejections[k].range]))")
                }
            }
            pipeline.process(pipeline.batch, tables: tables.tables, now: 0, into: &out)
            pipeline.batch.removeAll()
            collect()
        }
        pipeline.finish(into: &out)
        collect()
        return lines
    }

    /// After the simulation, one more enterprise for two hours while every simulated point falls silent: an AL2 that
    /// goes overdue, a red toxic-gas alarm that lasts (§4.3 override), a tank point without setpoints, an
    /// instrument fault, points going offline (a data interruption) and one coming back, two undecodable records
    /// and a late one (which today also reaches the alarm detector: it clears the AL2 at its old event time).
    /// Returns the number of records produced.
    static func produceEpilogue(topic: String, brokers: String, from end: Int64) throws -> Int {
        let producer = try KafkaProducer(config: producerConfig(brokers))
        var count = 0
        func send(_ json: String) throws {
            try producer.produce(topic: topic, partition: 0, key: Array("E9000".utf8), value: Array(json.utf8))
            count += 1
        }
        let minute: Int64 = 60_000
        for k in 0..<360 {
            let t = end + Int64(k) * 20_000
            let m = (t - end) / minute
            var points: [(String, Double)] = [
                ("GT-001", m >= 10 && m < 60 ? 60 : 5),
                ("AT-H2S-001", m >= 20 && m < 45 ? 25 : 2),
                ("PT-001", m >= 30 && m < 35 ? -5 : 200 + Double(k % 7)),
            ]
            if m < 60 { points.append(("TT-001", 50 + Double(k % 5))) }
            if m < 60 || m >= 100 { points.append(("O2-001", 20.9 + Double(k % 3) * 0.01)) }
            for (point, value) in points {
                try send("{\"enterprise\":\"E9000\",\"sensor\":\"E9000-\(point)\",\"ts\":\(t),\"value\":\(value)}")
            }
            if k == 100 {
                try send("not json")
                try send("{\"enterprise\":\"E9000\",\"sensor\":\"E9000-GT-001\",\"ts\":\"noon\",\"value\":1}")
                try send("{\"enterprise\":\"E9000\",\"sensor\":\"E9000-GT-001\",\"ts\":\(end - 3_600_000),\"value\":1}")
            }
        }
        try producer.flush()
        return count
    }

    /// The reference-table topics the pipeline reads.
    static func tableTopics(_ spec: PipelineSpec) -> [String] {
        [
            spec.sources.enterprises, spec.sources.hazards, spec.sources.permits, spec.sources.setpoints, spec.sources.commitments,
            spec.sources.offlineNotices, spec.alerts.acknowledgements,
        ].compactMap { $0 }
    }

    static func sinkTopics(_ spec: PipelineSpec) -> [String] {
        var topics = [
            spec.sinks.windowStats, spec.sinks.alerts, spec.sinks.grades, spec.sinks.anomalies, spec.sinks.deadLetters, spec.sinks.gradesByRegion,
        ]
        topics += spec.alerts.routes.map(\.topic)
        return Array(Set(topics)).sorted()
    }

    /// Every record of `topics` as `topic partition key value`, sorted within each partition.
    static func read(_ topics: [String], brokers: String) throws -> [String] {
        var cc = consumerConfig(brokers, group: uniqueName("golden"))
        cc.additionalConfig["isolation.level"] = "read_committed"
        let reader = try KafkaConsumer(config: cc)
        try reader.assign(topics.flatMap { t in (0..<2).map { KafkaTopicPartition(topic: t, partition: $0, offset: 0) } })
        var byPartition: [String: [String]] = [:]
        var idle = 0
        while idle < 8 {
            let n = try reader.poll(maxMessages: 10_000, timeoutMs: 250) { r in
                let key = r.key.map { String(decoding: $0, as: UTF8.self) } ?? "-"
                byPartition["\(r.topicName) \(r.partition)", default: []].append(
                    "\(r.topicName) \(r.partition) \(key) \(String(decoding: r.payload, as: UTF8.self))")
            }
            idle = n == 0 ? idle + 1 : 0
        }
        try reader.close()
        return byPartition.keys.sorted().flatMap { byPartition[$0]!.sorted() }
    }
}

/// 64-bit FNV-1a over UTF-8 lines (each terminated by a newline).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ line: String) {
        for byte in line.utf8 { mix(byte) }
        mix(0x0A)
    }
    private mutating func mix(_ byte: UInt8) {
        value ^= UInt64(byte)
        value = value &* 0x0000_0100_0000_01B3
    }
}
