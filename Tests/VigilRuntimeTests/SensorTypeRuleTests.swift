import Foundation
import Testing
import VigilCore
import VigilPipeline
@testable import VigilRuntime
import VigilTools
import VigilTesting

/// What a point's sensor type decides, on the partition pipeline (no broker): `DOMAIN.md` §5 STALE (a point is
/// stale after max(3 × its nominal period, 5 min)) and its alarm rule (the first type it matches).
@Suite struct SensorTypeRuleTests {
    @Test("below the instrument's range a reading is a FAULT only, no process alarm; above it, a FAULT and a process alarm")
    func belowRangeIsAFaultOnly() throws {
        let setup = PipelineHarness()
        // A pressure point with a 0–4000 kPa instrument and two-sided levels: LL 50, L 100, H 3000, HH 3600.
        let sides = PointSetpoints(high: 3_000, highHigh: 3_600, low: 100, lowLow: 50)
        var config = setup.config()
        config.pipeline.sensorTypes = [
            SensorTypePlan(
                name: "pressure", match: ["-PT-"], rule: ThresholdRule(name: "pressure", level1: nil, sides: sides),
                check: DeviceCheck(rangeMin: 0, rangeMax: 4_000))
        ]
        // Normal, then a broken loop (−400 kPa) for 2 min, normal, then saturated at 4100 (above range and HH), normal.
        let values: [Double] = [1_000, 1_000, -400, -400, -400, -400, 1_000, 1_000, 4_100, 4_100, 1_000, 1_000]
        for (k, v) in values.enumerated() { setup.reading(enterprise: "E0", sensor: "E0-PT-1", ts: setup.t0 + Int64(k) * 30_000, value: v) }
        var grading = PartitionPipelineSettings.Grading()
        grading.heartbeat = 1  // a grade at every evaluation, to see Q during the fault
        config.pipeline.grading = grading
        let run = setup.run(config)
        let alerts = run.parsed(".alerts")
        // The faulty point counts in Q like a frozen one: the grade at the fault has the point in its frozen share.
        let grades = run.parsed(".grades")
        let atFault = try #require(grades.first { ($0["ts"] as? NSNumber)?.int64Value == setup.t0 + 2 * 30_000 })
        #expect((atFault["inputs"] as? [String: Any])?["frozen_share"] as? Double == 1, "\(atFault)")
        func events(rule: String) -> [String] {
            alerts.filter { $0["rule"] as? String == rule }.map {
                "\($0["event"]!) \($0["direction"]!) \(((($0["ts"] as? NSNumber)?.int64Value ?? 0) - setup.t0) / 30_000)"
            }
        }
        #expect(events(rule: "pressure") == ["raised high 8", "cleared high 10"], "no LL alarm from the broken loop")
        #expect(events(rule: "instrument_fault") == ["fault low 2", "fault_cleared none 6", "fault high 8", "fault_cleared none 10"])
    }

    @Test("a pipeline type's period sets its points' stale gap: a 5-minute type reporting every 5 min is not a data gap")
    func periodSetsStaleGap() throws {
        let spec = try PipelineLoader.parse(
            yaml: """
                name: p
                sources: { readings: t }
                windows: [{ name: m, kind: tumbling, size: 1m }]
                sensor_types:
                  differential_pressure: { match: ["-DP-"], unit: kPa, al1: 1.5, al2: 2.5, period: 5m, range: [0, 10] }
                  gas: { match: ["-GT-"], al1: 25, al2: 50, range: [0, 100] }
                """, file: "p.yaml")
        #expect(spec.sensorTypes.map { spec.staleAfter(of: $0) } == [900_000, 300_000])
        let setup = PipelineHarness()
        var config = setup.config()
        // The file's types and checks; the gas points keep the harness's gas rule, the pressure points none.
        var types = spec.partitionSettings.sensorTypes
        for i in types.indices { types[i].rule = types[i].match == ["-GT-"] ? config.pipeline.sensorTypes[0].rule : nil }
        config.pipeline.sensorTypes = types
        #expect(config.pipeline.sensorTypes.map { $0.check?.staleAfter } == [900_000, 300_000])
        config.pipeline.anomalyFloor = 0.5
        // Both points every 5 min and 2 s for 3 h (their period, with the jitter of a real gateway).
        let producer = setup
        for k in 0..<36 {
            for sensor in ["E0-DP-0", "E0-GT-0"] {
                let json =
                    "{\"enterprise\":\"E0\",\"sensor\":\"\(sensor)\",\"ts\":\(setup.t0 - 10_800_000 + Int64(k) * 302_000),\"value\":\(1 + k % 2)}"
                producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
            }
        }
        let run = setup.run(config)
        #expect(run.readings == 72)
        let gaps = run.parsed(".anomalies").filter { $0["detector"] as? String == "data_gap" }
        #expect(Set(gaps.compactMap { $0["sensor"] as? String }) == ["E0-GT-0"])
        #expect(gaps.count == 35, "every reading of the gas point after its first follows a gap past 5 min")
    }

