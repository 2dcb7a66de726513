import Foundation
import Testing
import VigilCore
import VigilTesting

/// The typed table-record decoders against a naive reference: `JSONSerialization` and `[String: Any]`, field
/// by field as the table reader used to read them, on random records with missing, mistyped, repeated and
/// unknown fields, escapes, nesting, and malformed payloads.
/// A JSON number as the reference reads it.
private func number(_ any: Any?) -> NSNumber? { any as? NSNumber }

private func string(_ x: Int64?) -> String? { x.map { String($0) } }

@Suite struct TableRecordTests {
    /// A random JSON value of another type than a field expects, or a valid one.
    static func randomValue(_ rng: inout TestRandom, valid: String) -> String {
        switch rng.int(in: 0...9) {
        case 0: return "null"
        case 1: return "\"text \\\" \\u00e9\\n\""
        case 2: return "[1, \"a\", {\"x\": null}]"
        case 3: return "{\"nested\": {\"deeper\": [true, false]}}"
        case 4: return String(rng.int(in: -1_000...1_000)) + ".75"
        case 5: return "1.5e3"
        default: return valid
        }
    }

    /// A random object with `fields` (name → a valid value), each present, absent, mistyped or repeated, plus
    /// unknown members, in random order.
    static func randomObject(_ rng: inout TestRandom, fields: [(String, String)]) -> String {
        var members: [String] = []
        for (name, valid) in fields {
            guard rng.bool(0.85) else { continue }
            members.append("\"\(name)\": \(rng.bool(0.8) ? valid : randomValue(&rng, valid: valid))")
            if rng.bool(0.05) { members.append("\"\(name)\": \(randomValue(&rng, valid: valid))") }
        }
        if rng.bool(0.3) { members.append("\"unknown\": \(randomValue(&rng, valid: "[]"))") }
        for i in members.indices.reversed() where i > 0 { members.swapAt(i, rng.int(in: 0...i)) }
        return "{" + members.joined(separator: rng.bool(0.5) ? "," : " ,\n ") + "}"
    }

    static func object(_ json: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    }

    static func decode<T>(_ json: String, _ make: (UnsafeRawBufferPointer) throws(TableRecordError) -> T) -> Result<T, TableRecordError> {
        Array(json.utf8).withUnsafeBytes { bytes in
            do throws(TableRecordError) { return .success(try make(bytes)) } catch { return .failure(error) }
        }
    }

    /// Compares `decode` with `reference` on 2,000 random records built from `fields`; both give the record's
    /// fields as strings (nil: rejected).
    static func compare(
        seed: UInt64, fields: (inout TestRandom) -> [(String, String)], reference: ([String: Any]) -> [String?]?,
        decode: (UnsafeRawBufferPointer) throws(TableRecordError) -> [String?]
    ) {
        var rng = TestRandom(seed: seed)
        var accepted = 0
        var rejected = 0
        for _ in 0..<2_000 {
            let json = randomObject(&rng, fields: fields(&rng))
            let expected = reference(object(json)!)
            switch Self.decode(json, decode) {
            case .success(let got):
                accepted += 1
                #expect(got == expected, "\(json)")
            case .failure(let error):
                rejected += 1
                #expect(expected == nil, "\(json): \(error)")
            }
        }
        #expect(accepted > 100 && rejected > 100, "\(accepted) accepted, \(rejected) rejected: the comparison would be vacuous")
    }

    @Test("permits decode as the JSONSerialization reference reads them")
    func permits() {
        Self.compare(
            seed: 11,
            fields: { rng in
                [
                    ("enterprise", "\"E\(rng.int(in: 1...9))\""), ("permit", "\"P\(rng.int(in: 1...9))\""), ("kind", "\"hot_work_1\""),
                    ("start", "\(rng.int(in: 0...1_000_000))"), ("end", "\(rng.int(in: 0...2_000_000))"),
                    ("unit", "\"U\\u0030\(rng.int(in: 1...3))\""),
                ]
            },
            reference: { o in
                guard let e = o["enterprise"] as? String, let id = o["permit"] as? String, let kind = o["kind"] as? String,
                    let start = number(o["start"])?.int64Value, let end = number(o["end"])?.int64Value
                else { return nil }
                return [e, id, kind, String(start), String(end), o["unit"] as? String]
            },
            decode: { (b) throws(TableRecordError) in
                let p = try PermitRecord(json: b)
                return [p.enterprise, p.permit, p.kind, String(p.start), String(p.end), p.unit]
            })
    }

