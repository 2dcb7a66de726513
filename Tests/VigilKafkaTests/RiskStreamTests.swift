import Foundation
import Testing
import VigilCore
import VigilKafka
@testable import VigilRuntime
import VigilTesting

// Alert lifecycle and grade factors of a StreamJob on the embedded broker (the setup of CheckpointStoreTests).

@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct AlertLifecycleStreamTests {

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
        config.pipeline.sensorTypes[0].policy = AlertPolicy(level1: .yellow, level2: .red, notify: ["safety"])
        config.pipeline.alarms.deadlines = [.red: 300_000, .orange: 600_000, .yellow: 600_000, .blue: 86_400_000]
        config.tables.acknowledgements = acks
        let job = try StreamJob(config: config)
        try setup.run(job, messages: Int64(count))
        try job.close()
        let alerts = try setup.parsedRecords(".alerts")
        func events(_ sensor: String) -> [String] {
            alerts.filter { $0["sensor"] as? String == sensor }.map { "\($0["event"]!) \($0["severity"]!) \($0["ts"]!)" }
        }
        #expect(
            events("E0-GT-1") == ["raised yellow \(raised)", "acknowledged yellow \(raised + 120_000)", "cleared yellow \(setup.t0 + 80 * 30_000)"])
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

@Suite(.serialized, .ownThreads, .timeLimit(.minutes(10)))
struct GradeFactorStreamTests {
    /// The grade records the job produced, parsed.
    static func grades(_ setup: CheckpointStoreTests.Setup) throws -> [[String: Any]] { try setup.parsedRecords(".grades") }

}

extension GradeFactorStreamTests {

}

extension GradeFactorStreamTests {

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
        config.tables.setpoints = setpoints
        config.pipeline.sensorTypes.append(.tankLevel)
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
        #expect(
            history("E0-LT-1") == ["raised AL2 high 90.0"] + overdue.map { $0 + " high <null>" } + ["cleared normal high 90.0"],
            "\(history("E0-LT-1"))")
        #expect(
            history("E1-LT-2") == ["raised AL2 low 10.0"] + overdue.map { $0 + " low <null>" } + ["cleared normal low 10.0"], "\(history("E1-LT-2"))")
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
        #expect(job.profiles?.rejectedByTable["setpoints"] == 1)
    }
}

extension GradeFactorStreamTests {

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
        config.tables.profiles = profiles
        config.pipeline.anomalyFloor = 0.3
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
