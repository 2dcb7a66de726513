import Foundation
import Testing
@testable import VigilCore
@testable import VigilRuntime
import VigilTesting

/// The one encoder of grade records against the published schema (no broker needed).
@Suite struct GradeRecordTests {
    static let schema = Result { try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.grades.v1.schema.json") }

    static func record() -> GradeRecord {
        var inputs = RiskInputs()
        inputs.base = 40
        inputs.alarm = 12.5
        inputs.operations = 3
        inputs.hazards = 6
        inputs.dataQuality = 0.25
        inputs.credit = 1.5
        let indicators = AlarmBehaviour.Indicators(
            disturbanceRate: 0.1, repeatAlarmShare: 0.05, alarmsPerPoint: 0.3, meanTimeToClear: 90_000, longestAlarm: 600_000,
            offlineShare: 0.0125, frozenShare: 0.02, alarms: 7, pseudoAlarms: 3, pseudoDisturbanceRate: 0.2, pseudoRepeatAlarmShare: 0.05,
            pseudoAlarmsPerPoint: 0.45)
        return GradeRecord(
            enterprise: "E\"7\\", region: "R-1", industry: "chemical", level: .orange, previousLevel: .yellow, score: 61.25, seq: 4,
            ts: 1_700_000_060_000, changed: true, factors: inputs, alarmWeight: 0.3, indicators: indicators, offlinePointHours: 1.5,
            offlineEpisodes: 2, alarmScoreWithoutPseudo: 10, commitmentMissing: true, majorHazardGrade: 2, activePermits: 1, openHazards: 3,
            overdueMajorHazard: true, interruptedSince: 1_700_000_000_000, offlineNotice: ("N-\"1", 1_700_000_100_000), diagnosticScore: 72,
            directRed: ["no \"permit\""], creditScore: 55, monitoringCompliance: 92.5, overrides: ["overdue_major_hazard", "direct_red"],
            bands: (red: 75, orange: 55, yellow: 35))
    }

    @Test("a full grade record matches the schema, in its key order, and reads back as written (ids and texts escaped)")
    func fullRecord() throws {
        let schema = try Self.schema.get()
        let json = Self.record().json
        #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["enterprise"] as? String == "E\"7\\" && object["region"] as? String == "R-1")
        #expect(object["level"] as? String == "orange" && object["previous_level"] as? String == "yellow" && object["reason"] as? String == "change")
        #expect(object["score"] as? Double == 61.25 && object["seq"] as? Int == 4 && object["rule_version"] as? String == "vigil-risk-2")
        let factors = try #require(object["factors"] as? [String: Double])
        #expect(factors == ["base": 40, "alarm": 12.5, "alarm_weight": 0.3, "operations": 3, "hazards": 6, "data_quality": 0.25, "credit": 1.5])
        let inputs = try #require(object["inputs"] as? [String: Any])
        #expect(inputs["mean_time_to_clear_ms"] as? Int == 90_000 && inputs["alarms_24h"] as? Int == 7 && inputs["pseudo_alarms_24h"] as? Int == 3)
        let numbers: [String: Double] = [
            "disturbance_rate": 0.1, "repeat_alarm_share": 0.05, "alarms_per_point": 0.3, "longest_alarm_ms": 600_000, "offline_share": 0.0125,
            "frozen_share": 0.02, "alarm_score_without_pseudo": 10, "active_permits": 1, "open_hazards": 3,
            "interrupted_since": 1_700_000_000_000, "diagnostic_score": 72, "credit_score": 55, "monitoring_compliance": 92.5,
        ]
        for (key, value) in numbers { #expect((inputs[key] as? NSNumber)?.doubleValue == value, "\(key)") }
        #expect(
            inputs["overdue_major_hazard"] as? Bool == true && object["ts"] as? Int == 1_700_000_060_000
                && object["industry"] as? String == "chemical")
        #expect(inputs["offline_point_hours"] as? Double == 1.5 && inputs["offline_episodes"] as? Int == 2)
        #expect(inputs["commitment_missing"] as? Bool == true && inputs["major_hazard_grade"] as? Int == 2)
        #expect(inputs["diagnostic_level"] as? String == "orange" && inputs["credit_grade"] as? String == "C")
        #expect(inputs["direct_red"] as? [String] == ["no \"permit\""])
        #expect(inputs["overrides"] as? [String] == ["overdue_major_hazard", "direct_red"])
        let notice = try #require(inputs["offline_notice"] as? [String: Any])
        #expect(notice["notice"] as? String == "N-\"1" && notice["planned_online"] as? Int == 1_700_000_100_000)
        #expect(object["bands"] as? [String: Double] == ["red": 75, "orange": 55, "yellow": 35])
        // The schema's key order (downstream readers and diffs of the topic rely on a stable layout).
        let keys = [
            "enterprise", "region", "industry", "level", "previous_level", "score", "seq", "ts", "reason", "rule_version", "factors", "inputs",
            "bands",
        ]
        let positions = keys.map { json.range(of: "\"\($0)\":")?.lowerBound }
        #expect(!positions.contains(nil))
        #expect(positions.compactMap(\.self) == positions.compactMap(\.self).sorted())
    }

    @Test("a record without profile data writes nulls and empty lists, and still matches the schema")
    func sparseRecord() throws {
        let schema = try Self.schema.get()
        var r = Self.record()
        r.region = nil
        r.industry = nil
        r.changed = false
        r.commitmentMissing = nil
        r.majorHazardGrade = nil
        r.overdueMajorHazard = false
        r.interruptedSince = .min
        r.offlineNotice = nil
        r.diagnosticScore = nil
        r.directRed = []
        r.creditScore = nil
        r.monitoringCompliance = nil
        r.overrides = []
        let json = r.json
        #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json)")
        for null in [
            "region", "industry", "commitment_missing", "major_hazard_grade", "interrupted_since", "offline_notice", "diagnostic_score",
            "diagnostic_level", "credit_score", "credit_grade", "monitoring_compliance",
        ] {
            #expect(json.contains("\"\(null)\":null"), "\(null)")
        }
        #expect(json.contains("\"reason\":\"heartbeat\"") && json.contains("\"direct_red\":[]") && json.contains("\"overrides\":[]"))
        #expect(json.contains("\"overdue_major_hazard\":false"))
    }
}
