import Foundation
import Testing
import VigilCore
import VigilTesting

@Suite struct SchemaTests {
    let readings = try! MiniJSONSchema(path: packageRoot() + "/Schemas/safety.readings.v1.schema.json")
    let windowStats = try! MiniJSONSchema(path: packageRoot() + "/Schemas/risk.window-stats.v1.schema.json")

    @Test("the dead-letter schema's reasons are exactly the ones Vigil sends")
    func deadLetterReasons() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot() + "/Schemas/risk.dlq.v1.schema.json"))
        let properties = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["properties"] as? [String: Any])
        let reasons = ((properties["vigil.reason"] as? [String: Any])?["enum"] as? [Any] ?? []).compactMap { $0 as? String }
        #expect(reasons == RejectReason.all.map(\.rawValue))
    }

    @Test("Valid readings validate against the schema and decode")
    func readingsSchema() {
        let samples = [
            #"{"enterprise":"E0042","sensor":"E0042-GT-101","ts":1732300000123,"value":12.5,"unit":"%LEL","quality":"good"}"#,
            #"[{"enterprise":"E1","sensor":"S1","ts":"2024-11-22T18:26:40.123+08:00","value":-3},{"enterprise":"E1","sensor":"S2","ts":1,"value":1e-3}]"#,
        ]
        for text in samples {
            #expect(readings.validate(json: Data(text.utf8)).isEmpty, "\(text)")
            let (batch, rejections, _) = decode(text, now: nil)
            #expect(rejections.isEmpty && batch.count > 0)
        }
        // The schema rejects what the decoder rejects structurally.
        for text in [#"{"sensor":"S1","ts":1,"value":1}"#, #"{"enterprise":"E","sensor":"S","ts":1,"value":"1"}"#, "42"] {
            #expect(!readings.validate(json: Data(text.utf8)).isEmpty, "\(text)")
        }
    }

    @Test(
        "Encoded window rows validate against the schema and round-trip their values",
        arguments: [
            StatisticSet.basic, .all, [.count, .first, .last, .rateOfChange],
        ])
    func windowStatsRoundTrip(statistics: StatisticSet) throws {
        var sensors = KeyInterner()
        var enterprises = KeyInterner()
        let op = PaneWindowOperator(spec: WindowSpec(kind: .tumbling(size: 10_000), statistics: statistics), watermark: Watermark(outOfOrderness: 0))
        var batch = ReadingBatch()
        var rng = TestRandom(seed: 3)
        for i in 0..<500 {
            let s = sensors.intern("E\(i % 3)-\"quoted\"\\S\(i % 7)")
            let e = enterprises.intern("E\(i % 3)")
            batch.append(eventTime: 1_732_300_000_000 + Int64(i) * 250, sensor: s, enterprise: e, value: rng.double(in: -1e6...1e6))
        }
        var out = WindowResults()
        var late = LateRecords()
        op.process(batch, into: &out, late: &late)
        op.finish(into: &out)
        #expect(out.rowCount > 10)
        var encoder = WindowStatsEncoder(statistics: statistics)
        for i in 0..<out.rowCount {
            encoder.encode(out, row: i, sensors: sensors, enterprises: enterprises)
            let data = Data(encoder.buffer)
            #expect(windowStats.validate(json: data).isEmpty, "\(String(decoding: data, as: UTF8.self))")
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let row = out[i]
            #expect(object["sensor"] as? String == sensors.key(for: row.sensor))
            #expect(object["enterprise"] as? String == enterprises.key(for: row.enterprise))
            #expect((object["window_start"] as? NSNumber)?.int64Value == row.windowStart)
            #expect((object["count"] as? NSNumber)?.int64Value == row.count)
            #expect(object["kind"] as? String == row.kind.description)
            // Foundation's JSON parser rounds some doubles off by an ulp; read the numbers with strtod instead.
            let text = String(decoding: data, as: UTF8.self)
            if statistics.contains(.mean) { #expect(numberField(text, "mean") == row.mean) }
            if statistics.contains(.max) { #expect(numberField(text, "max") == row.max) }
            if statistics.contains(.p95) { #expect(numberField(text, "p95") == row.p95) }
            if statistics.contains(.rateOfChange) && row.rateOfChange.isNaN { #expect(object["rate_of_change"] is NSNull) }
        }
    }
}

/// The number after `"name":` in a JSON text, converted with strtod (exact).
func numberField(_ text: String, _ name: String) -> Double? {
    guard let range = text.range(of: "\"\(name)\":") else { return nil }
    let token = text[range.upperBound...].prefix { $0 != "," && $0 != "}" }
    return strtod(String(token), nil)
}

#if canImport(Glibc)
    import Glibc
#endif
