import Foundation
import Testing
import VigilCore
import VigilKafka
@testable import VigilRuntime
import VigilTesting

// Alert lifecycle and grade factors of a StreamJob on the embedded broker (the setup of CheckpointStoreTests).

@Suite(.serialized, .timeLimit(.minutes(10)))
struct AlertLifecycleStreamTests {
    @Test("alerts carry severity, deadline and departments; a missed deadline escalates; routes get copies by severity")
    func severityDeadlinesAndRoutes() throws {
        let setup = try CheckpointStoreTests.Setup()
        let urgent = uniqueName("urgent")
        try setup.cluster.createTopic(urgent, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // E0-GT-1 reads 30 (AL1) from minute 5 to minute 40, otherwise 5; E0-GT-2 stays at 5.
        var count = 0
        for k in 0..<120 {
            let t = setup.t0 + Int64(k) * 30_000
            for s in 1...2 {
                let value = s == 1 && k >= 10 && k < 80 ? 30.0 : 5.0
                let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-\(s)\",\"ts\":\(t),\"value\":\(value)}"
                try producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.alertPolicies = [AlertPolicy(level1: .yellow, level2: .red, notify: ["safety", "production"])]
        config.alertDeadlines = [.red: 300_000, .orange: 600_000, .yellow: 600_000, .blue: 86_400_000]
        config.alertRoutes = [AlertRoute(levels: [.orange, .red], topic: urgent)]
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let alerts = try setup.outputRecords(setup.outputs).filter { $0.hasPrefix(".alerts|") && $0.contains("E0-GT-1/gas/") }
        func events(_ a: [String]) -> [String] {
            a.compactMap { line in
                guard let json = line.split(separator: "|", maxSplits: 2).last,
                    let o = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
                else { return nil }
                return "\(o["event"]!) \(o["severity"]!) \(o["ts"]!)"
            }
        }
        // AL1 is first seen at reading 10; the on_delay (2 s) is confirmed by reading 11, which raises the alarm.
        let raised = setup.t0 + 11 * 30_000
        // Raised yellow (deadline +10 min), overdue → orange at +10 min, overdue → red at +20 min, overdue (red) every
        // 5 min while still active, then cleared (severity of the alarm that ended: red).
        let e = events(alerts)
        #expect(e.first == "raised yellow \(raised)", "\(e)")
        #expect(e.dropFirst().first == "overdue orange \(raised + 600_000)", "\(e)")
        #expect(e.dropFirst(2).first == "overdue red \(raised + 1_200_000)", "\(e)")
        #expect(e.last?.hasPrefix("cleared red") == true, "\(e)")
        #expect(alerts.allSatisfy { $0.contains("\"notify\":[\"safety\",\"production\"]") })
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
        for a in alerts {
            let json = a.split(separator: "|", maxSplits: 2).last.map(String.init) ?? ""
            #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
        }
        // The route receives exactly the orange and red records.
        var cc = consumerConfig(setup.cluster.bootstrapServers, group: uniqueName("r"))
        cc.additionalConfig["isolation.level"] = "read_committed"
        let reader = try KafkaConsumer(config: cc)
        try reader.assign([KafkaTopicPartition(topic: urgent, partition: 0, offset: 0)])
        var routed: [String] = []
        try pollUntil(reader, seconds: 10, { r in routed.append("x|" + String(decoding: r.payload, as: UTF8.self)) }, done: { false })
        try reader.close()
        #expect(events(routed) == e.filter { !$0.hasPrefix("raised yellow") }, "\(events(routed))")
        #expect(job.stats.routedAlerts == Int64(routed.count))
    }
}

extension AlertLifecycleStreamTests {
    @Test("an acknowledgement (written by kcat) stops the escalation of its alert; unacknowledged alarms escalate")
    func acknowledgementStopsEscalation() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat"), "kcat is installed by make test")
        let setup = try CheckpointStoreTests.Setup()
        let acks = uniqueName("acks")
        try setup.cluster.createTopic(acks, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // E0-GT-1 and E0-GT-2 both read 30 (AL1) from minute 5 to minute 40, otherwise 5.
        var count = 0
        for k in 0..<120 {
            let t = setup.t0 + Int64(k) * 30_000
            for s in 1...2 {
                let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-\(s)\",\"ts\":\(t),\"value\":\(k >= 10 && k < 80 ? 30.0 : 5.0)}"
                try producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        // Both alarms are raised at reading 11. GT-1 is acknowledged 2 min later (its yellow deadline is 10 min);
        // an acknowledgement of an alert id that never existed is ignored.
        let raised = setup.t0 + 11 * 30_000
        let lines = [
            "E0-GT-1/gas/\(raised)|{\"alert_id\":\"E0-GT-1/gas/\(raised)\",\"ts\":\(raised + 120_000),\"by\":\"shift \\\"B\\\"\"}",
            "E0-GT-2/gas/1|{\"alert_id\":\"E0-GT-2/gas/1\",\"ts\":\(raised)}",
        ]
        let (status, _, err) = try run(
            "/usr/bin/kcat", ["-P", "-b", setup.cluster.bootstrapServers, "-t", acks, "-K", "|", "-X", "log_level=3"],
            input: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(status == 0, "kcat -P failed: \(err)")
        let inputSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/safety.acknowledgements.v1.schema.json")
        for line in lines { #expect(inputSchema.validate(json: Data(line.split(separator: "|", maxSplits: 1)[1].utf8)).isEmpty, "\(line)") }
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.alertPolicies = [AlertPolicy(level1: .yellow, level2: .red, notify: ["safety"])]
        config.alertDeadlines = [.red: 300_000, .orange: 600_000, .yellow: 600_000, .blue: 86_400_000]
        config.acknowledgementsTopic = acks
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let alerts = try setup.parsedRecords(".alerts")
        func events(_ sensor: String) -> [String] {
            alerts.filter { $0["sensor"] as? String == sensor }.map { "\($0["event"]!) \($0["severity"]!) \($0["ts"]!)" }
        }
        #expect(events("E0-GT-1") == ["raised yellow \(raised)", "acknowledged yellow \(raised + 120_000)", "cleared yellow \(setup.t0 + 80 * 30_000)"])
        let acknowledged = try #require(alerts.first { $0["event"] as? String == "acknowledged" })
        #expect(acknowledged["acknowledged_by"] as? String == "shift \"B\"" && acknowledged["respond_by"] is NSNull)
        #expect(acknowledged["alert_id"] as? String == "E0-GT-1/gas/\(raised)")
        let unacknowledged = events("E0-GT-2")
        #expect(unacknowledged.prefix(3) == ["raised yellow \(raised)", "overdue orange \(raised + 600_000)", "overdue red \(raised + 1_200_000)"])
        #expect(!unacknowledged.contains { $0.hasPrefix("acknowledged") })
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
        for a in alerts {
            let json = try JSONSerialization.data(withJSONObject: a)
            #expect(schema.validate(json: json).isEmpty, "\(a)")
        }
        #expect(job.stats.alertsByLevel["acknowledged yellow"] == 1)
    }
}

@Suite(.serialized, .timeLimit(.minutes(10)))
struct GradeFactorStreamTests {
    /// The grade records the job produced, parsed.
    static func grades(_ setup: CheckpointStoreTests.Setup) throws -> [[String: Any]] { try setup.parsedRecords(".grades") }

    @Test("permits and hidden hazards from their tables make up O and H; an overdue major hazard forces at least orange")
    func permitsAndHazards() throws {
        let setup = try CheckpointStoreTests.Setup()
        let (permits, hazards) = (uniqueName("permits"), uniqueName("hazards"))
        try setup.cluster.createTopic(permits, partitions: 1)
        try setup.cluster.createTopic(hazards, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        let t0 = setup.t0
        func send(_ topic: String, _ json: String) throws {
            try producer.produce(topic: topic, key: Array("E0".utf8), value: Array(json.utf8))
        }
        // A special hot-work permit for the first 10 min; a major hazard due at minute 20; an overdue general one.
        try send(permits, "{\"enterprise\":\"E0\",\"permit\":\"P1\",\"kind\":\"hot_work_special\",\"start\":\(t0),\"end\":\(t0 + 600_000)}")
        try send(hazards, "{\"enterprise\":\"E0\",\"hazard\":\"H1\",\"class\":\"major\",\"status\":\"open\",\"deadline\":\(t0 + 1_200_000)}")
        try send(hazards, "{\"enterprise\":\"E0\",\"hazard\":\"H2\",\"class\":\"general\",\"status\":\"open\",\"deadline\":\(t0 - 1)}")
        try send(hazards, "{\"enterprise\":\"E9\",\"hazard\":\"H3\",\"class\":\"major\",\"status\":\"open\",\"deadline\":\(t0)}")
        try producer.flush()
        var count = 0
        for k in 0..<60 {  // 30 min of one quiet sensor
            let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-1\",\"ts\":\(t0 + Int64(k) * 30_000),\"value\":5}"
            try producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
            count += 1
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.permitsTopic = permits
        config.hazardsTopic = hazards
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let grades = try Self.grades(setup)
        func factor(_ g: [String: Any], _ name: String) -> Double { ((g["factors"] as? [String: Any])?[name] as? NSNumber)?.doubleValue ?? -1 }
        let first = try #require(grades.first)
        // B 10 (no profile) + O 15 + H 20 + 3 = 48: yellow.
        #expect(factor(first, "operations") == 15 && factor(first, "hazards") == 23, "\(first)")
        #expect(first["level"] as? String == "yellow")
        // After minute 20 the major hazard is overdue: the override raises the level to orange (the permit expired).
        let last = try #require(grades.last)
        #expect(last["level"] as? String == "orange", "\(grades.map { "\($0["level"]!) \($0["ts"]!)" })")
        #expect(factor(last, "operations") == 0 && (last["inputs"] as? [String: Any])?["overdue_major_hazard"] as? Bool == true)
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades {
            let data = try JSONSerialization.data(withJSONObject: g)
            #expect(schema.validate(json: data).isEmpty, "\(schema.validate(json: data))")
        }
        #expect(GradeExplainer.explain(last).contains("override: an open major hazard is past its deadline"))
    }

    @Test("The profile's 2018 diagnosis sets B and can force red; its credit score adds C")
    func diagnosisAndCredit() throws {
        let setup = try CheckpointStoreTests.Setup()
        let profilesTopic = uniqueName("profiles")
        try setup.cluster.createTopic(profilesTopic, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // E0: grade 三级 (B_MHI 40) and a diagnosis of 100 − 6 (三级) − 10 (5 processes) + 5 = 89 → B = max(40, 11) = 40;
        //     credit 85 → C = 1.5. E1: no grade, a given diagnosis of 35 (B = 65), a direct-red condition, credit 40.
        let e0 = "{\"enterprise\":\"E0\",\"region\":\"R\",\"major_hazard_grade\":3,"
            + "\"diagnostic\":{\"items\":{\"key_hazardous_process\":5,\"standardisation_level_2\":1}},"
            + "\"credit\":{\"factors\":{\"hazard_closure\":80,\"enforcement\":50}}}"
        let e1 = "{\"enterprise\":\"E1\",\"diagnostic_score\":35,\"diagnostic\":{\"direct_red\":[\"major_accident_3y\"]},\"credit_score\":40}"
        try producer.produce(topic: profilesTopic, key: Array("E0".utf8), value: Array(e0.utf8))
        try producer.produce(topic: profilesTopic, key: Array("E1".utf8), value: Array(e1.utf8))
        try producer.flush()
        let t0 = setup.t0
        for k in 0..<10 {
            for e in ["E0", "E1"] {
                let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(e)-GT-1\",\"ts\":\(t0 + Int64(k) * 30_000),\"value\":5}"
                try producer.produce(topic: setup.input, partition: 0, key: Array(e.utf8), value: Array(json.utf8))
            }
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.profilesTopic = profilesTopic
        let job = try StreamJob(config: config)
        try setup.run(job, messages: 20)
        try job.close()
        let grades = try Self.grades(setup)
        func first(_ e: String) throws -> [String: Any] { try #require(grades.first { $0["enterprise"] as? String == e }) }
        func number(_ g: [String: Any], _ group: String, _ name: String) -> Double? { ((g[group] as? [String: Any])?[name] as? NSNumber)?.doubleValue }
        let g0 = try first("E0")
        #expect(number(g0, "inputs", "diagnostic_score") == 89)
        #expect((g0["inputs"] as? [String: Any])?["diagnostic_level"] as? String == "yellow")
        #expect(number(g0, "factors", "base") == 40)
        #expect(number(g0, "inputs", "credit_score") == 85 && number(g0, "factors", "credit") == 1.5)
        #expect(g0["level"] as? String == "yellow", "B 40 + C 1.5 = 41.5")
        let g1 = try first("E1")
        #expect(g1["level"] as? String == "red")
        #expect(number(g1, "factors", "base") == 65 && number(g1, "factors", "credit") == 6)
        #expect((g1["inputs"] as? [String: Any])?["overrides"] as? [String] == ["direct_red"])
        #expect((g1["inputs"] as? [String: Any])?["credit_grade"] as? String == "D")
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades {
            let data = try JSONSerialization.data(withJSONObject: g)
            #expect(schema.validate(json: data).isEmpty, "\(schema.validate(json: data))")
        }
        let text = GradeExplainer.explain(g1)
        #expect(text.contains("direct-red condition(s) major_accident_3y → RED") && text.contains("C  credit"), "\(text)")
    }
}

extension GradeFactorStreamTests {
    @Test("§4.3 overrides: a red-severity AL2 lasting over 10 min, and any AL2 during hot work in the same unit, make the enterprise red")
    func redOverrides() throws {
        let setup = try CheckpointStoreTests.Setup()
        let permits = uniqueName("permits")
        try setup.cluster.createTopic(permits, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        let t0 = setup.t0
        // Hot-work permits for minutes 0–60: E1's without a unit; E2's and E3's for unit U1. E0 has none.
        let permitSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/safety.permits.v1.schema.json")
        for (e, unit) in [(1, ""), (2, ",\"unit\":\"U1\""), (3, ",\"unit\":\"U1\"")] {
            let json = "{\"enterprise\":\"E\(e)\",\"permit\":\"P1\",\"kind\":\"hot_work_2\",\"start\":\(t0),\"end\":\(t0 + 3_600_000)\(unit)}"
            #expect(permitSchema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
            try producer.produce(topic: permits, key: Array("E\(e)".utf8), value: Array(json.utf8))
        }
        #expect(!permitSchema.validate(json: Data("{\"enterprise\":\"E1\",\"permit\":\"P1\",\"kind\":\"hot_work_2\",\"start\":1}".utf8)).isEmpty)
        try producer.flush()
        var count = 0
        // One point per enterprise reaches AL2 (55) at minute 5 and stays there for 20 min: E0-GT-0 and E2's,
        // in unit U2, on partition 0; E1-GT-1 (no unit in its id) and E3's, in unit U1, on partition 1.
        let sensors = ["E0-GT-0", "E1-GT-1", "E2-U2-GT-2", "E3-U1-GT-3"]
        for k in 0..<60 {
            let t = t0 + Int64(k) * 30_000
            for e in 0...3 {
                let value = k >= 10 && k < 50 ? 55.0 : 5.0
                let json = "{\"enterprise\":\"E\(e)\",\"sensor\":\"\(sensors[e])\",\"ts\":\(t),\"value\":\(value)}"
                try producer.produce(topic: setup.input, partition: Int32(e % 2), key: Array("E\(e)".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.permitsTopic = permits
        config.permitUnitPattern = "^[^-]+-(U[0-9]+)-"
        config.alertPolicies = [AlertPolicy(level1: .yellow, level2: .red)]  // the gas rule's AL2 is a red alert
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let grades = try Self.grades(setup)
        func history(_ e: String) -> [String] {
            grades.filter { $0["enterprise"] as? String == e }.map { g in
                let overrides = (g["inputs"] as? [String: Any])?["overrides"] as? [String] ?? []
                return "\(g["level"]!) \(((g["ts"] as? NSNumber)?.int64Value ?? 0) - t0) \(overrides.joined(separator: ","))"
            }
        }
        // E1: red as soon as AL2 is raised (hot work under way), at the reading that raised it (minute 5.5);
        // E3 too (hot work in the alarming point's unit). E2's hot work is in another unit than its alarm.
        #expect(history("E1").contains("red 330000 al2_during_hot_work"), "\(history("E1"))")
        #expect(history("E3").contains("red 330000 al2_during_hot_work"), "\(history("E3"))")
        #expect(!history("E2").isEmpty && !history("E2").contains { $0.contains("al2_during_hot_work") }, "\(history("E2"))")
        // E0: red once its red-severity AL2 has lasted more than 10 min (the evaluation after minute 15.5).
        let e0 = history("E0")
        let firstRed = e0.first { $0.hasPrefix("red") }
        #expect(firstRed?.hasSuffix("red_alarm_sustained") == true, "\(e0)")
        let ms = Int64(firstRed?.split(separator: " ")[1] ?? "") ?? 0
        #expect(ms > 330_000 + 600_000 && ms <= 330_000 + 600_000 + 60_000, "\(e0)")
        #expect(!e0.contains { $0.contains("al2_during_hot_work") })
    }
}

extension GradeFactorStreamTests {
    @Test("§4.3/§5: a silent enterprise keeps being graded; a data interruption lasting 24 h makes it yellow, during hot work orange")
    func dataInterruption() throws {
        let setup = try CheckpointStoreTests.Setup()
        let permits = uniqueName("permits")
        try setup.cluster.createTopic(permits, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        let t0 = setup.t0 - 26 * 3_600_000
        let hour: Int64 = 3_600_000
        // E1 has a hot-work permit for the whole 26 h.
        try producer.produce(topic: permits, key: Array("E1".utf8), value: Array(
            "{\"enterprise\":\"E1\",\"permit\":\"P1\",\"kind\":\"hot_work_2\",\"start\":\(t0),\"end\":\(t0 + 26 * hour)}".utf8))
        try producer.flush()
        // Partition 0: E0's three points report for the first hour, then fall silent until the last 10 minutes;
        // E2's point reports for 26 h.
        // Partition 1: of E1's two points, one falls silent after the first hour.
        var count = 0
        func send(_ e: String, _ sensor: String, _ partition: Int32, _ t: Int64) throws {
            let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(sensor)\",\"ts\":\(t),\"value\":5}"
            try producer.produce(topic: setup.input, partition: partition, key: Array(e.utf8), value: Array(json.utf8))
            count += 1
        }
        for k in 0..<(26 * 60) {
            let t = t0 + Int64(k) * 60_000
            if k < 60 || k >= 26 * 60 - 10 { for s in 0..<3 { try send("E0", "E0-GT-\(s)", 0, t) } }
            try send("E2", "E2-GT-0", 0, t)
            if k < 60 { try send("E1", "E1-GT-0", 1, t) }
            try send("E1", "E1-GT-1", 1, t)
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.permitsTopic = permits
        config.gradeHeartbeat = 600_000
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let grades = try Self.grades(setup)
        func records(_ e: String) -> [(ts: Int64, level: String, since: Int64?, overrides: [String])] {
            grades.filter { $0["enterprise"] as? String == e }.map { g in
                let inputs = g["inputs"] as? [String: Any] ?? [:]
                return (
                    (g["ts"] as? NSNumber)?.int64Value ?? 0, g["level"] as? String ?? "", (inputs["interrupted_since"] as? NSNumber)?.int64Value,
                    inputs["overrides"] as? [String] ?? []
                )
            }
        }
        // E0: its last readings are at minute 59; its points count as offline 30 min later. Evaluated every minute
        // of the partition's event time (E2's readings), it gets heartbeats (every 10 min here) while silent.
        let e0 = records("E0")
        let lastReading = t0 + 59 * 60_000
        #expect(e0.filter { $0.ts > lastReading + hour }.count >= 6 * 23, "\(e0.map(\.ts))")
        let since = try #require(e0.compactMap(\.since).first, "\(e0)")
        #expect(since > lastReading + 1_800_000 && since <= lastReading + 1_800_000 + 60_000, "\(since - lastReading) \(e0.map { "\($0.level) \($0.ts - t0) \(($0.since ?? t0) - t0)" })")
        #expect(e0.allSatisfy { $0.since == nil || $0.since == since })
        let yellow = try #require(e0.first { $0.level == "yellow" }, "\(e0.map { "\($0.level) \($0.ts - t0)" })")
        #expect(yellow.ts >= since + 24 * hour && yellow.ts <= since + 24 * hour + 60_000)
        #expect(yellow.overrides == ["data_interruption"])
        #expect(e0.filter { $0.ts < since + 24 * hour }.allSatisfy { $0.level == "blue" && $0.overrides.isEmpty })
        // E1: half its points offline during hot work → orange at once (B 10 + O 3 alone is blue).
        let e1 = records("E1")
        let orange = try #require(e1.first { $0.level == "orange" }, "\(e1.map { "\($0.level) \($0.ts - t0)" })")
        #expect(orange.ts > lastReading + 1_800_000 && orange.ts <= lastReading + 1_800_000 + 60_000)
        #expect(orange.overrides == ["data_interruption_during_hot_work"])
        #expect(e1.filter { $0.ts >= orange.ts + 24 * hour }.last?.overrides == ["data_interruption", "data_interruption_during_hot_work"], "\(e1.map { "\($0.level) \($0.ts - t0) \(($0.since ?? t0) - t0)" })")
        // E2 reported throughout: never interrupted.
        #expect(records("E2").allSatisfy { $0.since == nil && $0.level == "blue" })
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades {
            let data = try JSONSerialization.data(withJSONObject: g)
            #expect(schema.validate(json: data).isEmpty, "\(schema.validate(json: data))")
        }
        let interrupted = try #require(grades.last { $0["enterprise"] as? String == "E0" && $0["level"] as? String == "yellow" })
        #expect(GradeExplainer.explain(interrupted).contains("data interrupted since \(since)"))
        // §5: the enterprise-level DATA_INTERRUPTION blue alert when it starts, and its end when E0 reports again.
        let alerts = try setup.parsedRecords(".alerts")
        let e0Alerts = alerts.filter { $0["enterprise"] as? String == "E0" && $0["rule"] as? String == "data_interruption" }
        let back = t0 + Int64(26 * 60 - 10) * 60_000
        #expect(e0Alerts.map { "\($0["event"]!)" } == ["interrupted", "restored"], "\(e0Alerts)")
        #expect((e0Alerts.first?["ts"] as? NSNumber)?.int64Value == since && e0Alerts.first?["sensor"] is NSNull)
        #expect(((e0Alerts.last?["ts"] as? NSNumber)?.int64Value ?? 0) >= back)
        #expect(e0Alerts.allSatisfy { $0["alert_id"] as? String == "E0/data_interruption/\(since)" && $0["severity"] as? String == "blue" })
        #expect(!alerts.contains { $0["enterprise"] as? String == "E2" && $0["rule"] as? String == "data_interruption" })
        let alertSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
        for a in alerts { #expect(alertSchema.validate(json: try JSONSerialization.data(withJSONObject: a)).isEmpty, "\(a)") }
    }
}

extension GradeFactorStreamTests {
    @Test("per-point setpoints (written by kcat) make tank points two-sided; HH on a grade 2 tank for 30 min makes the enterprise orange")
    func tankSetpoints() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat"), "kcat is installed by make test")
        let setup = try CheckpointStoreTests.Setup()
        let setpoints = uniqueName("setpoints")
        try setup.cluster.createTopic(setpoints, partitions: 1)
        // E0-LT-1: a tank of a grade 2 major hazard; E1-LT-2: grade 3; E0-LT-3 has no setpoints (cannot alarm).
        let lines = [
            "E0-LT-1|{\"enterprise\":\"E0\",\"sensor\":\"E0-LT-1\",\"h\":80,\"hh\":90,\"l\":20,\"ll\":10,\"major_hazard_grade\":2}",
            "E1-LT-2|{\"enterprise\":\"E1\",\"sensor\":\"E1-LT-2\",\"h\":80,\"hh\":90,\"l\":20,\"ll\":10,\"major_hazard_grade\":3}",
            "E0-LT-9|{\"enterprise\":\"E0\",\"sensor\":\"E0-LT-9\",\"h\":80,\"hh\":70}",
            // E0-LT-4's setpoints, then deleted by a tombstone (-Z sends the empty value as null).
            "E0-LT-4|{\"enterprise\":\"E0\",\"sensor\":\"E0-LT-4\",\"h\":80,\"hh\":90}",
            "E0-LT-4|",
        ]
        let (status, _, err) = try run(
            "/usr/bin/kcat", ["-P", "-Z", "-b", setup.cluster.bootstrapServers, "-t", setpoints, "-K", "|", "-X", "log_level=3"],
            input: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(status == 0, "kcat -P failed: \(err)")
        let inputSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/safety.setpoints.v1.schema.json")
        for line in lines where !line.hasSuffix("|") {
            #expect(inputSchema.validate(json: Data(line.split(separator: "|", maxSplits: 1)[1].utf8)).isEmpty, "\(line)")
        }
        // From minute 5 to minute 50: E0-LT-1 and E0-LT-3 at 95 (above HH), E1-LT-2 at 5 (below LL); 50 otherwise.
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        var count = 0
        for k in 0..<120 {
            let t = setup.t0 + Int64(k) * 30_000
            let during = k >= 10 && k < 100
            for (e, sensor, value) in [("E0", "E0-LT-1", 95.0), ("E0", "E0-LT-3", 95.0), ("E0", "E0-LT-4", 95.0), ("E1", "E1-LT-2", 5.0)] {
                let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(sensor)\",\"ts\":\(t),\"value\":\(during ? value : 50)}"
                try producer.produce(topic: setup.input, partition: e == "E0" ? 0 : 1, key: Array(e.utf8), value: Array(json.utf8))
                count += 1
            }
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.setpointsTopic = setpoints
        config.alarmRules.append((rule: ThresholdRule(name: "tank_level", level1: nil, deadband: 1), match: ["-LT-"]))
        config.alertPolicies = [AlertPolicy(), AlertPolicy(level1: .yellow, level2: .orange, notify: ["production"])]
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let records = try setup.outputRecords(setup.outputs)
        func parse(_ suffix: String) -> [[String: Any]] { CheckpointStoreTests.Setup.parsed(records, topic: suffix) }
        let alerts = parse(".alerts")
        func history(_ sensor: String) -> [String] {
            alerts.filter { $0["sensor"] as? String == sensor }.map { "\($0["event"]!) \($0["level"]!) \($0["direction"]!) \($0["limit"]!)" }
        }
        // Raised at HH (LL), overdue while unacknowledged (orange 30 min, then red every 5 min), cleared.
        let overdue = ["overdue AL2", "overdue AL2", "overdue AL2"]
        #expect(history("E0-LT-1") == ["raised AL2 high 90.0"] + overdue.map { $0 + " high <null>" } + ["cleared normal high 90.0"], "\(history("E0-LT-1"))")
        #expect(history("E1-LT-2") == ["raised AL2 low 10.0"] + overdue.map { $0 + " low <null>" } + ["cleared normal low 10.0"], "\(history("E1-LT-2"))")
        #expect(history("E0-LT-3") == ["threshold_not_set normal none <null>"], "no setpoints, no levels: reported once (§3.2)")
        #expect(history("E0-LT-4") == ["threshold_not_set normal none <null>"], "setpoints deleted by a tombstone")
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
        for a in alerts { #expect(schema.validate(json: try JSONSerialization.data(withJSONObject: a)).isEmpty, "\(a)") }
        // E0: orange once HH on its grade 2 tank has lasted over 30 min (raised at minute 5); E1's grade 3 tank does not count.
        let grades = parse(".grades")
        func levels(_ e: String) -> [String] {
            grades.filter { $0["enterprise"] as? String == e }.map { g in
                let overrides = (g["inputs"] as? [String: Any])?["overrides"] as? [String] ?? []
                return "\(g["level"]!) \(((g["ts"] as? NSNumber)?.int64Value ?? 0) - setup.t0) \(overrides.joined(separator: ","))"
            }
        }
        let orange = try #require(levels("E0").first { $0.hasPrefix("orange") }, "\(levels("E0"))")
        #expect(orange.hasSuffix("tank_alarm_sustained"))
        let ms = Int64(orange.split(separator: " ")[1]) ?? 0
        #expect(ms > 300_000 + 1_800_000 && ms <= 300_000 + 1_800_000 + 60_000, "\(levels("E0"))")
        #expect(!levels("E1").contains { $0.contains("tank_alarm_sustained") }, "\(levels("E1"))")
        let gradeSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades { #expect(gradeSchema.validate(json: try JSONSerialization.data(withJSONObject: g)).isEmpty) }
        // The inconsistent record (HH below H) was ignored.
        #expect(job.profiles?.rejectedSetpoints == 1)
    }
}

extension GradeFactorStreamTests {
    @Test("anomaly episodes of the statistical detectors raise A as pseudo-alarms; the grade record shows both scores")
    func pseudoAlarmsInGrades() throws {
        let setup = try CheckpointStoreTests.Setup()
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // E0-GT-1: noise around 5 for 30 min, then a shift to 15 (below AL1 25) for 10 min, sampled every 10 s.
        var rng = SplitMix64(seed: 3)
        var count = 0
        for k in 0..<240 {
            let value = (k >= 180 ? 15.0 : 5.0) + 0.3 * rng.nextGaussian()
            let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-1\",\"ts\":\(setup.t0 + Int64(k) * 10_000),\"value\":\(value)}"
            try producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
            count += 1
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.gradeHeartbeat = 60_000
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let grades = try Self.grades(setup)
        func number(_ g: [String: Any], _ group: String, _ name: String) -> Double {
            ((g[group] as? [String: Any])?[name] as? NSNumber)?.doubleValue ?? -1
        }
        let before = grades.filter { (($0["ts"] as? NSNumber)?.int64Value ?? 0) < setup.t0 + 1_800_000 }
        #expect(!before.isEmpty && before.allSatisfy { number($0, "inputs", "pseudo_alarms_24h") == 0 && number($0, "factors", "alarm") == 0 })
        let last = try #require(grades.last)
        #expect(number(last, "inputs", "pseudo_alarms_24h") >= 1, "\(last)")
        #expect(number(last, "inputs", "alarm_score_without_pseudo") == 0)
        // One point, alarming as a pseudo-alarm only: s1 = 0.5, s3 = 0.5 × episodes / 10.
        #expect(number(last, "factors", "alarm") >= 15, "\(last)")
        #expect(GradeExplainer.explain(last).contains("anomaly episodes in 24 h"))
    }
}

extension AlertLifecycleStreamTests {
    @Test("ids with quotes and backslashes come out as valid JSON on every output topic")
    func escapedIds() throws {
        let setup = try CheckpointStoreTests.Setup()
        let profiles = uniqueName("profiles")
        try setup.cluster.createTopic(profiles, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(setup.cluster.bootstrapServers))
        // Enterprise E"0 and sensor E"0-GT-\1, as JSON escapes in the readings; the profile's region has a quote too.
        try producer.produce(
            topic: profiles, key: Array("E\"0".utf8), value: Array(#"{"enterprise":"E\"0","region":"North \"A\"","major_hazard_grade":2}"#.utf8))
        var count = 0
        for k in 0..<80 {
            let value = k >= 20 && k < 50 ? 30.0 + Double(k % 3) : 5.0 + Double(k % 2)
            let json = #"{"enterprise":"E\"0","sensor":"E\"0-GT-\\1","ts":"# + "\(setup.t0 + Int64(k) * 30_000),\"value\":\(value)}"
            try producer.produce(topic: setup.input, partition: 0, key: Array("E\"0".utf8), value: Array(json.utf8))
            count += 1
        }
        try producer.flush()
        var config = setup.config(group: uniqueName("g"), checkpoint: .none)
        config.profilesTopic = profiles
        config.anomalyFloor = 0.3
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let records = try setup.outputRecords(setup.outputs)
        var seen: Set<String> = []
        for line in records {
            let parts = line.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
            try #require(parts.count == 3, "\(line)")
            let topic = String(parts[0])
            let object = try #require(
                try? JSONSerialization.jsonObject(with: Data(parts[2].utf8)) as? [String: Any], "\(topic): not JSON: \(parts[2])")
            #expect(object["enterprise"] as? String == "E\"0", "\(topic)")
            if let sensor = object["sensor"] as? String { #expect(sensor == "E\"0-GT-\\1", "\(topic)") }
            if topic == ".grades" { #expect(object["region"] as? String == "North \"A\"") }
            seen.insert(topic)
        }
        #expect(seen.isSuperset(of: ["", ".alerts", ".anomalies", ".grades"]), "\(seen)")
    }
}
