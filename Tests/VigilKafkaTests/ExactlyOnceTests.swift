import Foundation
import Testing
import VigilKafka
import VigilTesting

/// Exactly-once on a broker that enforces transactions (noida-db, not the mock cluster), through `vigil run
/// --checkpoint-store kafka` as separate processes, outputs read by kcat.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ExactlyOnceTests {
    static let sinks = ["window-stats", "anomalies", "grades", "alerts", "dlq"]
    static let input = "eo.readings"

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
    func pipeline(name: String, group: String, output: String, input: String = ExactlyOnceTests.input) throws -> String {
        let path = NSTemporaryDirectory() + "vigil-eo-\(name)-\(UUID().uuidString.prefix(8)).yaml"
        let yaml = """
            version: 1
            name: \(name)
            consumer_group: \(group)
            sources:
              readings: { topic: \(input), out_of_orderness: 5s, idle_timeout: 1h }
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
            "/usr/bin/kcat", ["-P", "-b", brokers, "-t", Self.input, "-K", "|", "-X", "log_level=3"], input: lines.joined(separator: "\n") + "\n")
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

    @Test(
        "a job killed inside an open transaction: read_committed never shows its outputs; restarted, its committed outputs equal an uninterrupted run's exactly"
    )
    func killedInsideTransaction() throws {
        let broker: NoidaBroker
        do {
            broker = try NoidaBroker()
        } catch {
            Issue.record("NOIDA-DB COULD NOT START, so exactly-once is unproven: \(error)")
            return
        }
        defer { broker.stop() }
        let brokers = broker.bootstrapServers
        let admin = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: ["log_level": "3"])
        let topics = [Self.input, "eo.staging"] + ["ref", "kill"].flatMap { p in Self.sinks.map { "eo.\(p).\($0)" } }
        try admin.createTopics(topics.map { KafkaTopicSpec(name: $0, partitions: 3) })

        // 20 minutes of three enterprises' gas and H2S points with incidents (6,000 readings) into a staging
        // topic, copied to the input in two halves so that the killed run has a committed checkpoint first.
        let staging = try pipeline(name: "eo-staging", group: "eo.staging", output: "eo.staging", input: "eo.staging")
        let (status, _, err) = try runProcess(
            try vigilExecutable(),
            [
                "simulate", "--pipeline", staging, "--brokers", brokers, "--enterprises", "3", "--duration", "20m", "--rate", "5", "--seed", "11",
                "--fast",
            ])
        try #require(status == 0, "vigil simulate: \(err)")
        let (_, stagedText, _) = try runProcess(
            "/usr/bin/kcat", ["-C", "-b", brokers, "-t", "eo.staging", "-o", "beginning", "-e", "-q", "-f", "%k|%s\n", "-X", "log_level=3"])
        let staged = stagedText.split(separator: "\n").map(String.init)
        try #require(staged.count > 1_000, "\(staged.count) readings staged")
        try produce(staged[..<(staged.count / 2)], brokers: brokers)

        // The first checkpoint commits; the second's transaction (the second half's outputs) is flushed to
        // the broker, and then the process is killed.
        let kill = try pipeline(name: "eo-kill", group: "eo.kill", output: "eo.kill")
        let killed = try run(kill, brokers: brokers, instance: "a", environment: ["VIGIL_FAULT_KILL_BEFORE_COMMIT": "2"])
        #expect(waitCheckpoints(killed, 1, seconds: 120), "no first checkpoint: \(killed.stderr)")
        try produce(staged[(staged.count / 2)...], brokers: brokers)
        killed.process.waitUntilExit()
        #expect(killed.process.terminationReason == .uncaughtSignal && killed.process.terminationStatus == SIGKILL, "\(killed.stderr)")
        #expect(killed.stderr.contains("fault point: killed before committing checkpoint 2"), "\(killed.stderr)")

        // The expected outputs: one uninterrupted run over the whole input.
        let ref = try pipeline(name: "eo-ref", group: "eo.ref", output: "eo.ref")
        let reference = try run(ref, brokers: brokers, instance: "ref")
        #expect(waitCaughtUp(reference, seconds: 120), "the reference run did not catch up: \(reference.stderr)")
        stop(reference)
        #expect(reference.process.terminationStatus == 0, "\(reference.stderr)")
        let expected = try outputs("eo.ref", brokers: brokers)
        #expect((expected["window-stats"] ?? []).count > 100)

        let visible = try outputs("eo.kill", brokers: brokers)
        let all = try outputs("eo.kill", brokers: brokers, committed: false)
        let (visibleCount, allCount) = (visible.values.map(\.count).reduce(0, +), all.values.map(\.count).reduce(0, +))
        // The open transaction's records are on the broker, and read_committed does not show them; the first
        // checkpoint's are shown.
        #expect(allCount > visibleCount && visibleCount > 0, "uncommitted \(allCount), committed \(visibleCount)")
        for sink in Self.sinks {
            #expect(Set(visible[sink] ?? []).isSubset(of: Set(expected[sink] ?? [])), "\(sink): a committed record the reference lacks")
        }

        // Restarted with the same instance id (a new transactional producer fences the dead one and aborts its
        // transaction) in a new group: noida-db never expires the killed member, so joining its group hangs.
        // The kafka store's snapshots hold the resume offsets, so the new group resumes where the last commit was.
        let restartPipeline = try pipeline(name: "eo-kill", group: "eo.kill.2", output: "eo.kill")
        let restarted = try run(restartPipeline, brokers: brokers, instance: "a")
        #expect(waitCaughtUp(restarted, seconds: 120), "the restarted run did not catch up: \(restarted.stderr)")
        stop(restarted)
        #expect(restarted.process.terminationStatus == 0, "\(restarted.stderr)")
        let got = try outputs("eo.kill", brokers: brokers)
        for sink in Self.sinks {
            let (g, e) = ((got[sink] ?? []).sorted(), (expected[sink] ?? []).sorted())
            #expect(
                g == e,
                "\(sink): \(g.count) records against \(e.count); \(Set(g).subtracting(e).count) unexpected, \(Set(e).subtracting(g).count) missing")
            #expect(Set(g).count == g.count || Set(e).count != e.count, "\(sink): duplicates under read_committed")
        }
    }
}
