import Foundation
import Testing
import VigilTesting

/// The whole stack as separate processes, with a stream whose outcome is fixed by its seed: `vigil broker`
/// (the embedded cluster), `vigil simulate` (an hour of the chemical park, all of it produced at once),
/// `vigil run` until it has processed every reading (then stopped, so the output topics are final), and
/// `vigil serve` reading the grades and alerts topics back. ``stop()`` ends every process it started.
final class LiveStack {
    typealias Child = RunEndToEndTests.Child
    let broker: Child
    let brokers: String
    let serve: Child
    /// The port `vigil serve` listens on.
    let port: Int
    let pipeline: String
    let workDirectory: String
    /// Readings the simulator produced.
    let readings: Int

    static let topics = [
        "safety.readings", "safety.enterprises", "safety.hazards", "safety.permits", "safety.setpoints", "safety.commitments",
        "safety.offline-notices", "safety.acknowledgements", "risk.window-stats", "risk.anomalies", "risk.grades", "risk.alerts",
        "risk.alerts.urgent", "risk.alerts.regulator", "risk.alerts.equipment", "risk.dlq",
    ]

    init(seed: Int = 7, enterprises: Int = 12) throws {
        let e2e = RunEndToEndTests()
        (broker, brokers) = try e2e.startBroker(partitions: 3, topics: Self.topics)
        workDirectory = NSTemporaryDirectory() + "vigil-live-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        pipeline = packageRoot() + "/Pipelines/chemical-park.yaml"
        // An hour of event time at 10 readings/s (about 36,000 readings, well inside the mock's 5 MiB per
        // partition; dropouts make it fewer).
        let (status, out, err) = try runVigil([
            "simulate", "--pipeline", pipeline, "--brokers", brokers, "--enterprises", "\(enterprises)", "--duration", "1h", "--rate", "10",
            "--seed", "\(seed)", "--fast",
        ])
        // "simulated N readings, …"
        guard status == 0, let n = out.split(separator: " ").dropFirst().first.flatMap({ Int($0) }), n > 0 else {
            throw StackError(description: "vigil simulate failed: \(out) \(err)")
        }
        injectedAt = Int64(Date().timeIntervalSince1970 * 1000) + 1_000
        readings = n + (try Self.injectKnownAlarms(brokers: brokers, at: injectedAt))
        let run = try Child([
            "run", pipeline, "--brokers", brokers, "--http", "127.0.0.1:0", "--checkpoint-store", "none", "--session-timeout-ms", "6000",
        ])
        guard run.waitFor("metrics on http://127.0.0.1:", seconds: 60) else {
            throw StackError(description: "vigil run did not start: \(run.stderr)")
        }
        let runPort = Self.port(in: run.stderr, after: "metrics on http://127.0.0.1:")
        let deadline = Date().addingTimeInterval(180)
        var processed = 0.0
        while Date() < deadline {
            processed = e2e.metric(runPort, "vigil_readings_total") ?? 0
            // Readings re-read after a rebalance between the run's workers (no checkpoint store) count twice, so
            // the count alone does not say the run is done: every assigned partition must also have no lag.
            if processed >= Double(readings) && Self.caughtUp(port: runPort) { break }
            usleep(300_000)
        }
        // Stopping flushes the last outputs; afterwards the grades and alerts topics do not change.
        run.terminate()
        run.process.waitUntilExit()
        guard processed >= Double(readings), run.process.terminationStatus == 0 else {
            throw StackError(
                description: "vigil run processed \(processed) of \(readings) readings, exit \(run.process.terminationStatus): \(run.stderr)")
        }
        serve = try Child(["serve", "--pipeline", pipeline, "--brokers", brokers, "--http", "127.0.0.1:0"])
        guard serve.waitFor("metrics on http://127.0.0.1:", seconds: 60) else {
            throw StackError(description: "vigil serve did not start: \(serve.stderr)")
        }
        port = Self.port(in: serve.stderr, after: "metrics on http://127.0.0.1:")
        guard serve.waitFor("live state: caught up", seconds: 60) else {
            throw StackError(description: "vigil serve did not catch up: \(serve.stderr)")
        }
    }

