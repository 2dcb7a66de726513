// Typed decoders of the reference-table records and of the grade summaries the heat-map stage reads
// (`Schemas/`). Each reads one JSON object with ``_JSONObjectReader``: members it does not know are skipped,
// one of another type than its field's counts as absent, the last of a repeated key counts, and a missing or
// mistyped required field is an error whose reason goes to the dead-letter topic.

/// Why a table or grade record cannot be applied.
public struct TableRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Not one well-formed JSON object.
        case malformed
        /// A required field is missing or of another type.
        case missingField
        /// The fields are there but contradict each other (levels out of order, an interval that ends before it starts).
        case inconsistent
    }
    public var kind: Kind
    public var reason: String
    public init(_ reason: String, kind: Kind = .missingField) {
        self.kind = kind
        self.reason = reason
    }
    public var description: String { reason }
}

extension _JSONObjectReader {
    /// Reads `payload` as one object with `body`; throws when it is not one well-formed JSON object.
    static func decode(_ payload: UnsafeRawBufferPointer, _ body: (String, inout _JSONObjectReader) -> Void) throws(TableRecordError) {
        guard let base = payload.baseAddress, !payload.isEmpty else { throw TableRecordError("not a JSON object: empty payload", kind: .malformed) }
        var reader = _JSONObjectReader(_JSONCursor(base: base.assumingMemoryBound(to: UInt8.self), count: payload.count))
        if let e = reader.readObject(body) { throw TableRecordError(e, kind: .malformed) }
    }

    /// The members of the object at the cursor that are finite numbers (others are left out).
    mutating func numbers() -> [String: Double]? {
        var out: [String: Double] = [:]
        guard object({ key, r in if let x = r.double(), x.isFinite { out[key] = x } else { out[key] = nil } }) else { return nil }
        return out
    }

    /// The string elements of the array at the cursor (others are left out).
    mutating func strings() -> [String]? {
        var out: [String] = []
        guard array({ r in if let s = r.string() { out.append(s) } }) else { return nil }
        return out
    }
}

/// `{"alert_id": "E0042-GT-007/flammable_gas/1767225600000", "ts": ms, "by": "operator 12"}`
public struct AcknowledgementRecord: Sendable, Hashable {
    public var alertID: String
    public var time: Int64
    public var by: String?

    public init(json payload: UnsafeRawBufferPointer) throws(TableRecordError) {
        var id: String?
        var time: Int64?
        var by: String?
        try _JSONObjectReader.decode(payload) { key, r in
            switch key {
            case "alert_id": id = r.string()
            case "ts": time = r.int64()
            case "by": by = r.string()
            default: break
            }
        }
        guard let id, let time else { throw TableRecordError("an acknowledgement needs 'alert_id' (a string) and 'ts' (ms)") }
        alertID = id
        self.time = time
        self.by = by
    }
}

/// `{"enterprise": "E0042", "notice": "N7", "from": ms, "planned_online": ms, "reason": "…"}`
public struct OfflineNoticeRecord: Sendable, Hashable {
    public var enterprise: String
    public var notice: String
    public var from: Int64
    public var plannedOnline: Int64
    public var reason: String?

    public init(json payload: UnsafeRawBufferPointer) throws(TableRecordError) {
        var enterprise: String?
        var notice: String?
        var from: Int64?
        var until: Int64?
        var reason: String?
        try _JSONObjectReader.decode(payload) { key, r in
            switch key {
            case "enterprise": enterprise = r.string()
            case "notice": notice = r.string()
            case "from": from = r.int64()
            case "planned_online": until = r.int64()
            case "reason": reason = r.string()
            default: break
            }
        }
        guard let enterprise else { throw TableRecordError.missingEnterprise }
        guard let notice, let from, let until else {
            throw TableRecordError("an offline notice needs 'notice' (a string), 'from' and 'planned_online' (ms)")
        }
        guard until > from else { throw TableRecordError("planned_online \(until) is not after from \(from)", kind: .inconsistent) }
        self.enterprise = enterprise
        self.notice = notice
        self.from = from
        plannedOnline = until
        self.reason = reason
    }
}

/// `{"enterprise": "E0042", "date": "2026-11-23"}`
public struct CommitmentRecord: Sendable, Hashable {
    public var enterprise: String
    /// The local date, as days since 1970-01-01.
    public var day: Int64