    @Test("hidden hazards, acknowledgements and offline notices decode as the reference reads them")
    func hazardsAcknowledgementsNotices() {
        Self.compare(
            seed: 12,
            fields: { rng in
                [
                    ("enterprise", "\"E1\""), ("hazard", "\"H\(rng.int(in: 1...9))\""), ("class", rng.bool(0.5) ? "\"major\"" : "\"general\""),
                    ("status", rng.bool(0.5) ? "\"open\"" : "\"closed\""), ("deadline", "\(rng.int(in: 0...9_000_000))"),
                ]
            },
            reference: { o in
                guard let e = o["enterprise"] as? String, let id = o["hazard"] as? String else { return nil }
                let open = (o["status"] as? String ?? "open") == "open"
                return [e, id, String(o["class"] as? String == "major"), String(open), string(number(o["deadline"])?.int64Value)]
            },
            decode: { (b) throws(TableRecordError) in
                let h = try HazardRecord(json: b)
                return [h.enterprise, h.hazard, String(h.major), String(h.open), string(h.deadline)]
            })
        Self.compare(
            seed: 13,
            fields: { rng in [("alert_id", "\"E1-GT-1/gas/\(rng.int(in: 0...99))\""), ("ts", "\(rng.int(in: 0...99))"), ("by", "\"op \\\"7\\\"\"")] },
            reference: { o in
                guard let id = o["alert_id"] as? String, let t = number(o["ts"])?.int64Value else { return nil }
                return [id, String(t), o["by"] as? String]
            },
            decode: { (b) throws(TableRecordError) in
                let a = try AcknowledgementRecord(json: b)
                return [a.alertID, String(a.time), a.by]
            })
        Self.compare(
            seed: 14,
            fields: { rng in
                [
                    ("enterprise", "\"E1\""), ("notice", "\"N1\""), ("from", "\(rng.int(in: 0...1_000))"),
                    ("planned_online", "\(rng.int(in: 0...2_000))"),
                    ("reason", "\"maintenance\""),
                ]
            },
            reference: { o in
                guard o["enterprise"] is String, let id = o["notice"] as? String, let from = number(o["from"])?.int64Value,
                    let until = number(o["planned_online"])?.int64Value, until > from
                else { return nil }
                return [o["enterprise"] as? String, id, String(from), String(until), o["reason"] as? String]
            },
            decode: { (b) throws(TableRecordError) in
                let n = try OfflineNoticeRecord(json: b)
                return [n.enterprise, n.notice, String(n.from), String(n.plannedOnline), n.reason]
            })
    }