    /// Event time (ms) of the first injected reading, just after the simulated hour.
    let injectedAt: Int64
    /// The alert ids the injected readings open: an H2S AL2 (red, due in 5 min) that the last reading, 7 min
    /// later, makes overdue, and a flammable-gas AL1 (yellow, due in 2 h) that stays open. Both are raised by
    /// their second reading, 10 s after the first (the types' on_delay is 5 s).
    var injectedAlerts: (overdue: String, open: String) {
        ("E0001-AT-H2S-901/h2s/\(injectedAt + 10_000)", "E0002-GT-901/flammable_gas/\(injectedAt + 10_000)")
    }

    /// Produces, with kcat, readings that end the stream with known open alerts (the simulated incidents have
    /// all ended by then); returns how many.
    private static func injectKnownAlarms(brokers: String, at injectedAt: Int64) throws -> Int {
        var lines: [String] = []
        func reading(_ enterprise: String, _ sensor: String, _ ts: Int64, _ value: Double) {
            lines.append(#"\#(enterprise)|{"enterprise":"\#(enterprise)","sensor":"\#(sensor)","ts":\#(ts),"value":\#(value)}"#)
        }
        for i in Int64(0)..<7 {
            reading("E0001", "E0001-AT-H2S-901", injectedAt + i * 10_000, 25)
            reading("E0002", "E0002-GT-901", injectedAt + i * 10_000, 30)
        }
        reading("E0001", "E0001-AT-H2S-901", injectedAt + 420_000, 25)
        let (status, _, err) = try runProcess(
            "/usr/bin/kcat", ["-P", "-b", brokers, "-t", "safety.readings", "-K", "|", "-X", "log_level=3"],
            input: lines.joined(separator: "\n") + "\n")
        guard status == 0 else { throw StackError(description: "kcat -P: \(err)") }
        return lines.count
    }

    func stop() {
        for child in [serve, broker] {
            child.terminate()
            child.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: workDirectory)
    }

    /// Whether the run's metrics show a lag of 0 on every assigned partition (and some partition assigned).
    static func caughtUp(port: Int) -> Bool {
        guard let metrics = MetricsScrape(port: port) else { return false }
        let lags = metrics.values("vigil_consumer_lag")
        return !lags.isEmpty && lags.allSatisfy { $0 == 0 } && metrics.value("vigil_assigned_partitions") == Double(lags.count)
    }

    static func port(in log: String, after prefix: String) -> Int {
        let line = log.split(separator: "\n").first { $0.contains(prefix) } ?? ""
        return Int(line.components(separatedBy: prefix).last?.split(separator: "/").first ?? "") ?? 0
    }

    /// A GET of the API as a JSON object, with its status.
    func api(_ path: String) throws -> (status: Int, json: [String: Any]) {
        let (_, out, _) = try runProcess("/usr/bin/curl", ["-s", "--max-time", "10", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"])
        let status = Int(out.split(separator: "\n").last ?? "") ?? 0
        let body = out.split(separator: "\n").dropLast().joined(separator: "\n")
        return (status, (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:])
    }

    /// Every record of a topic, read by kcat (read committed), as JSON objects in partition order.
    func topic(_ name: String) throws -> [[String: Any]] {
        let (status, text, err) = try runProcess(
            "/usr/bin/kcat", ["-C", "-b", brokers, "-t", name, "-o", "beginning", "-e", "-q", "-f", "%s\n", "-X", "isolation.level=read_committed"])
        guard status == 0 else { throw StackError(description: "kcat \(name): \(err)") }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    struct StackError: Error, CustomStringConvertible {
        var description: String
    }
}
