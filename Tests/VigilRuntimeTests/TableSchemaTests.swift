import Foundation
import Testing
import VigilCore
@testable import VigilRuntime
import VigilTesting

/// The schemas of the enterprise and hazard tables and of the heat map: what they describe is what the
/// decoders read and the heat-map stage writes.
@Suite struct TableSchemaTests {
    static func schema(_ name: String) throws -> MiniJSONSchema { try MiniJSONSchema(path: packageRoot() + "/Schemas/\(name).schema.json") }

    static func properties(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot() + "/Schemas/\(name).schema.json"))
        return try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["properties"] as? [String: Any])
    }

    static func decode<T>(_ json: String, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try Array(json.utf8).withUnsafeBytes { try body($0) }
    }

    @Test("safety.enterprises: valid profiles validate and decode to what they say; the schema names the code's items and factors")
    func enterprises() throws {
        let schema = try Self.schema("safety.enterprises.v1")
        let full =
            #"{"enterprise":"E0042","region":"R1","industry":"chemical","major_hazard_grade":2,"#
            + #""diagnostic":{"items":{"key_hazardous_process":3},"direct_red":["major_accident_3y"]},"#
            + #""credit":{"factors":{"hazard_closure":80,"drills":60},"serious_dishonesty":false}}"#
        let scored = #"{"enterprise":"E7","diagnostic_score":72.5,"credit_score":64,"major_hazard_grade":null}"#
        for json in [full, scored, #"{"enterprise":"E8"}"#] {
            #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json): \(schema.validate(json: Data(json.utf8)))")
        }
        let p = try Self.decode(full) { try ProfileRecord(json: $0) }
        #expect(p.enterprise == "E0042" && p.profile.region == "R1" && p.profile.industry == "chemical" && p.profile.majorHazardGrade == 2)
        #expect(p.profile.directRed == ["major_accident_3y"] && p.profile.credit?.factors == ["hazard_closure": 80, "drills": 60])
        #expect(
            p.profile.diagnostic
                == DiagnosticAssessment(counts: ["key_hazardous_process": 3], majorHazardGrade: .two, directRed: ["major_accident_3y"]))
        let s = try Self.decode(scored) { try ProfileRecord(json: $0) }
        #expect(s.profile.diagnosis == 72.5 && s.profile.creditScore == 64 && s.profile.majorHazardGrade == nil)
        // What the decoder refuses, or reads as nothing, the schema refuses.
        for bad in [
            #"{"region":"R1"}"#, #"{"enterprise":"E1","major_hazard_grade":5}"#, #"{"enterprise":"E1","diagnostic":{"items":{"no_such_item":1}}}"#,
            #"{"enterprise":"E1","credit":{"factors":{"luck":50}}}"#, #"{"enterprise":"E1","diagnostic":{"direct_red":["bad_weather"]}}"#,
        ] {
            #expect(!schema.validate(json: Data(bad.utf8)).isEmpty, "\(bad)")
        }
        // The schema's names are the code's.
        let properties = try Self.properties("safety.enterprises.v1")
        func names(_ path: [String], _ leaf: String) -> Set<String> {
            var node: [String: Any]? = properties
            for key in path { node = ((node?[key] as? [String: Any])?["properties"] as? [String: Any]) ?? (node?[key] as? [String: Any]) }
            let sub = node?[leaf] as? [String: Any]
            let list = (sub?["propertyNames"] as? [String: Any])?["enum"] ?? (sub?["items"] as? [String: Any])?["enum"]
            return Set((list as? [String]) ?? [])
        }
        #expect(names(["diagnostic"], "items") == Set(DiagnosticAssessment.items.keys))
        #expect(names(["diagnostic"], "direct_red") == DiagnosticAssessment.directRedConditions)
        #expect(names(["credit"], "factors") == Set(CreditScore.weights.map(\.name)))
    }

    @Test("safety.hazards: valid hazards validate and decode; open is the default status, any other closes")
    func hazards() throws {
        let schema = try Self.schema("safety.hazards.v1")
        let open = #"{"enterprise":"E1","hazard":"H1","class":"major","status":"open","deadline":1782943200000}"#
        let closed = #"{"enterprise":"E1","hazard":"H1","class":"major","status":"rectified"}"#
        let plain = #"{"enterprise":"E1","hazard":"H2"}"#
        for json in [open, closed, plain] { #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json)") }
        let h = try Self.decode(open) { try HazardRecord(json: $0) }
        #expect(h.enterprise == "E1" && h.hazard == "H1" && h.major && h.open && h.deadline == 1_782_943_200_000)
        #expect(try Self.decode(closed) { try HazardRecord(json: $0) }.open == false)
        let general = try Self.decode(plain) { try HazardRecord(json: $0) }
        #expect(general.open && !general.major && general.deadline == nil)
        for bad in [#"{"enterprise":"E1"}"#, #"{"hazard":"H1"}"#] {
            #expect(!schema.validate(json: Data(bad.utf8)).isEmpty, "\(bad)")
            #expect(throws: TableRecordError.self) { _ = try Self.decode(bad) { try HazardRecord(json: $0) } }
        }
        #expect(!schema.validate(json: Data(#"{"enterprise":"E1","hazard":"H1","deadline":"soon"}"#.utf8)).isEmpty)
    }

    @Test("risk.heatmap: a cell validates, reads back as written, and escapes its group values")
    func heatmap() throws {
        let schema = try Self.schema("risk.heatmap.v1")
        let json = HeatmapJob.cell(
            groupBy: ["region", "industry"], group: ["north \"A\"", "chemicals"], byLevel: ["red": 1, "blue": 3], ts: 1_782_943_200_000)
        #expect(schema.validate(json: Data(json.utf8)).isEmpty, "\(json): \(schema.validate(json: Data(json.utf8)))")
        let cell = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(cell["region"] as? String == "north \"A\"" && cell["industry"] as? String == "chemicals")
        #expect(cell["red"] as? Int == 1 && cell["orange"] as? Int == 0 && cell["blue"] as? Int == 3 && cell["enterprises"] as? Int == 4)
        #expect(cell["ts"] as? Int64 == 1_782_943_200_000)
        #expect(!schema.validate(json: Data(#"{"region":"x","red":1}"#.utf8)).isEmpty)
    }
}

/// The per-table metrics as Prometheus text.
@Suite struct TableMetricsTests {
    @Test("each table topic's records, partitions and completeness are exposed with its table and topic")
    func exposition() {
        let metrics = RuntimeMetrics()
        metrics.update { s in
            s.tableTopics = [
                "safety.enterprises": (table: "profiles", partitions: 4, read: 10, complete: true),
                "safety.hazards": (table: "hazards", partitions: 0, read: 0, complete: false),
            ]
        }
        let text = metrics.render()
        for line in [
            #"vigil_table_records_total{pipeline="",table="profiles",topic="safety.enterprises"} 10"#,
            #"vigil_table_partitions{pipeline="",table="profiles",topic="safety.enterprises"} 4.0"#,
            #"vigil_table_complete{pipeline="",table="profiles",topic="safety.enterprises"} 1.0"#,
            #"vigil_table_partitions{pipeline="",table="hazards",topic="safety.hazards"} 0.0"#,
            #"vigil_table_complete{pipeline="",table="hazards",topic="safety.hazards"} 0.0"#,
        ] {
            #expect(text.split(separator: "\n").contains { $0 == line }, "\(line)\n\(text)")
        }
        #expect(text.contains("# TYPE vigil_table_complete gauge") && text.contains("# TYPE vigil_table_records_total counter"))
    }
}
