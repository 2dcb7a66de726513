import Foundation
import Testing
import VigilTesting

/// End to end with real processes: `vigil broker` (the embedded cluster), `vigil run` (the pipeline), and kcat.
@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct RunEndToEndTests {
    static var vigil: String { (try? vigilExecutable()) ?? "vigil" }

    /// A child process whose stderr goes to a file we can watch.
    final class Child {
        let process = Process()
        let errPath: String
        init(_ arguments: [String], stdout: FileHandle? = nil) throws {
            errPath = NSTemporaryDirectory() + "vigil-e2e-\(UUID().uuidString).err"
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: RunEndToEndTests.vigil)
            process.arguments = arguments
            process.standardError = FileHandle(forWritingAtPath: errPath)
            if let stdout { process.standardOutput = stdout }
            try process.run()
        }
        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        func waitFor(_ text: String, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if stderr.contains(text) { return true }
                usleep(100_000)
            }
            return false
        }
        func terminate() {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        }
        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(atPath: errPath)
        }
    }

    func startBroker(partitions: Int, topics: [String]) throws -> (Child, String) {
        let out = Pipe()
        let broker = try Child(["broker", "--partitions", "\(partitions)"] + topics.flatMap { ["--topic", $0] }, stdout: out.fileHandleForWriting)
        var data = Data()
        while !data.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            data.append(chunk)
        }
        let address = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return (broker, address)
    }

    func startRun(_ pipeline: String, brokers: String) throws -> (Child, Int) {
        let run = try Child([
            "run", pipeline, "--brokers", brokers, "--metrics-port", "0", "--metrics-address", "127.0.0.1",
            "--session-timeout-ms", "6000",
        ])
        #expect(run.waitFor("metrics on http://127.0.0.1:", seconds: 30), "vigil run did not start: \(run.stderr)")
        let line = run.stderr.split(separator: "\n").first { $0.contains("metrics on http://127.0.0.1:") } ?? ""
        let port = Int(line.split(separator: ":").last?.split(separator: "/").first ?? "") ?? 0
        return (run, port)
    }

    func metric(_ port: Int, _ name: String) -> Double? { MetricsScrape(port: port)?.value(name) }

    @discardableResult
    func shell(_ path: String, _ arguments: [String], input: String? = nil) throws -> (Int32, String, String) {
        try runProcess(path, arguments, input: input)
    }

    func writePipeline(group: String, input: String, output: String, dlq: String) throws -> String {
        let path = NSTemporaryDirectory() + "vigil-e2e-\(UUID().uuidString).yaml"
        let yaml = """
            name: e2e
            consumer_group: \(group)
            sources:
              readings: { topic: \(input), out_of_orderness: 0s, idle_timeout: 1h, past_horizon: 3650d }
            windows:
              - { name: minute, kind: tumbling, size: 1m, statistics: [count, mean, min, max] }
            sensor_types:
              gas: { match: ["-GT-"], unit: "%LEL", al1: 25, al2: 50, deadband: 2 }
            sinks: { window_stats: \(output), dlq: \(dlq), alerts: \(output).alerts, anomalies: \(output).anomalies, grades: \(output).grades }
            checkpoint: { interval: 1s, path: "\(NSTemporaryDirectory())vigil-e2e-state-\(UUID().uuidString)" }
            """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("kcat → vigil run → kcat: exact window rows, metrics and a clean stop")
    func exactWindowsThroughProcesses() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat"))
        let (input, output, dlq) = ("e2e.readings", "e2e.window-stats", "e2e.dlq")
        let (broker, brokers) = try startBroker(partitions: 3, topics: [input, output, dlq])
        defer { broker.terminate() }
        let pipeline = try writePipeline(group: "vigil.e2e-\(UUID().uuidString.prefix(8))", input: input, output: output, dlq: dlq)
        let (run, port) = try startRun(pipeline, brokers: brokers)
        defer { run.terminate() }

        // 3 enterprises × 2 sensors × 120 s at 1 Hz, values base + (i mod 5); then one reading per enterprise
        // 5 minutes later, which moves each partition's watermark past both windows.
        let t0: Int64 = 1_700_000_040_000
        var lines: [String] = []
        for i in 0..<120 {
            for e in 1...3 {
                for s in 1...2 {
                    let value = Double(10 * e + s) + Double(i % 5)
                    lines.append("E\(e)|{\"enterprise\":\"E\(e)\",\"sensor\":\"E\(e)-GT-\(s)\",\"ts\":\(t0 + Int64(i) * 1_000),\"value\":\(value)}")
                }
            }
        }
        for e in 1...3 { lines.append("E\(e)|{\"enterprise\":\"E\(e)\",\"sensor\":\"E\(e)-CLOSE\",\"ts\":\(t0 + 300_000),\"value\":0}") }
        let (status, _, err) = try shell(
            "/usr/bin/kcat", ["-P", "-b", brokers, "-t", input, "-K", "|", "-X", "log_level=3"], input: lines.joined(separator: "\n") + "\n")
        #expect(status == 0, "\(err)")

        var rows: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(60)
        while rows.count < 12 && Date() < deadline {
            let (_, out, _) = try shell("/usr/bin/kcat", ["-C", "-b", brokers, "-t", output, "-o", "beginning", "-e", "-q", "-X", "log_level=3"])
            rows = out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            if rows.count < 12 { usleep(500_000) }
        }
        #expect(rows.count == 12, "rows: \(rows.count); vigil stderr: \(run.stderr)")
        for row in rows {
            let sensor = row["sensor"] as? String ?? ""
            let e = Int(sensor.dropFirst().prefix(1)) ?? 0
            let s = Int(sensor.suffix(1)) ?? 0
            let base = Double(10 * e + s)
            #expect(row["count"] as? Int == 60, "\(row)")
            #expect(abs((row["mean"] as? Double ?? 0) - (base + 2)) < 1e-12, "\(row)")  // Welford: exact to rounding
            #expect(row["min"] as? Double == base && row["max"] as? Double == base + 4)
            #expect(row["window"] as? String == "minute")
            #expect([t0, t0 + 60_000].contains((row["window_start"] as? NSNumber)?.int64Value ?? 0))
        }
        // Gas values are base + (i mod 5) with bases 11, 12, 21, 22, 31, 32: E2 sensors touch AL1 = 25 and fall back
        // below 25 − deadband 2 every cycle (raised … cleared, repeatedly); E3 sensors stay above (raised once); E1 never.
        let (_, alertText, _) = try shell(
            "/usr/bin/kcat", ["-C", "-b", brokers, "-t", output + ".alerts", "-o", "beginning", "-e", "-q", "-X", "log_level=3"])
        let alerts = alertText.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        func events(_ kind: String, _ sensor: String) -> Int {
            alerts.filter { $0["event"] as? String == kind && $0["sensor"] as? String == sensor }.count
        }
        let raised = Set(alerts.filter { $0["event"] as? String == "raised" }.compactMap { $0["sensor"] as? String })
        #expect(raised == ["E2-GT-1", "E2-GT-2", "E3-GT-1", "E3-GT-2"], "\(alertText)")
        #expect(events("raised", "E3-GT-1") == 1 && events("cleared", "E3-GT-1") == 0)
        // Raised at i = 4, 9, …, 119 (24 times), cleared at the next reading each time but the last (23).
        #expect(events("raised", "E2-GT-1") == 24 && events("cleared", "E2-GT-1") == 23)
        #expect(!alerts.contains { $0["level"] as? String == "AL2" })
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
        for line in alertText.split(separator: "\n") {
            #expect(schema.validate(json: Data(line.utf8)).isEmpty, "\(line): \(schema.validate(json: Data(line.utf8)))")
        }
        #expect(alerts.allSatisfy { ($0["alert_id"] as? String)?.hasPrefix(($0["sensor"] as? String ?? "") + "/gas/") == true })
        // Anomalies: readings at AL1 score 0.7 (≥ the 0.6 floor) — E2 and E3 sensors; E1's steady cycle scores nothing.
        let (_, anomalyText, _) = try shell(
            "/usr/bin/kcat", ["-C", "-b", brokers, "-t", output + ".anomalies", "-o", "beginning", "-e", "-q", "-X", "log_level=3"])
        let anomalies = anomalyText.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let anomalous = Set(anomalies.compactMap { $0["sensor"] as? String })
        #expect(anomalous.isSuperset(of: ["E2-GT-1", "E2-GT-2", "E3-GT-1", "E3-GT-2"]), "\(anomalous)")
        #expect(!anomalous.contains("E1-GT-1") && !anomalous.contains("E1-GT-2"))
        let anomalySchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.anomalies.v1.schema.json")
        for line in anomalyText.split(separator: "\n") { #expect(anomalySchema.validate(json: Data(line.utf8)).isEmpty, "\(line)") }
        // Grades: one record per enterprise at least; E2 (alarms raised and cleared 24 times per sensor) has a
        // higher alarm factor than E3 (alarms raised once and kept); seq counts each enterprise's records.
        let (_, gradeText, _) = try shell(
            "/usr/bin/kcat", ["-C", "-b", brokers, "-t", output + ".grades", "-o", "beginning", "-e", "-q", "-X", "log_level=3"])
        let grades = gradeText.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(Set(grades.compactMap { $0["enterprise"] as? String }) == ["E1", "E2", "E3"], "\(gradeText)")
        func alarmFactor(_ e: String) -> Double {
            let last = grades.last { $0["enterprise"] as? String == e }
            return ((last?["factors"] as? [String: Any])?["alarm"] as? NSNumber)?.doubleValue ?? -1
        }
        // E2's points chatter (a raise every 5 s): ISA-18.2 counts a chattering point once per 10 min, so its 24
        // raises do not push E2's grade above E3's (whose alarms stay raised).
        #expect(alarmFactor("E3") > alarmFactor("E1"))
        #expect(alarmFactor("E2") <= alarmFactor("E3"))
        // Their records after the third raise within a minute are marked chattering (written, not routed).
        let e2 = alerts.filter { $0["sensor"] as? String == "E2-GT-1" }
        #expect(e2.prefix(4).allSatisfy { $0["suppressed"] is NSNull }, "\(e2.prefix(5))")
        #expect(e2.dropFirst(4).allSatisfy { $0["suppressed"] as? String == "chattering" }, "\(e2.prefix(8))")
        #expect(alerts.filter { $0["sensor"] as? String == "E3-GT-1" }.allSatisfy { $0["suppressed"] is NSNull })
        #expect(alarmFactor("E1") == 0)
        #expect(grades.filter { $0["enterprise"] as? String == "E1" }.first?["seq"] as? Int == 1)
        let gradeSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for line in gradeText.split(separator: "\n") { #expect(gradeSchema.validate(json: Data(line.utf8)).isEmpty, "\(line)") }
        // `vigil explain` prints the newest grade of E2 factor by factor, with the same alarm factor.
        let (explainStatus, explanation, explainErr) = try shell(
            Self.vigil, ["explain", "--pipeline", pipeline, "--brokers", brokers, "--enterprise", "E2"]
        )
        #expect(explainStatus == 0, "\(explainErr)")
        #expect(explanation.hasPrefix("Enterprise E2 — "), "\(explanation)")
        #expect(explanation.contains("R_dyn = min(100, B + w·A + O + H + Q + C)"))
        #expect(explanation.contains("A  alarm behaviour") && explanation.contains(String(format: "%.1f", alarmFactor("E2"))), "\(explanation)")
        let (missingStatus, _, missingErr) = try shell(Self.vigil, ["explain", "--pipeline", pipeline, "--brokers", brokers, "--enterprise", "E9"])
        #expect(missingStatus != 0 && missingErr.contains("no grade of enterprise 'E9'"), "\(missingErr)")
        // Metrics reflect what happened.
        var readings: Double? = nil
        let metricsDeadline = Date().addingTimeInterval(20)
        while readings != 723 && Date() < metricsDeadline {
            readings = metric(port, "vigil_readings_total")
            usleep(200_000)
        }
        #expect(readings == 723)
        #expect(metric(port, "vigil_assigned_partitions") == 3)
        #expect(metric(port, "vigil_table_records_ignored_total") == 0)
        let (_, health, _) = try shell("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/healthz"])
        #expect(health == "ok\n")

        run.terminate()
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 0)
        let log = run.stderr
        let order = ["stopping: batch finished", "checkpointed", "left the consumer group"].map { log.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil }, "\(log)")
        if order.allSatisfy({ $0 != nil }) { #expect(order[0]! < order[1]! && order[1]! < order[2]!) }
    }

    @Test("Two vigil run processes split the partitions; stopping one moves its partitions to the other")
    func twoInstancesShareAndHandOver() throws {
        let (input, output, dlq) = ("split.readings", "split.window-stats", "split.dlq")
        let (broker, brokers) = try startBroker(partitions: 4, topics: [input, output, dlq])
        defer { broker.terminate() }
        let pipeline = try writePipeline(group: "vigil.split-\(UUID().uuidString.prefix(8))", input: input, output: output, dlq: dlq)
        let (a, portA) = try startRun(pipeline, brokers: brokers)
        defer { a.terminate() }
        let (b, portB) = try startRun(pipeline, brokers: brokers)
        defer { b.terminate() }
        var assigned = (0.0, 0.0)
        var deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            assigned = (metric(portA, "vigil_assigned_partitions") ?? 0, metric(portB, "vigil_assigned_partitions") ?? 0)
            if assigned.0 + assigned.1 == 4 && assigned.0 > 0 && assigned.1 > 0 { break }
            usleep(300_000)
        }
        #expect(assigned.0 == 2 && assigned.1 == 2, "assigned \(assigned)")
        a.terminate()
        a.process.waitUntilExit()
        #expect(a.process.terminationStatus == 0)
        deadline = Date().addingTimeInterval(60)
        var bAssigned = 0.0
        while Date() < deadline {
            bAssigned = metric(portB, "vigil_assigned_partitions") ?? 0
            if bAssigned == 4 { break }
            usleep(300_000)
        }
        #expect(bAssigned == 4, "b: \(b.stderr)")
    }
}
