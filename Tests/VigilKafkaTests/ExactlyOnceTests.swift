import Foundation
import Testing
import VigilKafka
import VigilTesting

/// Exactly-once on a broker that enforces transactions (noida-db, not the mock cluster), through `vigil run
/// --checkpoint-store kafka` as separate processes, outputs read by kcat.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct ExactlyOnceTests {
    static let sinks = ["window-stats", "anomalies", "grades", "alerts", "dlq"]
    /// This test's namespace of topics, groups and pipeline names (unique, so that the tests can run again on
    /// a cluster that keeps its topics: `VIGIL_TEST_BROKERS`).
    let ns = "eo\(UUID().uuidString.prefix(6).lowercased())"
    var input: String { "\(ns).readings" }

    /// A child `vigil` process with its stderr in a file.
    final class Child {
        let process = Process()
        let errPath = NSTemporaryDirectory() + "vigil-eo-\(UUID().uuidString.prefix(8)).err"
        init(_ arguments: [String], environment: [String: String] = [:]) throws {
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: try vigilExecutable())
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardError = FileHandle(forWritingAtPath: errPath)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }
        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(atPath: errPath)
        }
    }

    /// A pipeline reading `input`, writing to `<output>.<sink>`, checkpointing to the kafka store every second.
    func pipeline(name: String, group: String, output: String, input: String? = nil) throws -> String {
        let path = NSTemporaryDirectory() + "vigil-eo-\(name)-\(UUID().uuidString.prefix(8)).yaml"
        let yaml = """
            version: 1
            name: \(name)
            consumer_group: \(group)
            sources:
              readings: { topic: \(input ?? self.input), out_of_orderness: 5s, idle_timeout: 1h }
            windows:
              - { name: minute, kind: tumbling, size: 1m, allowed_lateness: 30s, statistics: [count, mean, min, max, p95] }
              - { name: ten, kind: hopping, size: 10m, slide: 1m, emit: final, statistics: [count, mean, p50] }
            sensor_types:
              flammable_gas: { match: ["-GT-"], unit: "%LEL", al1: 25, al2: 50, deadband: 2, on_delay: 5s, range: [0, 100], period: 10s }
              h2s: { match: ["-AT-H2S"], unit: mg/m3, al1: 10, al2: 20, deadband: 1, on_delay: 5s, range: [0, 100], period: 10s }
            risk: { heartbeat: 10m }
            sinks:
              window_stats: \(output).window-stats
              anomalies: \(output).anomalies
              grades: \(output).grades
              alerts: \(output).alerts
              dlq: \(output).dlq
            checkpoint: { store: kafka, interval: 1s }
            metrics: { port: 0 }
            """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run(_ pipeline: String, brokers: String, instance: String, environment: [String: String] = [:]) throws -> Child {
        try Child(
            ["run", pipeline, "--brokers", brokers, "--checkpoint-store", "kafka", "--instance-id", instance, "--http", "127.0.0.1:0"],
            environment: environment)
    }

    /// `/metrics` of a running instance.
    func metrics(_ child: Child) -> String {
        let line = child.stderr.split(separator: "\n").first { $0.contains("metrics on http://127.0.0.1:") } ?? ""
        let port = line.components(separatedBy: "metrics on http://127.0.0.1:").last?.split(separator: "/").first ?? ""
        return (try? runProcess("/usr/bin/curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(port)/metrics"]).out) ?? ""
    }

    /// Waits until the instance reports every one of the input's 3 partitions at lag 0 after `readings` or more.
    func waitCaughtUp(_ child: Child, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && child.process.isRunning {
            let lags = metrics(child).split(separator: "\n").filter { $0.hasPrefix("vigil_consumer_lag{") }
            if lags.count == 3 && lags.allSatisfy({ Double($0.split(separator: " ").last ?? "") == 0 }) { return true }
            usleep(300_000)
        }
        return false
    }

    /// Copies `lines` (`key|value`) to the input topic with kcat.
    func produce(_ lines: ArraySlice<String>, brokers: String) throws {
        let (status, _, err) = try runProcess(
            "/usr/bin/kcat", ["-P", "-b", brokers, "-t", input, "-K", "|", "-X", "log_level=3"], input: lines.joined(separator: "\n") + "\n")
        #expect(status == 0, "kcat -P: \(err)")
    }

    /// Waits until the instance's `/metrics` shows at least `count` checkpoints.
    func waitCheckpoints(_ child: Child, _ count: Double, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && child.process.isRunning {
            let line = metrics(child).split(separator: "\n").first { $0.hasPrefix("vigil_checkpoints_total{") }
            if let n = line.flatMap({ Double($0.split(separator: " ").last ?? "") }), n >= count { return true }
            usleep(200_000)
        }
        return false
    }

    func stop(_ child: Child) {
        kill(child.process.processIdentifier, SIGTERM)
        child.process.waitUntilExit()
    }

    /// Every record of `<prefix>.<sink>` as `partition|key|value`, per sink, at an isolation level.
    func outputs(_ prefix: String, brokers: String, committed: Bool = true) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for sink in Self.sinks {
            let (status, text, err) = try runProcess(
                "/usr/bin/kcat",
                [
                    "-C", "-b", brokers, "-t", "\(prefix).\(sink)", "-o", "beginning", "-e", "-q", "-f", "%p|%k|%s\n", "-X", "log_level=3", "-X",
                    "isolation.level=\(committed ? "read_committed" : "read_uncommitted")",
                ])
            #expect(status == 0, "kcat \(prefix).\(sink): \(err)")
            out[sink] = text.split(separator: "\n").map(String.init)
        }
        return out
    }

    /// The broker of these tests: `VIGIL_TEST_BROKERS` (any cluster, left running) or else a noida-db started
    /// for the test and stopped after it.
    final class Cluster {
        let bootstrapServers: String
        let noida: NoidaBroker?
        init() throws {
            if let external = ProcessInfo.processInfo.environment["VIGIL_TEST_BROKERS"], !external.isEmpty {
                (bootstrapServers, noida) = (external, nil)
            } else {
                let noida = try NoidaBroker()
                (bootstrapServers, self.noida) = (noida.bootstrapServers, noida)
            }
        }
        func stop() { noida?.stop() }
    }

    /// The broker with the input, a staging topic and the output topics of `prefixes` (3 partitions each), and
    /// 20 minutes of three enterprises' gas and H2S points with incidents (6,000 readings) simulated into the
    /// staging topic, returned as `key|value` lines for the test to copy to the input when it wants them.
    func setUp(_ prefixes: [String]) throws -> (Cluster, [String]) {
        let broker = try Cluster()
        let brokers = broker.bootstrapServers
        let admin = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: ["log_level": "3"])
        let topics = [input, "\(ns).staging"] + prefixes.flatMap { p in Self.sinks.map { "\(ns).\(p).\($0)" } }
        try admin.createTopics(topics.map { KafkaTopicSpec(name: $0, partitions: 3) })
        let staging = try pipeline(name: "\(ns)-staging", group: "\(ns).staging", output: "\(ns).staging", input: "\(ns).staging")
        let (status, _, err) = try runProcess(
            try vigilExecutable(),
            [
                "simulate", "--pipeline", staging, "--brokers", brokers, "--enterprises", "3", "--duration", "20m", "--rate", "5", "--seed", "11",
                "--fast",
            ])
        guard status == 0 else { throw NoidaBroker.StartFailure(description: "vigil simulate: \(err)") }
        let (_, text, _) = try runProcess(
            "/usr/bin/kcat", ["-C", "-b", brokers, "-t", "\(ns).staging", "-o", "beginning", "-e", "-q", "-f", "%k|%s\n", "-X", "log_level=3"])
        let staged = text.split(separator: "\n").map(String.init)
        guard staged.count > 1_000 else { throw NoidaBroker.StartFailure(description: "only \(staged.count) readings staged") }
        return (broker, staged)
    }

    /// The setup, or a recorded failure that says loudly why there is none.
    func setUpOrFail(_ prefixes: [String]) -> (Cluster, [String])? {
        do {
            return try setUp(prefixes)
        } catch {
            Issue.record("NOIDA-DB COULD NOT BE SET UP, so exactly-once is unproven: \(error)")
            return nil
        }
    }

    /// The outputs of one uninterrupted run of the whole input (`eo.ref.*`).
    func reference(brokers: String) throws -> [String: [String]] {
        let ref = try pipeline(name: "\(ns)-ref", group: "\(ns).ref", output: "\(ns).ref")
        let reference = try run(ref, brokers: brokers, instance: "ref")
        #expect(waitCaughtUp(reference, seconds: 120), "the reference run did not catch up: \(reference.stderr)")
        #expect(try waitCommitted("\(ns).ref", brokers: brokers, seconds: 120), "the reference run did not commit: \(reference.stderr)")
        stop(reference)
        #expect(reference.process.terminationStatus == 0, "\(reference.stderr)")
        let expected = try outputs("\(ns).ref", brokers: brokers)
        #expect((expected["window-stats"] ?? []).count > 100)
        return expected
    }

    /// The group's committed offsets on the input's 3 partitions (nil: none), and the partitions' ends (the
    /// input is neither transactional nor compacted, so its record count per partition).
    func groupOffsets(_ group: String, brokers: String) throws -> (committed: [Int64?], ends: [Int64]) {
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: group)
        cc.additionalConfig = ["log_level": "3"]
        let consumer = try KafkaConsumer(config: cc)
        defer { try? consumer.close() }
        let partitions = (0..<Int32(3)).map { KafkaTopicPartition(topic: input, partition: $0) }
        let committed = try consumer.committed(partitions).sorted { $0.partition < $1.partition }.map(\.offset)
        let (_, text, _) = try runProcess(
            "/usr/bin/kcat", ["-C", "-b", brokers, "-t", input, "-o", "beginning", "-e", "-q", "-f", "%p\n", "-X", "log_level=3"])
        let perPartition = text.split(separator: "\n").reduce(into: [Int64](repeating: 0, count: 3)) { ends, p in ends[Int(p) ?? 0] += 1 }
        return (committed, perPartition)
    }

    /// The records of `topic` that VigilKafka's consumer reads, to the partitions' ends.
    func vigilCount(_ topic: String, brokers: String) throws -> Int {
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "\(ns).reader.\(UUID().uuidString.prefix(6))")
        cc.additionalConfig = ["log_level": "3"]
        let consumer = try KafkaConsumer(config: cc)
        defer { try? consumer.close() }
        try consumer.assign((0..<Int32(3)).map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) })
        var count = 0
        var idle = 0
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && idle < 10 {
            let n = try consumer.poll(maxMessages: 10_000, timeoutMs: 200) { _ in count += 1 }
            idle = n == 0 ? idle + 1 : 0
        }
        return count
    }

    /// Waits until `groups` together have committed every partition of the input to its end (per partition,
    /// the furthest of their offsets): the exact sign that a run has processed and committed everything (its
    /// lag gauge can read 0 before it has fetched new records). A restarted run commits only the partitions
    /// it has made progress on, so its predecessor's group is passed too.
    func waitCommitted(_ groups: String..., brokers: String, seconds: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var furthest = [Int64](repeating: 0, count: 3)
            var ends: [Int64] = []
            for group in groups {
                let (committed, partitionEnds) = try groupOffsets(group, brokers: brokers)
                for (i, c) in committed.enumerated() { furthest[i] = max(furthest[i], c ?? 0) }
                ends = partitionEnds
            }
            if furthest == ends { return true }
            usleep(500_000)
        }
        return false
    }

    /// Every sink's records, sorted, equal the reference's, with no duplicates.
    func expectEqual(_ got: [String: [String]], _ expected: [String: [String]]) {
        for sink in Self.sinks {
            let (g, e) = ((got[sink] ?? []).sorted(), (expected[sink] ?? []).sorted())
            #expect(
                g == e,
                "\(sink): \(g.count) records against \(e.count); \(Set(g).subtracting(e).count) unexpected, \(Set(e).subtracting(g).count) missing")
            #expect(Set(g).count == g.count || Set(e).count != e.count, "\(sink): duplicates under read_committed")
        }
    }

    @Test(
        "a job killed inside an open transaction: read_committed never shows its outputs; restarted, its committed outputs equal an uninterrupted run's exactly"
    )
    func killedInsideTransaction() throws {
        guard let (broker, staged) = setUpOrFail(["ref", "kill"]) else { return }
        defer { broker.stop() }
        let brokers = broker.bootstrapServers
        try produce(staged[..<(staged.count / 2)], brokers: brokers)

        // The first checkpoint commits; the second's transaction (the second half's outputs) is flushed to
        // the broker, and then the process is killed.
        let kill = try pipeline(name: "\(ns)-kill", group: "\(ns).kill", output: "\(ns).kill")
        let killed = try run(kill, brokers: brokers, instance: "a", environment: ["VIGIL_FAULT_KILL_BEFORE_COMMIT": "2"])
        #expect(waitCheckpoints(killed, 1, seconds: 120), "no first checkpoint: \(killed.stderr)")
        try produce(staged[(staged.count / 2)...], brokers: brokers)
        killed.process.waitUntilExit()
        #expect(killed.process.terminationReason == .uncaughtSignal && killed.process.terminationStatus == SIGKILL, "\(killed.stderr)")
        #expect(killed.stderr.contains("fault point: killed before committing checkpoint 2"), "\(killed.stderr)")

        // The expected outputs: one uninterrupted run over the whole input; its group's offsets are the ends.
        let expected = try reference(brokers: brokers)
        let refOffsets = try groupOffsets("\(ns).ref", brokers: brokers)
        // (A partition that received no reading has nothing to commit.)
        #expect(refOffsets.committed.map { $0 ?? 0 } == refOffsets.ends && refOffsets.ends.reduce(0, +) > 0, "\(refOffsets)")
        // The killed run's group holds the first checkpoint's offsets: the second's went with its transaction.
        let killOffsets = try groupOffsets("\(ns).kill", brokers: brokers)
        let committedSum = killOffsets.committed.compactMap { $0 }.reduce(0, +)
        #expect(committedSum > 0 && committedSum < killOffsets.ends.reduce(0, +), "\(killOffsets)")

        let visible = try outputs("\(ns).kill", brokers: brokers)
        let all = try outputs("\(ns).kill", brokers: brokers, committed: false)
        let (visibleCount, allCount) = (visible.values.map(\.count).reduce(0, +), all.values.map(\.count).reduce(0, +))
        // The open transaction's records are on the broker, and read_committed does not show them; the first
        // checkpoint's are shown.
        #expect(allCount > visibleCount && visibleCount > 0, "uncommitted \(allCount), committed \(visibleCount)")
        for sink in Self.sinks {
            #expect(Set(visible[sink] ?? []).isSubset(of: Set(expected[sink] ?? [])), "\(sink): a committed record the reference lacks")
        }
        // Vigil's own consumer (read committed, its default) sees what kcat's read_committed sees.
        #expect(try vigilCount("\(ns).kill.window-stats", brokers: brokers) == visible["window-stats"]?.count)

        // Restarted with the same instance id (a new transactional producer fences the dead one and aborts its
        // transaction) in a new group: noida-db never expires the killed member, so joining its group hangs.
        // The kafka store's snapshots hold the resume offsets, so the new group resumes where the last commit was.
        let restartPipeline = try pipeline(name: "\(ns)-kill", group: "\(ns).kill.2", output: "\(ns).kill")
        let restarted = try run(restartPipeline, brokers: brokers, instance: "a")
        #expect(waitCaughtUp(restarted, seconds: 120), "the restarted run did not catch up: \(restarted.stderr)")
        #expect(
            try waitCommitted("\(ns).kill.2", "\(ns).kill", brokers: brokers, seconds: 120), "the restarted run did not commit: \(restarted.stderr)")
        stop(restarted)
        #expect(restarted.process.terminationStatus == 0, "\(restarted.stderr)")
        expectEqual(try outputs("\(ns).kill", brokers: brokers), expected)
    }

    @Test("a zombie: a second instance with the same --instance-id fences the first, which stops with a fenced error and writes nothing visible")
    func zombieIsFenced() throws {
        guard let (broker, staged) = setUpOrFail(["ref", "zombie"]) else { return }
        defer { broker.stop() }
        let brokers = broker.bootstrapServers
        try produce(staged[..<(staged.count / 2)], brokers: brokers)
        let first = try run(try pipeline(name: "\(ns)-zombie", group: "\(ns).zombie", output: "\(ns).zombie"), brokers: brokers, instance: "z")
        #expect(waitCaughtUp(first, seconds: 120), "\(first.stderr)")
        // The successor: same pipeline and instance id, so the same transactional.id (in another group, as a
        // partitioned-off instance's replacement could be, and because noida-db cannot expire the first).
        let second = try run(try pipeline(name: "\(ns)-zombie", group: "\(ns).zombie.2", output: "\(ns).zombie"), brokers: brokers, instance: "z")
        #expect(waitCaughtUp(second, seconds: 120), "\(second.stderr)")
        // Both read the second half; only the successor may write it.
        try produce(staged[(staged.count / 2)...], brokers: brokers)
        let deadline = Date().addingTimeInterval(60)
        while first.process.isRunning && Date() < deadline { usleep(200_000) }
        #expect(!first.process.isRunning, "the fenced instance is still running: \(first.stderr)")
        if first.process.isRunning { stop(first) }
        first.process.waitUntilExit()
        #expect(first.process.terminationStatus != 0)
        #expect(first.stderr.lowercased().contains("fenced"), "no fenced error: \(first.stderr)")
        #expect(try waitCommitted("\(ns).zombie.2", "\(ns).zombie", brokers: brokers, seconds: 120), "the successor did not commit: \(second.stderr)")
        stop(second)
        #expect(second.process.terminationStatus == 0, "\(second.stderr)")
        expectEqual(try outputs("\(ns).zombie", brokers: brokers), try reference(brokers: brokers))
    }

    @Test("the checkpoint topic is compacted, and a job resumes from its latest snapshot after compaction")
    func resumesAfterCompaction() throws {
        guard let (broker, staged) = setUpOrFail(["ref", "compact"]) else { return }
        defer { broker.stop() }
        let brokers = broker.bootstrapServers
        // The checkpoint topic, made before the job would make it, with settings that let noida-db compact
        // at once (the job's own topic is compacted with the broker's defaults).
        let checkpoints = "vigil.\(ns)-compact.checkpoints"
        let admin = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: ["log_level": "3"])
        try admin.createTopics([
            KafkaTopicSpec(
                name: checkpoints, partitions: 1,
                configs: ["cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01", "min.compaction.lag.ms": "0"])
        ])
        let first = try run(try pipeline(name: "\(ns)-compact", group: "\(ns).compact", output: "\(ns).compact"), brokers: brokers, instance: "c")
        // Four quarters, each checkpointed before the next: four snapshots of each partition.
        let quarter = staged.count / 4
        for q in 0..<4 {
            try produce(staged[(q * quarter)..<(q == 3 ? staged.count : (q + 1) * quarter)], brokers: brokers)
            #expect(waitCheckpoints(first, Double(q + 1), seconds: 60), "checkpoint \(q + 1): \(first.stderr)")
        }
        #expect(try waitCommitted("\(ns).compact", brokers: brokers, seconds: 60), "\(first.stderr)")
        stop(first)
        #expect(first.process.terminationStatus == 0, "\(first.stderr)")
        // Compacted: records with the same key (a partition's chunk) are gone but the newest; the offsets show
        // the holes.
        var offsets: [Int] = []
        var keys: [String] = []
        let deadline = Date().addingTimeInterval(60)
        repeat {
            let (_, text, _) = try runProcess(
                "/usr/bin/kcat", ["-C", "-b", brokers, "-t", checkpoints, "-o", "beginning", "-e", "-q", "-f", "%o %k\n", "-X", "log_level=3"])
            let lines = text.split(separator: "\n")
            offsets = lines.compactMap { Int($0.split(separator: " ").first ?? "") }
            keys = lines.compactMap { $0.split(separator: " ").last.map(String.init) }
            if let last = offsets.last, offsets.count < last + 1 { break }
            usleep(500_000)
        } while Date() < deadline
        #expect(
            !offsets.isEmpty && offsets.count < (offsets.last ?? 0) + 1, "not compacted: \(offsets.count) records up to offset \(offsets.last ?? -1)")
        #expect(Set(keys).count == keys.count || offsets.count < (offsets.last ?? 0) + 1)
        // Nothing more to read: a restart (a new group, so only the compacted snapshots say where to resume)
        // must produce nothing new, and the outputs stay the reference's.
        let second = try run(try pipeline(name: "\(ns)-compact", group: "\(ns).compact.2", output: "\(ns).compact"), brokers: brokers, instance: "c")
        #expect(waitCaughtUp(second, seconds: 60), "\(second.stderr)")
        // Every partition that received readings is restored (the simulator's keys may leave one empty).
        let (_, inputText, _) = try runProcess(
            "/usr/bin/kcat", ["-C", "-b", brokers, "-t", input, "-o", "beginning", "-e", "-q", "-f", "%p\n", "-X", "log_level=3"])
        let used = Set(inputText.split(separator: "\n")).count
        #expect(used > 0 && restoredPartitions(inLog: second.stderr) == used, "\(used) partitions with readings: \(second.stderr)")
        stop(second)
        #expect(second.process.terminationStatus == 0, "\(second.stderr)")
        expectEqual(try outputs("\(ns).compact", brokers: brokers), try reference(brokers: brokers))
    }
}