    @Test("setpoints and profiles (nested diagnostic and credit parts) decode as the reference reads them")
    func setpointsAndProfiles() {
        Self.compare(
            seed: 15,
            fields: { rng in
                [
                    ("enterprise", "\"E1\""), ("sensor", "\"E1-LT-1\""), ("h", "\(rng.int(in: 70...85))"), ("hh", "\(rng.int(in: 80...95))"),
                    ("l", "\(rng.int(in: 15...30))"), ("ll", "\(rng.int(in: 5...20))"), ("major_hazard_grade", "\(rng.int(in: 1...4))"),
                ]
            },
            reference: { o in
                guard o["enterprise"] is String, let sensor = o["sensor"] as? String else { return nil }
                func level(_ k: String) -> Double { number(o[k])?.doubleValue ?? .nan }
                let (h, hh, l, ll) = (level("h"), level("hh"), level("l"), level("ll"))
                func ordered(_ a: Double, _ b: Double) -> Bool { a.isNaN || b.isNaN || a < b }
                guard ordered(h, hh), ordered(ll, l), ordered(l, h), ordered(ll, hh) else { return nil }
                return [sensor, "\(h) \(hh) \(l) \(ll)", number(o["major_hazard_grade"]).map { String($0.intValue) }]
            },
            decode: { (b) throws(TableRecordError) in
                let p = try SetpointRecord(json: b)
                return [p.sensor, "\(p.levels.high) \(p.levels.highHigh) \(p.levels.low) \(p.levels.lowLow)", p.majorHazardGrade.map { String($0) }]
            })
        Self.compare(
            seed: 16,
            fields: { rng in
                [
                    ("enterprise", "\"E1\""), ("region", "\"north\""), ("industry", "\"chemicals\""), ("major_hazard_grade", "\(rng.int(in: 1...4))"),
                    (
                        "diagnostic",
                        "{\"items\": {\"key_hazardous_process\": \(rng.int(in: 0...5)), \"bad\": \"x\", \"b\": 2.5}, \"direct_red\": [\"major_accident_3y\", 3]}"
                    ),
                    ("diagnostic_score", "\(rng.int(in: 0...100))"),
                    ("credit", "{\"factors\": {\"hazard_closure\": 80}, \"serious_dishonesty\": true}"),
                    ("credit_score", "\(rng.int(in: 0...100))"),
                ]
            },
            reference: { o in
                guard let e = o["enterprise"] as? String else { return nil }
                func numbers(_ any: Any?) -> String {
                    var out: [String: Double] = [:]
                    for (k, v) in any as? [String: Any] ?? [:] { if let n = number(v)?.doubleValue, n.isFinite { out[k] = n } }
                    return out.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                }
                let d = o["diagnostic"] as? [String: Any]
                let c = o["credit"] as? [String: Any]
                return [
                    e, o["region"] as? String, o["industry"] as? String, number(o["major_hazard_grade"]).map { String($0.intValue) },
                    d.map {
                        numbers($0["items"]) + " " + ($0["direct_red"] as? [Any] ?? []).compactMap { $0 as? String }.sorted().joined(separator: ",")
                    },
                    number(o["diagnostic_score"]).map { "\($0.doubleValue)" },
                    c.map { numbers($0["factors"]) + " " + String($0["serious_dishonesty"] as? Bool ?? false) },
                    number(o["credit_score"]).map { "\($0.doubleValue)" },
                ]
            },
            decode: { (b) throws(TableRecordError) in
                let r = try ProfileRecord(json: b)
                let p = r.profile
                func numbers(_ m: [String: Double]) -> String { m.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
                return [
                    r.enterprise, p.region, p.industry, p.majorHazardGrade.map { String($0) },
                    p.diagnostic.map { numbers($0.counts) + " " + $0.directRed.sorted().joined(separator: ",") }, p.diagnosticScore.map { "\($0)" },
                    p.credit.map { numbers($0.factors) + " " + String($0.seriousDishonesty) }, p.creditScore.map { "\($0)" },
                ]
            })
    }

    @Test("a payload that is not one well-formed JSON object is rejected with a reason, never half-read")
    func malformedPayloads() {
        let good = "{\"enterprise\":\"E1\",\"permit\":\"P1\",\"kind\":\"hot_work_1\",\"start\":1,\"end\":2}"
        #expect(throws: Never.self) { _ = try Self.decode(good) { (b) throws(TableRecordError) in try PermitRecord(json: b) }.get() }
        // Every truncation of a valid record, and a few classic defects.
        var cases = (0..<good.utf8.count).map { String(decoding: Array(good.utf8)[..<$0], as: UTF8.self) }
        cases += [good + "x", good + good, "[" + good + "]", "\"E1\"", "{\"enterprise\":\"E1\",}", "{\"enterprise\":\"E1\" \"kind\":1}", "{'a':1}"]
        cases.append("{\"enterprise\":\"E\\x\"}")
        cases.append(String(repeating: "{\"a\":", count: 100) + "1" + String(repeating: "}", count: 100))
        for json in cases {
            let result = Self.decode(json) { (b) throws(TableRecordError) in try PermitRecord(json: b) }
            guard case .failure(let error) = result else {
                Issue.record("accepted \(json)")
                continue
            }
            #expect(error.kind == .malformed || error.kind == .missingField, "\(json): \(error)")
            #expect(!error.reason.isEmpty)
        }
        let bad = Self.decode("{\"enterprise\":\"E1\",,}") { (b) throws(TableRecordError) in try PermitRecord(json: b) }
        #expect(bad.failureReason?.hasPrefix("malformed JSON: ") == true, "\(String(describing: bad.failureReason))")
    }

    @Test("a grade summary takes the enterprise, a known level and the requested group fields")
    func gradeSummaries() throws {
        let json = "{\"enterprise\":\"E1\",\"level\":\"orange\",\"region\":\"north\",\"industry\":7,\"score\":61.5}"
        let g = try Self.decode(json) { (b) throws(TableRecordError) in try GradeSummaryRecord(json: b, groupBy: ["region", "industry"]) }.get()
        #expect(g.enterprise == "E1" && g.level == .orange && g.groups == ["region": "north"])
        let purple = Self.decode("{\"enterprise\":\"E1\",\"level\":\"purple\"}") { (b) throws(TableRecordError) in
            try GradeSummaryRecord(json: b, groupBy: [])
        }
        #expect(purple.failureReason == "a grade needs 'level' (red, orange, yellow or blue)")
    }
}

extension Result where Failure == TableRecordError {
    var failureReason: String? {
        if case .failure(let e) = self { return e.reason }
        return nil
    }
}
