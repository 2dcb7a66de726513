import Foundation
import Testing
import VigilCore
import VigilPipeline
@testable import VigilRuntime
import VigilTools
import VigilTesting

/// Alert lifecycles on the partition pipeline (no broker).
@Suite struct AlertRuleTests {
    @Test("alerts carry severity, deadline and departments; a missed deadline escalates; routes get copies by severity")
    func severityDeadlinesAndRoutes() throws {
        let setup = PipelineHarness()
        let urgent = "urgent"
        let producer = setup
        // E0-GT-1 reads 30 (AL1) from minute 5 to minute 40, otherwise 5; E0-GT-2 stays at 5.
        var count = 0
        for k in 0..<120 {
            let t = setup.t0 + Int64(k) * 30_000
            for s in 1...2 {
                let value = s == 1 && k >= 10 && k < 80 ? 30.0 : 5.0
                let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-\(s)\",\"ts\":\(t),\"value\":\(value)}"
                producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        var config = setup.config()
        config.pipeline.sensorTypes[0].policy = AlertPolicy(level1: .yellow, level2: .red, notify: ["safety", "production"])
        config.pipeline.alarms.deadlines = [.red: 300_000, .orange: 600_000, .yellow: 600_000, .blue: 86_400_000]
        config.pipeline.alarms.routes = [AlertRoute(levels: [.orange, .red], topic: urgent)]
        let run = setup.run(config)
        #expect(run.readings == Int64(count))
        let alerts = run.records.filter { $0.hasPrefix(".alerts|") && $0.contains("E0-GT-1/gas/") }
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
        let routed = run.records.filter { $0.hasPrefix(urgent + "|") }
        #expect(events(routed) == e.filter { !$0.hasPrefix("raised yellow") }, "\(events(routed))")
        #expect(run.counters.routedAlerts == Int64(routed.count))
    }
}

extension AlertRuleTests {
    @Test("a point that stops reporting gets an offline record while it is silent, and an online record when it returns")
    func offlineAndOnlineRecords() throws {
        let setup = PipelineHarness()
        let producer = setup
        // E0: two sensors every 30 s for 2 h; E0-GT-1 is silent from minute 20 to minute 70.
        var count = 0
        for k in 0..<240 {
            let t = setup.t0 + Int64(k) * 30_000
            for s in 0..<2 where s == 0 || !(t >= setup.t0 + 1_200_000 && t < setup.t0 + 4_200_000) {
                let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-\(s)\",\"ts\":\(t),\"value\":\(s + 1)}"
                producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        let run = setup.run(setup.config())
        #expect(run.readings == Int64(count))
        let alerts = run.records.filter { $0.hasPrefix(".alerts|") && $0.contains("\"rule\":\"data_gap\"") }
        #expect(alerts.count == 2, "\(alerts)")
        let lastSeen = setup.t0 + 1_200_000 - 30_000
        #expect(alerts.first?.contains("\"event\":\"offline\"") == true && alerts.first?.contains("\"sensor\":\"E0-GT-1\"") == true)
        #expect(alerts.first?.contains("\"ts\":\(lastSeen + 1_800_000)") == true, "\(alerts)")
        #expect(alerts.last?.contains("\"event\":\"online\"") == true && alerts.last?.contains("\"ts\":\(setup.t0 + 4_200_000)") == true)
        #expect(alerts.allSatisfy { $0.contains("\"alert_id\":\"E0-GT-1/data_gap/\(lastSeen + 1_800_000)\"") })
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
        for a in alerts {
            let json = a.split(separator: "|", maxSplits: 2).last.map(String.init) ?? ""
            #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
        }
    }
}

/// Grade factors, the §4.3 overrides and the §5 data-interruption rules on the partition pipeline (no broker).
@Suite struct GradeRuleTests {
    @Test("permits and hidden hazards from their tables make up O and H; an overdue major hazard forces at least orange")
    func permitsAndHazards() throws {
        let setup = PipelineHarness()
        let (permits, hazards) = ("permits", "hazards")
        let producer = setup
        let t0 = setup.t0
        func send(_ topic: String, _ json: String) throws {
            producer.produce(topic: topic, key: Array("E0".utf8), value: Array(json.utf8))
        }
        // A special hot-work permit for the first 10 min; a major hazard due at minute 20; an overdue general one.
        try send(permits, "{\"enterprise\":\"E0\",\"permit\":\"P1\",\"kind\":\"hot_work_special\",\"start\":\(t0),\"end\":\(t0 + 600_000)}")
        try send(hazards, "{\"enterprise\":\"E0\",\"hazard\":\"H1\",\"class\":\"major\",\"status\":\"open\",\"deadline\":\(t0 + 1_200_000)}")
        try send(hazards, "{\"enterprise\":\"E0\",\"hazard\":\"H2\",\"class\":\"general\",\"status\":\"open\",\"deadline\":\(t0 - 1)}")
        try send(hazards, "{\"enterprise\":\"E9\",\"hazard\":\"H3\",\"class\":\"major\",\"status\":\"open\",\"deadline\":\(t0)}")
        var count = 0
        for k in 0..<60 {  // 30 min of one quiet sensor
            let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-1\",\"ts\":\(t0 + Int64(k) * 30_000),\"value\":5}"
            producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
            count += 1
        }
        var config = setup.config()
        config.tables.permits = permits
        config.tables.hazards = hazards
        let run = setup.run(config)
        #expect(run.readings == Int64(count))
        let grades = run.parsed(".grades")
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
        let setup = PipelineHarness()
        let profilesTopic = "profiles"
        let producer = setup
        // E0: grade 三级 (B_MHI 40) and a diagnosis of 100 − 6 (三级) − 10 (5 processes) + 5 = 89 → B = max(40, 11) = 40;
        //     credit 85 → C = 1.5. E1: no grade, a given diagnosis of 35 (B = 65), a direct-red condition, credit 40.
        let e0 =
            "{\"enterprise\":\"E0\",\"region\":\"R\",\"major_hazard_grade\":3,"
            + "\"diagnostic\":{\"items\":{\"key_hazardous_process\":5,\"standardisation_level_2\":1}},"
            + "\"credit\":{\"factors\":{\"hazard_closure\":80,\"enforcement\":50}}}"
        let e1 = "{\"enterprise\":\"E1\",\"diagnostic_score\":35,\"diagnostic\":{\"direct_red\":[\"major_accident_3y\"]},\"credit_score\":40}"
        producer.produce(topic: profilesTopic, key: Array("E0".utf8), value: Array(e0.utf8))
        producer.produce(topic: profilesTopic, key: Array("E1".utf8), value: Array(e1.utf8))
        let t0 = setup.t0
        for k in 0..<10 {
            for e in ["E0", "E1"] {
                let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(e)-GT-1\",\"ts\":\(t0 + Int64(k) * 30_000),\"value\":5}"
                producer.produce(topic: setup.input, partition: 0, key: Array(e.utf8), value: Array(json.utf8))
            }
        }
        var config = setup.config()
        config.tables.profiles = profilesTopic
        let run = setup.run(config)
        #expect(run.readings == 20)
        let grades = run.parsed(".grades")
        func first(_ e: String) throws -> [String: Any] { try #require(grades.first { $0["enterprise"] as? String == e }) }
        func number(_ g: [String: Any], _ group: String, _ name: String) -> Double? {
            ((g[group] as? [String: Any])?[name] as? NSNumber)?.doubleValue
        }
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

    @Test(
        "an enterprise missing from the profile table is graded with profile_missing, and explain says so; grades and alerts taken before the tables were read to their end are marked"
    )
    func profileMissing() throws {
        let setup = PipelineHarness()
        setup.produce(topic: "profiles", key: Array("E0".utf8), value: Array(#"{"enterprise":"E0","region":"R1"}"#.utf8))
        for k in 0..<4 {
            for e in ["E0", "E9"] { setup.reading(enterprise: e, sensor: "\(e)-GT-1", ts: setup.t0 + Int64(k) * 30_000, value: 5) }
        }
        // A tank level point without static levels: threshold_not_set until its setpoints are read.
        setup.reading(enterprise: "E0", sensor: "E0-LT-1", ts: setup.t0, value: 50)
        var config = setup.config()
        config.pipeline.sensorTypes.append(
            SensorTypePlan(name: "tank_level", match: ["-LT-"], rule: ThresholdRule(name: "tank_level", level1: nil, deadband: 1)))
        for complete in [true, false] {
            config.tables.profiles = "profiles"
            let run = setup.run(config, tablesComplete: complete)
            let grades = run.parsed(".grades")
            let notSet = try #require(run.parsed(".alerts").first { $0["event"] as? String == "threshold_not_set" })
            #expect(complete ? notSet["tables_complete"] == nil : notSet["tables_complete"] as? Bool == false, "\(notSet)")
            let alertSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json")
            #expect(alertSchema.validate(json: try JSONSerialization.data(withJSONObject: notSet)).isEmpty)
            func inputs(_ e: String) throws -> [String: Any] {
                try #require(grades.first { $0["enterprise"] as? String == e }?["inputs"] as? [String: Any])
            }
            #expect(try inputs("E0")["profile_missing"] as? Bool == false && inputs("E9")["profile_missing"] as? Bool == true)
            #expect(try inputs("E0")["tables_complete"] as? Bool == complete && inputs("E9")["tables_complete"] as? Bool == complete)
            let e9 = try #require(grades.first { $0["enterprise"] as? String == "E9" })
            let text = GradeExplainer.explain(e9)
            #expect(text.contains("profile missing: the enterprise is not in the profile table"), "\(text)")
            #expect(text.contains("tables incomplete") == !complete)
            let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
            for g in grades { #expect(schema.validate(json: try JSONSerialization.data(withJSONObject: g)).isEmpty) }
        }
        // Without a profile table neither is known.
        config.tables.profiles = nil
        let plain = try #require(setup.run(config).parsed(".grades").first?["inputs"] as? [String: Any])
        #expect(plain["profile_missing"] is NSNull && plain["tables_complete"] is NSNull)
    }

    @Test("§4.3 overrides: a red-severity AL2 lasting over 10 min, and any AL2 during hot work in the same unit, make the enterprise red")
    func redOverrides() throws {
        let setup = PipelineHarness()
        let permits = "permits"
        let producer = setup
        let t0 = setup.t0
        // Hot-work permits for minutes 0–60: E1's without a unit; E2's and E3's for unit U1. E0 has none.
        let permitSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/safety.permits.v1.schema.json")
        for (e, unit) in [(1, ""), (2, ",\"unit\":\"U1\""), (3, ",\"unit\":\"U1\"")] {
            let json = "{\"enterprise\":\"E\(e)\",\"permit\":\"P1\",\"kind\":\"hot_work_2\",\"start\":\(t0),\"end\":\(t0 + 3_600_000)\(unit)}"
            #expect(permitSchema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
            producer.produce(topic: permits, key: Array("E\(e)".utf8), value: Array(json.utf8))
        }
        #expect(!permitSchema.validate(json: Data("{\"enterprise\":\"E1\",\"permit\":\"P1\",\"kind\":\"hot_work_2\",\"start\":1}".utf8)).isEmpty)
        var count = 0
        // One point per enterprise reaches AL2 (55) at minute 5 and stays there for 20 min: E0-GT-0 and E2's,
        // in unit U2, on partition 0; E1-GT-1 (no unit in its id) and E3's, in unit U1, on partition 1.
        let sensors = ["E0-GT-0", "E1-GT-1", "E2-U2-GT-2", "E3-U1-GT-3"]
        for k in 0..<60 {
            let t = t0 + Int64(k) * 30_000
            for e in 0...3 {
                let value = k >= 10 && k < 50 ? 55.0 : 5.0
                let json = "{\"enterprise\":\"E\(e)\",\"sensor\":\"\(sensors[e])\",\"ts\":\(t),\"value\":\(value)}"
                producer.produce(topic: setup.input, partition: Int32(e % 2), key: Array("E\(e)".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        var config = setup.config()
        config.tables.permits = permits
        config.pipeline.sensorUnit = SensorUnitPattern.reader("^[^-]+-(U[0-9]+)-")
        config.pipeline.sensorTypes[0].policy = AlertPolicy(level1: .yellow, level2: .red)  // the gas rule's AL2 is a red alert
        let run = setup.run(config)
        #expect(run.readings == Int64(count))
        let grades = run.parsed(".grades")
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

    @Test("§4.3/§5: a silent enterprise keeps being graded; a data interruption lasting 24 h makes it yellow, during hot work orange")
    func dataInterruption() throws {
        let setup = PipelineHarness()
        let permits = "permits"
        let producer = setup
        let t0 = setup.t0 - 26 * 3_600_000
        let hour: Int64 = 3_600_000
        // E1 has a hot-work permit for the whole 26 h.
        producer.produce(
            topic: permits, key: Array("E1".utf8),
            value: Array(
                "{\"enterprise\":\"E1\",\"permit\":\"P1\",\"kind\":\"hot_work_2\",\"start\":\(t0),\"end\":\(t0 + 26 * hour)}".utf8))
        // Partition 0: E0's three points report for the first hour, then fall silent until the last 10 minutes;
        // E2's point reports for 26 h.
        // Partition 1: of E1's two points, one falls silent after the first hour.
        var count = 0
        func send(_ e: String, _ sensor: String, _ partition: Int32, _ t: Int64) throws {
            let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(sensor)\",\"ts\":\(t),\"value\":5}"
            producer.produce(topic: setup.input, partition: partition, key: Array(e.utf8), value: Array(json.utf8))
            count += 1
        }
        for k in 0..<(26 * 60) {
            let t = t0 + Int64(k) * 60_000
            if k < 60 || k >= 26 * 60 - 10 { for s in 0..<3 { try send("E0", "E0-GT-\(s)", 0, t) } }
            try send("E2", "E2-GT-0", 0, t)
            if k < 60 { try send("E1", "E1-GT-0", 1, t) }
            try send("E1", "E1-GT-1", 1, t)
        }
        var config = setup.config()
        config.tables.permits = permits
        config.grading.heartbeat = 600_000
        let run = setup.run(config)
        #expect(run.readings == Int64(count))
        let grades = run.parsed(".grades")
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
        #expect(
            since > lastReading + 1_800_000 && since <= lastReading + 1_800_000 + 60_000,
            "\(since - lastReading) \(e0.map { "\($0.level) \($0.ts - t0) \(($0.since ?? t0) - t0)" })")
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
        #expect(
            e1.filter { $0.ts >= orange.ts + 24 * hour }.last?.overrides == ["data_interruption", "data_interruption_during_hot_work"],
            "\(e1.map { "\($0.level) \($0.ts - t0) \(($0.since ?? t0) - t0)" })")
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
        let alerts = run.parsed(".alerts")
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

    @Test("anomaly episodes of the statistical detectors raise A as pseudo-alarms; the grade record shows both scores")
    func pseudoAlarmsInGrades() throws {
        let setup = PipelineHarness()
        let producer = setup
        // E0-GT-1: noise around 5 for 30 min, then a shift to 15 (below AL1 25) for 10 min, sampled every 10 s.
        var rng = SplitMix64(seed: 3)
        var count = 0
        for k in 0..<240 {
            let value = (k >= 180 ? 15.0 : 5.0) + 0.3 * rng.nextGaussian()
            let json = "{\"enterprise\":\"E0\",\"sensor\":\"E0-GT-1\",\"ts\":\(setup.t0 + Int64(k) * 10_000),\"value\":\(value)}"
            producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
            count += 1
        }
        var config = setup.config()
        config.grading.heartbeat = 60_000
        let run = setup.run(config)
        #expect(run.readings == Int64(count))
        let grades = run.parsed(".grades")
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

    @Test("§5: a filed offline notice suspends the escalation of a data interruption until its planned online time + 1 h")
    func offlineNoticeSuspendsEscalation() throws {
        let setup = PipelineHarness()
        let notices = "notices"
        let producer = setup
        let hour: Int64 = 3_600_000
        let t0 = setup.t0 - 6 * hour
        // E0 filed notice N1 for hours 0.8–4; E1's only notice is inconsistent (ignored); E2 files none.
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/safety.offline-notices.v1.schema.json")
        for (e, json) in [
            (
                "E0",
                "{\"enterprise\":\"E0\",\"notice\":\"N1\",\"from\":\(t0 + 48 * 60_000),\"planned_online\":\(t0 + 4 * hour),\"reason\":\"gateway replacement\"}"
            ),
            ("E1", "{\"enterprise\":\"E1\",\"notice\":\"N2\",\"from\":\(t0 + 2 * hour),\"planned_online\":\(t0 + hour)}"),
        ] {
            #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
            producer.produce(topic: notices, key: Array(e.utf8), value: Array(json.utf8))
        }
        // Partition 0: E0's and E1's three points report for the first hour, then fall silent; E2's point
        // reports for 6 h (the partition's event time).
        var count = 0
        for k in 0..<(6 * 60) {
            let t = t0 + Int64(k) * 60_000
            var sensors = ["E2-GT-0"]
            if k < 60 { sensors += (0..<3).flatMap { ["E0-GT-\($0)", "E1-GT-\($0)"] } }
            for sensor in sensors {
                let e = String(sensor.prefix(2))
                let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(sensor)\",\"ts\":\(t),\"value\":5}"
                producer.produce(topic: setup.input, partition: 0, key: Array(e.utf8), value: Array(json.utf8))
                count += 1
            }
        }
        var config = setup.config()
        config.tables.offlineNotices = notices
        config.grading.heartbeat = 600_000
        config.grading.interruptionYellowAfter = 2 * hour
        let run = setup.run(config)
        #expect(run.readings == Int64(count))
        #expect(run.rejectedOfflineNotices == 1)
        #expect(run.rejectedTableRecords.count == 1 && run.rejectedTableRecords[0].contains("is not after from"), "\(run.rejectedTableRecords)")
        let grades = run.parsed(".grades")
        func records(_ e: String) -> [(ts: Int64, level: String, since: Int64?, notice: String?)] {
            grades.filter { $0["enterprise"] as? String == e }.map { g in
                let inputs = g["inputs"] as? [String: Any] ?? [:]
                return (
                    (g["ts"] as? NSNumber)?.int64Value ?? 0, g["level"] as? String ?? "", (inputs["interrupted_since"] as? NSNumber)?.int64Value,
                    (inputs["offline_notice"] as? [String: Any])?["notice"] as? String
                )
            }
        }
        // Both are interrupted from about 1.5 h (last readings at minute 59, offline 30 min later).
        let e0 = records("E0")
        let e1 = records("E1")
        let since = try #require(e1.compactMap(\.since).first, "\(e1)")
        #expect(e0.compactMap(\.since).first == since)
        // E1 (no valid notice): yellow once interrupted for 2 h.
        let e1Yellow = try #require(e1.first { $0.level == "yellow" }, "\(e1.map { "\($0.level) \($0.ts - t0)" })")
        #expect(e1Yellow.ts >= since + 2 * hour && e1Yellow.ts <= since + 2 * hour + 60_000)
        #expect(e1.allSatisfy { $0.notice == nil })
        // E0: its notice is in force until 4 h + 1 h of grace; it stays blue until then, and turns yellow after.
        let graceEnd = t0 + 5 * hour
        let e0Yellow = try #require(e0.first { $0.level == "yellow" }, "\(e0.map { "\($0.level) \($0.ts - t0)" })")
        #expect(e0Yellow.ts >= graceEnd && e0Yellow.ts <= graceEnd + 60_000, "\(e0Yellow.ts - t0)")
        #expect(e0.filter { $0.ts < graceEnd }.allSatisfy { $0.level == "blue" })
        #expect(e0.filter { $0.ts >= t0 + 48 * 60_000 && $0.ts < graceEnd }.allSatisfy { $0.notice == "N1" })
        #expect(e0.contains { $0.since != nil && $0.notice == "N1" }, "the interruption is reported while the notice holds")
        #expect(e0.filter { $0.ts >= graceEnd }.allSatisfy { $0.notice == nil })
        let gradeSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades {
            let data = try JSONSerialization.data(withJSONObject: g)
            #expect(gradeSchema.validate(json: data).isEmpty, "\(gradeSchema.validate(json: data))")
        }
        let noticed = try #require(
            grades.last { $0["enterprise"] as? String == "E0" && ($0["inputs"] as? [String: Any])?["offline_notice"] is [String: Any] })
        #expect(GradeExplainer.explain(noticed).contains("offline notice N1 filed"))
        // The DATA_INTERRUPTION alert itself is not suspended.
        let alerts = run.parsed(".alerts").filter { $0["rule"] as? String == "data_interruption" && $0["event"] as? String == "interrupted" }
        #expect(Set(alerts.compactMap { $0["enterprise"] as? String }) == ["E0", "E1"])
    }

    @Test("a missing safety commitment adds 5 to Q from 09:00 local time, for the enterprise without one")
    func missingCommitmentInQ() throws {
        let setup = PipelineHarness()
        let topic = "commitments"
        let producer = setup
        // Local (+08:00) day of a fixed start at 08:00 local; E0 filed today's commitment, E1 did not.
        let offset: Int64 = 8 * 3_600_000
        let localDay = EventTime.floorDiv(setup.t0 + offset, 86_400_000) - 1
        let start = localDay * 86_400_000 + 8 * 3_600_000 - offset  // 08:00 local, a day ago (within the past horizon)
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let c = utc.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(localDay) * 86_400))
        let date = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        let record = "{\"enterprise\":\"E0\",\"date\":\"\(date)\"}"
        let inputSchema = try MiniJSONSchema(path: packageRoot() + "/Schemas/safety.commitments.v1.schema.json")
        #expect(inputSchema.validate(json: Data(record.utf8)).isEmpty)
        producer.produce(topic: topic, key: Array("E0".utf8), value: Array(record.utf8))
        var count = 0
        for k in 0..<120 {  // 08:00–10:00 local, one reading a minute each
            for e in 0...1 {
                let json = "{\"enterprise\":\"E\(e)\",\"sensor\":\"E\(e)-GT-1\",\"ts\":\(start + Int64(k) * 60_000),\"value\":5}"
                producer.produce(topic: setup.input, partition: Int32(e), key: Array("E\(e)".utf8), value: Array(json.utf8))
                count += 1
            }
        }
        var config = setup.config()
        config.tables.commitments = topic
        config.grading.heartbeat = 600_000
        config.pipeline.anomalySettings.utcOffset = offset
        let run = setup.run(config)
        #expect(run.readings == Int64(count))
        let grades = run.parsed(".grades")
        func rows(_ e: String) -> [(minutes: Int64, q: Double, missing: Bool?)] {
            grades.filter { $0["enterprise"] as? String == e }.map { g in
                (
                    (((g["ts"] as? NSNumber)?.int64Value ?? 0) - start) / 60_000,
                    ((g["factors"] as? [String: Any])?["data_quality"] as? NSNumber)?.doubleValue ?? -1,
                    (g["inputs"] as? [String: Any])?["commitment_missing"] as? Bool
                )
            }
        }
        let e1 = rows("E1")
        #expect(e1.filter { $0.minutes < 60 }.allSatisfy { $0.q == 0 && $0.missing == false }, "\(e1)")
        #expect(e1.contains { $0.minutes >= 60 && $0.q == 5 && $0.missing == true }, "\(e1)")
        #expect(rows("E0").allSatisfy { $0.q == 0 && $0.missing == false }, "\(rows("E0"))")
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades { #expect(schema.validate(json: try JSONSerialization.data(withJSONObject: g)).isEmpty) }
        let last = try #require(grades.last { $0["enterprise"] as? String == "E1" })
        let explained = GradeExplainer.explain(last)
        #expect(explained.contains("today's safety commitment is missing (+5)") && explained.contains("× 20 (§5)"), "\(explained)")
        #expect(explained.contains("特级动火 15, 一级 8, 二级 3, 受限空间 8, 开停车 10, 试生产 10, 检维修 5; cap 30"), "\(explained)")
        // The explanation prints the pipeline's weights, not the defaults.
        var weights = FactorWeights()
        weights.missingCommitment = 7
        weights.offlineWeight = 12
        weights.permits = ["hot_work_1": 9, "lifting": 2]
        weights.operationsCap = 25
        weights.openMajorHazard = 18
        let custom = GradeExplainer.explain(last, weights: weights)
        #expect(custom.contains("today's safety commitment is missing (+7)") && custom.contains("× 12 (§5)"), "\(custom)")
        #expect(custom.contains("valid: 一级 9, lifting 2; cap 25") && custom.contains("major +18 each"), "\(custom)")
    }
}
