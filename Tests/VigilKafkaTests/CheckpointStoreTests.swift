import Foundation
import Synchronization
import Testing
import VigilCore
import VigilKafka
@testable import VigilRuntime
import VigilTesting

/// The checkpoint stores with a `StreamJob` on the embedded broker: a second job resumes from the first one's
/// snapshots (state and offsets) and together they produce exactly what one uninterrupted job produces.
///
/// The embedded broker accepts the transactional calls but does not enforce isolation; what these tests show
/// for the `kafka` store is that the whole transactional path runs and its snapshots restore. Exactly-once
/// visibility (`read_committed` hiding aborted outputs) needs a real cluster.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct CheckpointStoreTests {
    struct Setup {
        let cluster: EmbeddedKafkaCluster
        let input: String
        let outputs: String
        let checkpoints: String
        let t0: Int64

        init() throws {
            cluster = try EmbeddedKafkaCluster()
            input = uniqueName("in")
            outputs = uniqueName("out")
            checkpoints = uniqueName("ck")
            t0 = currentTimeMillis() - 3_600_000
            try cluster.createTopic(input, partitions: 2)
            for t in [outputs, outputs + ".alerts", outputs + ".dlq", outputs + ".anomalies", outputs + ".grades"] {
                try cluster.createTopic(t, partitions: 1)
            }
            try cluster.createTopic(checkpoints, partitions: 1)
        }

        /// Readings `from..<to` of 6 sensors in 2 enterprises (one per partition), 1 s apart, some above AL1/AL2.
        func produce(_ range: Range<Int>) throws {
            let producer = try KafkaProducer(config: producerConfig(cluster.bootstrapServers))
            for i in range {
                for s in 0..<6 {
                    let e = s % 2
                    let value = Double((i * 7 + s * 13) % 60) + (i % 97 == 0 ? 30 : 0)
                    let json = "{\"enterprise\":\"E\(e)\",\"sensor\":\"E\(e)-GT-\(s)\",\"ts\":\(t0 + Int64(i) * 1_000),\"value\":\(value)}"
                    try producer.produce(topic: input, partition: Int32(e), key: Array("E\(e)".utf8), value: Array(json.utf8))
                }
            }
            try producer.flush()
        }

        func config(group: String, checkpoint: CheckpointMode, output: String? = nil) -> StreamJobConfig {
            var c = StreamJobConfig(
                brokers: cluster.bootstrapServers, groupID: group, inputTopics: [input],
                windows: [
                    (name: "m", spec: WindowSpec(kind: .tumbling(size: 60_000), statistics: .all)),
                    (name: "h", spec: WindowSpec(kind: .hopping(size: 600_000, slide: 60_000), emit: .final, statistics: .basic)),
                    (name: "s", spec: WindowSpec(kind: .session(gap: 30_000), statistics: .basic)),
                ]
            )
            let out = output ?? outputs
            c.topics.windowStats = out
            c.topics.alerts = out + ".alerts"
            c.topics.deadLetters = out + ".dlq"
            c.topics.anomalies = out + ".anomalies"
            c.topics.grades = out + ".grades"
            c.pipeline.sensorTypes = [
                SensorTypePlan(name: "gas", match: ["-GT-"], rule: ThresholdRule(name: "gas", level1: 25, level2: 50, deadband: 2, onDelay: 2_000))
            ]
            c.pipeline.idleTimeout = nil
            c.commitInterval = 1_000_000
            c.checkpoint = checkpoint
            c.sessionTimeoutMs = 6_000
            c.consumerAdditional = ["log_level": "3"]
            c.producerAdditional = ["log_level": "3"]
            return c
        }

        /// Steps until `messages` records were consumed.
        func run(_ job: StreamJob, messages: Int64) throws {
            let deadline = Date().addingTimeInterval(60)
            while job.stats.messages < messages && Date() < deadline { try job.step() }
            #expect(job.stats.messages == messages)
        }

        /// The records of one output topic among `records` (`suffix` "" for the window rows, ".alerts", ".grades",
        /// …), parsed as JSON objects.
        static func parsed(_ records: [String], topic suffix: String) -> [[String: Any]] {
            records.filter { $0.hasPrefix(suffix + "|") }.compactMap { line in
                line.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).last.flatMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
            }
        }

        /// The records the job produced to one output topic, parsed (see ``parsed(_:topic:)``).
        func parsedRecords(_ suffix: String) throws -> [[String: Any]] { Self.parsed(try outputRecords(outputs), topic: suffix) }

        /// Every record of the output topics as `topic|key|value`.
        func outputRecords(_ prefix: String) throws -> [String] {
            var cc = consumerConfig(cluster.bootstrapServers, group: uniqueName("reader"))
            cc.additionalConfig["isolation.level"] = "read_committed"
            let reader = try KafkaConsumer(config: cc)
            let topics = [prefix, prefix + ".alerts", prefix + ".anomalies", prefix + ".grades"]
            try reader.assign(topics.map { KafkaTopicPartition(topic: $0, partition: 0, offset: 0) })
            var out: [String] = []
            var idle = 0
            while idle < 8 {
                let n = try reader.poll(maxMessages: 10_000, timeoutMs: 250) { r in
                    out.append(
                        "\(r.topicName.dropFirst(prefix.count))|\(String(decoding: r.key ?? .init(start: nil, count: 0), as: UTF8.self))|\(String(decoding: r.payload, as: UTF8.self))"
                    )
                }
                idle = n == 0 ? idle + 1 : 0
            }
            try reader.close()
            return out
        }
    }

    func stopAndResume(_ setup: Setup, checkpoint: CheckpointMode) throws -> (first: StreamJob, second: StreamJob) {
        let group = uniqueName("g")
        try setup.produce(0..<600)
        let first = try StreamJob(config: setup.config(group: group, checkpoint: checkpoint))
        try setup.run(first, messages: 3_600)
        try first.close()
        #expect(first.stats.checkpoints >= 1 && first.stats.snapshotsWritten == 2)
        try setup.produce(600..<1_200)
        let second = try StreamJob(config: setup.config(group: group, checkpoint: checkpoint))
        // Exactly the second half: the resume positions are the snapshots' offsets.
        try setup.run(second, messages: 3_600)
        #expect(second.stats.partitionsRestored == 2)
        for _ in 0..<5 { try second.step() }
        #expect(second.stats.messages == 3_600, "records before the snapshot offsets were read again")
        try second.close()
        return (first, second)
    }

    func reference(_ setup: Setup) throws -> [String] {
        let prefix = uniqueName("ref")
        for t in [prefix, prefix + ".alerts", prefix + ".dlq", prefix + ".anomalies", prefix + ".grades"] {
            try setup.cluster.createTopic(t, partitions: 1)
        }
        let job = try StreamJob(config: setup.config(group: uniqueName("ref"), checkpoint: .none, output: prefix))
        try setup.run(job, messages: 7_200)
        try job.close()
        return try setup.outputRecords(prefix)
    }

    @Test("directory store: a restarted job resumes from its snapshots with the same outputs as one uninterrupted job")
    func directoryStoreResumes() throws {
        let setup = try Setup()
        let path = NSTemporaryDirectory() + "vigil-ck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try stopAndResume(setup, checkpoint: .directory(path: path))
        let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        #expect(files == ["\(setup.input).0.snapshot", "\(setup.input).1.snapshot", "cluster-id"].sorted())
        let got = try setup.outputRecords(setup.outputs)
        let expected = try reference(setup)
        #expect(expected.count > 500)
        #expect(got.sorted() == expected.sorted(), "outputs differ: \(Set(got).symmetricDifference(expected).prefix(3))")
    }

    @Test("directory store: the partitions are checkpointed in turns, one every interval ÷ partitions, each once per interval, without a flush")
    func directoryStoreCheckpointsInTurns() throws {
        let setup = try Setup()
        let path = NSTemporaryDirectory() + "vigil-ck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var config = setup.config(group: uniqueName("g"), checkpoint: .directory(path: path))
        config.commitInterval = 1_000
        let job = try StreamJob(config: config)
        // The step clock stands still at `base` until both partitions are assigned and every record is read,
        // so no turn comes due meanwhile (the first turn, on the assignment, finds nothing to write).
        let base = currentTimeMillis()
        let deadline = Date().addingTimeInterval(60)
        while job.assignment.count < 2 && Date() < deadline { try job.step(now: base) }
        try setup.produce(0..<600)
        while job.stats.messages < 3_600 && Date() < deadline { try job.step(now: base) }
        #expect(job.stats.messages == 3_600 && job.stats.snapshotsWritten == 0)
        func snapshots() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".snapshot") }.sorted()
        }
        #expect(try snapshots().isEmpty)
        // Two partitions, 1 s: a turn every 500 ms, one partition each. A turn's snapshot is written once the
        // outputs enqueued before it are acknowledged, a few steps later (at the same step time: no new turn).
        func steps(at now: Int64, until written: Int64) throws {
            let until = Date().addingTimeInterval(10)
            repeat { try job.step(now: now) } while job.stats.snapshotsWritten < written && Date() < until
        }
        for _ in 0..<5 { try job.step(now: base + 499) }
        #expect(job.stats.snapshotsWritten == 0, "a turn before its time")
        try steps(at: base + 500, until: 1)
        let first = try snapshots()
        #expect(job.stats.snapshotsWritten == 1 && first.count == 1, "\(first)")
        for _ in 0..<5 { try job.step(now: base + 700) }
        #expect(job.stats.snapshotsWritten == 1)
        try steps(at: base + 1_000, until: 2)
        #expect(job.stats.snapshotsWritten == 2)
        #expect(try snapshots() == ["\(setup.input).0.snapshot", "\(setup.input).1.snapshot"], "the second turn took the other partition")
        // Nothing new since: the next turns write nothing.
        for now in [base + 1_500, base + 2_000] {
            for _ in 0..<5 { try job.step(now: now) }
        }
        #expect(job.stats.snapshotsWritten == 2)
        // Closing checkpoints every partition with progress at once.
        try setup.produce(600..<700)
        while job.stats.messages < 4_200 && Date() < deadline { try job.step(now: base + 2_000) }
        try job.close()
        #expect(job.stats.snapshotsWritten == 4)
    }

    @Test("prepare() looks every output topic up before the first record (the mock creates them on lookup)")
    func prepareLooksUpOutputTopics() throws {
        let setup = try Setup()
        let fresh = uniqueName("fresh")
        let config = setup.config(group: uniqueName("g"), checkpoint: .none, output: fresh)
        let expected = [fresh, fresh + ".alerts", fresh + ".dlq", fresh + ".anomalies", fresh + ".grades"]
        #expect(Set(config.outputTopics) == Set(expected))
        let admin = try KafkaAdmin(bootstrapServers: setup.cluster.bootstrapServers, additionalConfig: ["log_level": "3"], embedded: setup.cluster)
        #expect(try admin.describeTopics().keys.filter { $0.hasPrefix(fresh) }.isEmpty)
        let job = try StreamJob(config: config)
        var notices: [String] = []
        job.onNotice = { notices.append($0) }
        job.prepare()
        #expect(notices.isEmpty, "\(notices)")
        let topics = try admin.describeTopics()
        for topic in expected { #expect(topics[topic] != nil, "\(topic) was not looked up") }
        try job.close()
    }

    @Test("kafka store: checkpoints in transactions (snapshots, outputs, offsets) restore on the next start")
    func kafkaStoreResumes() throws {
        let setup = try Setup()
        let mode = CheckpointMode.kafka(topic: setup.checkpoints, transactionalID: uniqueName("vigil.test"))
        let (first, _) = try stopAndResume(setup, checkpoint: mode)
        #expect(first.stats.lastCheckpointBytes > 0)
        let got = try setup.outputRecords(setup.outputs)
        let expected = try reference(setup)
        #expect(got.sorted() == expected.sorted(), "outputs differ: \(Set(got).symmetricDifference(expected).prefix(3))")
    }

    @Test("kafka store: a large snapshot is split into chunks and reassembled; a missing chunk is an error")
    func chunking() throws {
        let setup = try Setup()
        let store = KafkaCheckpointStore(topic: setup.checkpoints, brokers: setup.cluster.bootstrapServers, additional: ["log_level": "3"])
        var rng = TestRandom(seed: 5)
        let big = (0..<(KafkaCheckpointStore.chunkSize * 2 + 1_000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let small = Array("small".utf8)
        let a = KafkaTopicPartition(topic: "in", partition: 0)
        let b = KafkaTopicPartition(topic: "in", partition: 1)
        let chunks = KafkaCheckpointStore.chunks(a, snapshot: big, id: 42)
        #expect(chunks.count == 3)
        var pc = producerConfig(setup.cluster.bootstrapServers)
        pc.messageMaxBytes = 2_000_000
        let producer = try KafkaProducer(config: pc)
        // An older, larger version of b first: its stale chunk 1 must not be mixed into the newer one.
        for (k, v) in KafkaCheckpointStore.chunks(b, snapshot: big, id: 7) + KafkaCheckpointStore.chunks(b, snapshot: small, id: 8) + chunks {
            try producer.produce(topic: setup.checkpoints, key: k, value: v)
        }
        try producer.flush()
        let loaded = try store.load([a, b, KafkaTopicPartition(topic: "in", partition: 2)])
        #expect(loaded[a] == big)
        #expect(loaded[b] == small)
        #expect(loaded.count == 2)
        // A newer chunk 0 whose other chunks never arrived.
        let partial = KafkaCheckpointStore.chunks(a, snapshot: big.reversed(), id: 43)
        try producer.produce(topic: setup.checkpoints, key: partial[0].0, value: partial[0].1)
        try producer.flush()
        #expect(throws: CheckpointError.self) { _ = try store.load([a]) }
    }

    @Test("a corrupted snapshot stops the job before it processes anything, with a message naming the partition")
    func corruptedSnapshotIsRefused() throws {
        let setup = try Setup()
        let path = NSTemporaryDirectory() + "vigil-ck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try setup.produce(0..<100)
        let group = uniqueName("g")
        let first = try StreamJob(config: setup.config(group: group, checkpoint: .directory(path: path)))
        try setup.run(first, messages: 600)
        try first.close()
        let file = "\(path)/\(setup.input).1.snapshot"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let second = try StreamJob(config: setup.config(group: group, checkpoint: .directory(path: path)))
        var failure: JobError? = nil
        let deadline = Date().addingTimeInterval(30)
        while failure == nil && Date() < deadline {
            do { try second.step() } catch { failure = error }
        }
        // Reported as what it is: a restore whose cause is the snapshot, not a Kafka error.
        #expect(failure?.operation == .restore && failure?.kafka == nil, "\(String(describing: failure))")
        #expect(failure?.description.contains("\(setup.input)/1") == true, "\(String(describing: failure))")
        #expect(failure?.description.contains("corrupted") == true)
        #expect(second.stats.readings == 0)
    }

    @Test("instances starting together on a new directory all bind it to their cluster; another cluster's is refused")
    func concurrentBind() throws {
        let path = NSTemporaryDirectory() + "vigil-ck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for round in 0..<20 {
            try? FileManager.default.removeItem(atPath: path)
            let stores = try (0..<8).map { _ in try DirectoryCheckpointStore(path: path) }
            let failures = Mutex(0)
            DispatchQueue.concurrentPerform(iterations: stores.count) { k in
                do { try stores[k].bind(clusterID: "cluster-A") } catch { failures.withLock { $0 += 1 } }
            }
            #expect(failures.withLock { $0 } == 0, "round \(round)")
            #expect(stores[0].recordedClusterID() == "cluster-A")
            #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["cluster-id"], "no temporary file is left")
            #expect(throws: CheckpointError.self) { try stores[1].bind(clusterID: "cluster-B") }
        }
    }

    @Test("a checkpoint directory written against one cluster is refused on another (its offsets do not apply there)")
    func checkpointsOfAnotherClusterAreRefused() throws {
        let path = NSTemporaryDirectory() + "vigil-ck-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try Setup()
        try first.produce(0..<100)
        let job = try StreamJob(config: first.config(group: uniqueName("g"), checkpoint: .directory(path: path)))
        try first.run(job, messages: 600)
        try job.close()
        let recorded = try String(contentsOfFile: "\(path)/cluster-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!recorded.isEmpty)
        // The same cluster again: the directory is accepted and the job resumes (nothing new to read).
        let again = try StreamJob(config: first.config(group: uniqueName("g"), checkpoint: .directory(path: path)))
        let until = Date().addingTimeInterval(15)
        while again.stats.partitionsRestored < 2 && Date() < until { try again.step() }
        #expect(again.stats.partitionsRestored == 2 && again.stats.readings == 0)
        try again.close()

        // Another cluster (a fresh embedded one: a new cluster id) with the same topic names and as many records.
        let second = try Setup()
        #expect(second.cluster.bootstrapServers != first.cluster.bootstrapServers)
        var config = second.config(group: uniqueName("g"), checkpoint: .directory(path: path))
        config.inputTopics = [first.input]
        try second.cluster.createTopic(first.input, partitions: 2)
        let producer = try KafkaProducer(config: producerConfig(second.cluster.bootstrapServers))
        for i in 0..<600 {
            let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-0\",\"ts\":\(second.t0 + Int64(i) * 1_000),\"value\":5}"
            try producer.produce(topic: first.input, partition: Int32(i % 2), key: Array("E0".utf8), value: Array(json.utf8))
        }
        try producer.flush()
        let other = try StreamJob(config: config)
        var failure: JobError? = nil
        let deadline = Date().addingTimeInterval(30)
        while failure == nil && Date() < deadline {
            do { try other.step() } catch { failure = error }
        }
        #expect(failure?.operation == .restore && failure?.kafka == nil, "\(String(describing: failure))")
        let message = failure?.description ?? ""
        #expect(message.contains("cluster \(recorded)") && message.contains(path), "\(message)")
        #expect(other.stats.readings == 0 && other.stats.partitionsRestored == 0)
        #expect(try String(contentsOfFile: "\(path)/cluster-id", encoding: .utf8).contains(recorded), "the record is kept")
    }
}