    @Test("a point takes the first type it matches, also for its alarm rule: a type without levels listed first is not passed over")
    func firstMatchingTypeGivesTheRule() throws {
        let spec = try PipelineLoader.parse(
            yaml: """
                name: p
                sources: { readings: t }
                windows: [{ name: m, kind: tumbling, size: 1m }]
                sensor_types:
                  detector_status: { match: ["-GT-ST"], range: [0, 100] }
                  gas: { match: ["-GT-"], al1: 25, al2: 50, range: [0, 100] }
                """, file: "p.yaml")
        let compiled = spec.partitionSettings
        #expect(compiled.ruleOfType == [nil, 0] && compiled.alarmRules.map(\.name) == ["gas"])
        let setup = PipelineHarness()
        var config = setup.config()
        config.pipeline.sensorTypes = compiled.sensorTypes
        // Both points read 60 (above AL2 of the gas type) for 10 min: only the gas point is a gas point.
        let producer = setup
        for k in 0..<20 {
            for sensor in ["E0-GT-ST1", "E0-GT-1"] {
                let json = "{\"enterprise\":\"E0\",\"sensor\":\"\(sensor)\",\"ts\":\(setup.t0 + Int64(k) * 30_000),\"value\":60}"
                producer.produce(topic: setup.input, partition: 0, key: Array("E0".utf8), value: Array(json.utf8))
            }
        }
        let run = setup.run(config)
        #expect(run.readings == 40)
        let alarms = run.parsed(".alerts").filter { $0["rule"] as? String == "gas" }
        #expect(!alarms.isEmpty && Set(alarms.compactMap { $0["sensor"] as? String }) == ["E0-GT-1"], "\(alarms)")
    }
}

extension GradeRuleTests {
    @Test("the offline KPI is the credit score's monitoring compliance where the profile's credit factors leave it out")
    func monitoringComplianceInCredit() throws {
        let setup = PipelineHarness()
        let profilesTopic = "profiles"
        let producer = setup
        // E0 assesses its credit by factors and leaves monitoring out; E1 gives monitoring itself.
        let profiles = [
            ("E0", "{\"enterprise\":\"E0\",\"credit\":{\"factors\":{\"hazard_closure\":80,\"enforcement\":50}}}"),
            ("E1", "{\"enterprise\":\"E1\",\"credit\":{\"factors\":{\"hazard_closure\":80,\"monitoring\":60}}}"),
        ]
        for (e, json) in profiles { producer.produce(topic: profilesTopic, key: Array(e.utf8), value: Array(json.utf8)) }
        // Two points each, every 30 s for 2 h; point 1 is silent from minute 20 to minute 70 (OFFLINE from 49.5 min).
        var count: Int64 = 0
        for k in 0..<240 {
            let t = setup.t0 + Int64(k) * 30_000
            for e in ["E0", "E1"] {
                for s in 0..<2 where s == 0 || !(t >= setup.t0 + 1_200_000 && t < setup.t0 + 4_200_000) {
                    let json = "{\"enterprise\":\"\(e)\",\"sensor\":\"\(e)-GT-\(s)\",\"ts\":\(t),\"value\":\(s + 1)}"
                    producer.produce(topic: setup.input, partition: 0, key: Array(e.utf8), value: Array(json.utf8))
                    count += 1
                }
            }
        }
        var config = setup.config()
        config.tables.profiles = profilesTopic
        config.grading.offlineKPIWindow = 2 * 3_600_000  // 2 points × 2 h = 4 point-hours
        config.grading.heartbeat = 600_000
        let run = setup.run(config)
        #expect(run.readings == count)

        let grades = run.parsed(".grades")
        func number(_ object: Any?) -> Double? { (object as? NSNumber)?.doubleValue }
        var lowered = 0
        var given = 0
        for g in grades {
            let inputs = try #require(g["inputs"] as? [String: Any])
            let factors = try #require(g["factors"] as? [String: Any])
            let hours = try #require(number(inputs["offline_point_hours"]))
            let credit = try #require(number(inputs["credit_score"]))
            #expect(abs(try #require(number(factors["credit"])) - 10 * (100 - credit) / 100) < 1e-9, "\(g)")
            if g["enterprise"] as? String == "E0" {
                let m = try #require(number(inputs["monitoring_compliance"]), "\(g)")
                #expect(abs(m - 100 * (1 - hours / 4)) < 1e-9, "\(g)")
                let expected = CreditScore(factors: ["hazard_closure": 80, "enforcement": 50, "monitoring": m]).score
                #expect(abs(credit - expected) < 1e-9, "\(g)")
                if m < 100 { lowered += 1 }
            } else {
                #expect(inputs["monitoring_compliance"] is NSNull, "\(g)")
                #expect(abs(credit - CreditScore(factors: ["hazard_closure": 80, "monitoring": 60]).score) < 1e-9, "\(g)")
                given += 1
            }
        }
        // The offline time lowers E0's credit in the records after the episode began (and the KPI keeps it).
        #expect(lowered >= 2 && given >= 2, "\(lowered) \(given)")
        let schema = try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json")
        for g in grades {
            let data = try JSONSerialization.data(withJSONObject: g)
            #expect(schema.validate(json: data).isEmpty, "\(schema.validate(json: data))")
        }
        let last = try #require(grades.last { $0["enterprise"] as? String == "E0" })
        #expect(GradeExplainer.explain(last).contains("monitoring compliance"), "\(GradeExplainer.explain(last))")
    }
}