    public init(json payload: UnsafeRawBufferPointer) throws(TableRecordError) {
        var enterprise: String?
        var date: String?
        try _JSONObjectReader.decode(payload) { key, r in
            switch key {
            case "enterprise": enterprise = r.string()
            case "date": date = r.string()
            default: break
            }
        }
        guard let enterprise else { throw TableRecordError.missingEnterprise }
        guard let date, let day = ReferenceTables.day(of: date) else { throw TableRecordError("a commitment needs 'date' as YYYY-MM-DD") }
        self.enterprise = enterprise
        self.day = day
    }
}

/// `{"enterprise": "E0042", "sensor": "E0042-LT-003", "h": 80, "hh": 90, "l": 20, "ll": 10, "major_hazard_grade": 2}`
public struct SetpointRecord: Sendable {
    public var enterprise: String
    public var sensor: String
    /// The levels given (NaN where absent), in order LL < L < H < HH.
    public var levels: PointSetpoints
    public var majorHazardGrade: Int?

    public init(json payload: UnsafeRawBufferPointer) throws(TableRecordError) {
        var enterprise: String?
        var sensor: String?
        var h: Double?
        var hh: Double?
        var l: Double?
        var ll: Double?
        var grade: Int64?
        try _JSONObjectReader.decode(payload) { key, r in
            switch key {
            case "enterprise": enterprise = r.string()
            case "sensor": sensor = r.string()
            case "h": h = r.double()
            case "hh": hh = r.double()
            case "l": l = r.double()
            case "ll": ll = r.double()
            case "major_hazard_grade": grade = r.int64()
            default: break
            }
        }
        guard let enterprise else { throw TableRecordError.missingEnterprise }
        guard let sensor else { throw TableRecordError("a setpoint record needs 'sensor' (a string)") }
        let levels = PointSetpoints(high: h, highHigh: hh, low: l, lowLow: ll)
        func ordered(_ a: Double, _ b: Double) -> Bool { a.isNaN || b.isNaN || a < b }
        let finite = [levels.high, levels.highHigh, levels.low, levels.lowLow].allSatisfy { $0.isNaN || $0.isFinite }
        guard finite, ordered(levels.high, levels.highHigh), ordered(levels.lowLow, levels.low), ordered(levels.low, levels.high),
            ordered(levels.lowLow, levels.highHigh)
        else { throw TableRecordError("setpoints out of order or not finite (need LL < L < H < HH where given)", kind: .inconsistent) }
        self.enterprise = enterprise
        self.sensor = sensor
        self.levels = levels
        majorHazardGrade = grade.flatMap { Int(exactly: $0) }
    }
}

/// `{"enterprise": "E0042", "permit": "E0042-P7", "kind": "hot_work_1", "start": ms, "end": ms, "unit": "U03"}`
public struct PermitRecord: Sendable, Hashable {
    public var enterprise: String
    public var permit: String
    public var kind: String
    public var start: Int64
    public var end: Int64
    public var unit: String?

    public init(json payload: UnsafeRawBufferPointer) throws(TableRecordError) {
        var enterprise: String?
        var permit: String?
        var kind: String?
        var start: Int64?
        var end: Int64?
        var unit: String?
        try _JSONObjectReader.decode(payload) { key, r in
            switch key {
            case "enterprise": enterprise = r.string()
            case "permit": permit = r.string()
            case "kind": kind = r.string()
            case "start": start = r.int64()
            case "end": end = r.int64()
            case "unit": unit = r.string()
            default: break
            }
        }
        guard let enterprise else { throw TableRecordError.missingEnterprise }
        guard let permit, let kind, let start, let end else {
            throw TableRecordError("a permit needs 'permit' and 'kind' (strings), 'start' and 'end' (ms)")
        }
        self.enterprise = enterprise
        self.permit = permit
        self.kind = kind
        self.start = start
        self.end = end
        self.unit = unit
    }
}

/// `{"enterprise": "E0042", "hazard": "E0042-H3", "class": "major"|"general", "status": "open"|"closed", "deadline": ms}`
public struct HazardRecord: Sendable, Hashable {
    public var enterprise: String
    public var hazard: String
    public var major: Bool
    /// `status` is "open" or absent (any other status closes the hazard).
    public var open: Bool
    public var deadline: Int64?

