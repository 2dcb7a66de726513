import Foundation
import Testing
@testable import VigilCore
import VigilPipeline
@testable import VigilRuntime
import VigilTesting

/// The one encoder of alert records against the published schema (no broker needed).
@Suite struct AlertRecordTests {
    static let schema = Result { try MiniJSONSchema(path: packageRoot() + "/Schemas/risk.alerts.v1.schema.json") }

    static func record(event: AlertEvent, sensor: String? = "E0-GT-\"1\\") -> AlertRecord {
        AlertRecord(
            kind: .alarm, alertID: "\(sensor ?? "E0")/flammable_gas/1000", event: event, level: .al1, previousLevel: .normal, enterprise: "E\"0",
            sensor: sensor, rule: "flammable_gas", ts: 2_000, raisedAt: 1_000, value: 30.5, limit: 25, direction: .high, severity: .yellow,
            respondBy: 7_201_000, notify: ["safety", "production"])
    }

    @Test("a route takes the records whose severity and kind it lists; an empty list takes any")
    func routesBySeverityAndKind() {
        // The kinds the loader accepts are exactly the runtime's.
        #expect(PipelineLoader.alertKinds == AlertKind.allCases.map(\.rawValue))
        var redAlarm = Self.record(event: .raised)
        redAlarm.severity = .red
        var fault = Self.record(event: .fault)
        fault.kind = .instrument
        fault.severity = .blue
        var redFault = fault
        redFault.severity = .red
        let urgent = AlertRoute(levels: [.red, .orange], topic: "u")
        let equipment = AlertRoute(kinds: [.instrument, .dataGap], topic: "e")
        let redEquipment = AlertRoute(levels: [.red], kinds: [.instrument], topic: "r")
        #expect(urgent.takes(redAlarm) && !urgent.takes(fault) && urgent.takes(redFault))
        #expect(!equipment.takes(redAlarm) && equipment.takes(fault) && equipment.takes(redFault))
        #expect(!redEquipment.takes(redAlarm) && !redEquipment.takes(fault) && redEquipment.takes(redFault))
    }

    @Test("every kind of record encodes to valid JSON that matches the schema, ids and keys escaped")
    func encodesEveryKind() throws {
        let schema = try Self.schema.get()
        // Every event, level and direction the encoder can write, each in a record the schema must accept.
        var records = AlertEvent.allCases.filter { $0 != .overdue && $0 != .acknowledged }.map { Self.record(event: $0) }
        for level in AlertLevel.allCases {
            var r = Self.record(event: .raised)
            r.level = level
            r.previousLevel = level
            records.append(r)
        }
        for direction in AlertDirection.allCases {
            var r = Self.record(event: .raised)
            r.direction = direction
            records.append(r)
        }
        var overdue = Self.record(event: .overdue)
        overdue.previousSeverity = .yellow
        overdue.severity = .orange
        var acknowledged = Self.record(event: .acknowledged)
        acknowledged.previousSeverity = .yellow
        acknowledged.acknowledgedBy = "operator \"12\""
        var interrupted = Self.record(event: .interrupted, sensor: nil)
        interrupted.level = .offline
        interrupted.value = .nan
        var suppressed = Self.record(event: .raised)
        suppressed.suppressed = .chattering
        records += [overdue, acknowledged, interrupted, suppressed]
        for r in records {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.json.utf8)) as? [String: Any], "\(r.json)")
            #expect(schema.validate(json: Data(r.json.utf8)).isEmpty, "\(r.json)")
            #expect(object["alert_id"] as? String == r.alertID && object["enterprise"] as? String == "E\"0")
            #expect((object["acknowledged_by"] as? String) == (r.event == .acknowledged ? "operator \"12\"" : nil))
            #expect((object["previous_severity"] != nil) == (r.previousSeverity != nil))
        }
        #expect(interrupted.json.contains("\"sensor\":null") && interrupted.json.contains("\"value\":null"))
        #expect(suppressed.json.hasSuffix("\"suppressed\":\"chattering\"}"))
    }

    @Test("the encoder's event, level, direction and suppression enums are exactly the schema's")
    func enumsMatchSchema() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot() + "/Schemas/risk.alerts.v1.schema.json"))
        let properties = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["properties"] as? [String: Any])
        func values(_ field: String) -> Set<String> {
            Set(((properties[field] as? [String: Any])?["enum"] as? [Any] ?? []).compactMap { $0 as? String })
        }
        #expect(values("event") == Set(AlertEvent.allCases.map(\.rawValue)))
        #expect(values("level") == Set(AlertLevel.allCases.map(\.rawValue)) && values("previous_level") == values("level"))
        #expect(values("direction") == Set(AlertDirection.allCases.map(\.rawValue)))
        #expect(values("suppressed") == ["chattering", "flood"])
    }
}