    public init(json payload: UnsafeRawBufferPointer) throws(TableRecordError) {
        var enterprise: String?
        var hazard: String?
        var kind: String?
        var status: String?
        var deadline: Int64?
        try _JSONObjectReader.decode(payload) { key, r in
            switch key {
            case "enterprise": enterprise = r.string()
            case "hazard": hazard = r.string()
            case "class": kind = r.string()
            case "status": status = r.string()
            case "deadline": deadline = r.int64()
            default: break
            }
        }
        guard let enterprise else { throw TableRecordError.missingEnterprise }
        guard let hazard else { throw TableRecordError("a hidden hazard needs 'hazard' (a string)") }
        self.enterprise = enterprise
        self.hazard = hazard
        major = kind == "major"
        open = (status ?? "open") == "open"
        self.deadline = deadline
    }
}

/// An enterprise profile (`DOMAIN.md` §2.1 and §7.2; every part optional): `{"enterprise": "E0042", "region": "…",
/// "industry": "…", "major_hazard_grade": 1…4 or null, "diagnostic": {"items": {…}, "direct_red": […]} or
/// "diagnostic_score": 0…100, "credit": {"factors": {…}, "serious_dishonesty": false} or "credit_score": 0…100}`
public struct ProfileRecord: Sendable {
    public var enterprise: String
    public var profile: ReferenceTables.Profile

    public init(json payload: UnsafeRawBufferPointer) throws(TableRecordError) {
        var enterprise: String?
        var region: String?
        var industry: String?
        var grade: Int64?
        var items: [String: Double]?
        var directRed: [String] = []
        var hasDiagnostic = false
        var diagnosticScore: Double?
        var factors: [String: Double]?
        var dishonesty = false
        var hasCredit = false
        var creditScore: Double?
        try _JSONObjectReader.decode(payload) { key, r in
            switch key {
            case "enterprise": enterprise = r.string()
            case "region": region = r.string()
            case "industry": industry = r.string()
            case "major_hazard_grade": grade = r.int64()
            case "diagnostic_score": diagnosticScore = r.double()
            case "credit_score": creditScore = r.double()
            case "diagnostic":
                items = nil
                directRed = []
                hasDiagnostic = r.object { key, d in
                    switch key {
                    case "items": items = d.numbers()
                    case "direct_red": directRed = d.strings() ?? []
                    default: break
                    }
                }
            case "credit":
                factors = nil
                dishonesty = false
                hasCredit = r.object { key, c in
                    switch key {
                    case "factors": factors = c.numbers()
                    case "serious_dishonesty": dishonesty = c.bool() ?? false
                    default: break
                    }
                }
            default: break
            }
        }
        guard let enterprise else { throw TableRecordError.missingEnterprise }
        var profile = ReferenceTables.Profile(region: region, industry: industry, majorHazardGrade: grade.flatMap { Int(exactly: $0) })
        if hasDiagnostic {
            profile.diagnostic = DiagnosticAssessment(
                counts: items ?? [:], majorHazardGrade: profile.majorHazardGrade.flatMap { MajorHazard.Grade(rawValue: $0) },
                directRed: Set(directRed))
        }
        profile.diagnosticScore = diagnosticScore
        if hasCredit { profile.credit = CreditScore(factors: factors ?? [:], seriousDishonesty: dishonesty) }
        profile.creditScore = creditScore
        self.enterprise = enterprise
        self.profile = profile
    }
}

/// What the heat-map stage reads of a grade record (`Schemas/risk.grades.v1.schema.json`): the enterprise, its
/// level, and the string fields it groups by.
public struct GradeSummaryRecord: Sendable, Hashable {
    public var enterprise: String
    public var level: RiskLevel
    /// The value of each of the requested group-by fields that is a string (absent: not given).
    public var groups: [String: String]

    public init(json payload: UnsafeRawBufferPointer, groupBy: [String]) throws(TableRecordError) {
        var enterprise: String?
        var level: String?
        var groups: [String: String] = [:]
        try _JSONObjectReader.decode(payload) { key, r in
            switch key {
            case "enterprise": enterprise = r.string()
            case "level": level = r.string()
            default: if groupBy.contains(key) { groups[key] = r.string() }
            }
        }
        guard let enterprise else { throw TableRecordError.missingEnterprise }
        guard let level, let grade = RiskLevel(name: level) else {
            throw TableRecordError("a grade needs 'level' (red, orange, yellow or blue)")
        }
        self.enterprise = enterprise
        self.level = grade
        self.groups = groups
    }
}

extension TableRecordError {
    static let missingEnterprise = TableRecordError("missing field 'enterprise' (a string)")
}
