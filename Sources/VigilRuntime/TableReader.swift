import Foundation
import VigilCore

/// Applies the records of the reference-table topics to a ``ReferenceTables`` value (no Kafka: the
/// ``ProfileTable`` consumer hands it each record with the table its topic holds).
///
/// - Profiles: `{"enterprise": "E0042", "region": "…", "industry": "…", "major_hazard_grade": 1…4 or null,
///   "diagnostic": {"items": {"key_hazardous_process": 3, …}, "direct_red": ["major_accident_3y", …]} or
///   "diagnostic_score": 0…100, "credit": {"factors": {"hazard_closure": 0…100, …}, "serious_dishonesty": false}
///   or "credit_score": 0…100}` (`DOMAIN.md` §2.1 and §7.2; every part optional).
/// - Permits: `{"enterprise": "E0042", "permit": "E0042-P7", "kind": "hot_work_1", "start": ms, "end": ms, "unit": "U03"}`
///   (`Schemas/safety.permits.v1.schema.json`; `unit` optional: without it the permit covers the whole enterprise).
/// - Hazards: `{"enterprise": "E0042", "hazard": "E0042-H3", "class": "major"|"general", "status": "open"|"closed", "deadline": ms}`.
/// - Setpoints: `{"enterprise": "E0042", "sensor": "E0042-LT-003", "h": 80, "hh": 90, "l": 20, "ll": 10,
///   "major_hazard_grade": 2}` (`DOMAIN.md` §3.2: a point's design H/HH/L/LL, any of them optional, and the
///   grade of the major hazard its tank belongs to; the latest record per sensor counts; a record whose levels
///   are out of order — HH below H, LL above L, L not below H — is ignored and counted; a tombstone keyed by
///   the sensor id deletes them).
/// - Offline notices: `{"enterprise": "E0042", "notice": "N7", "from": ms, "planned_online": ms, "reason": "…"}`
///   (离线报备; the latest record per notice id; one whose planned online time is not after `from` is ignored).
/// - Commitments: `{"enterprise": "E0042", "date": "2026-11-23"}`: the enterprise filed its daily safety
///   commitment (安全承诺) for that local date (those more than 7 days older than the newest are forgotten).
/// - Acknowledgements: `{"alert_id": "E0042-GT-007/flammable_gas/1767225600000", "ts": ms, "by": "operator 12"}`
///   (the earliest acknowledgement of an alert id counts; those older than
///   ``ReferenceTables/acknowledgementRetention`` before the newest are forgotten).
struct TableReader {
    /// What a table topic holds.
    enum Table: String, Hashable, CaseIterable {
        case profiles, permits, hazards, acknowledgements, setpoints, commitments
        case offlineNotices = "offline_notices"
    }

    private(set) var tables = ReferenceTables()
    private(set) var rejectedOfflineNotices = 0
    private(set) var rejectedSetpoints = 0
    private var newestCommitment: Int64 = .min
    private var newestAcknowledgement: Int64 = .min
    private var acknowledgementsAtLastPrune = 0

    /// A reader of `reading` (the tables the pipeline is configured with).
    init(reading: Set<Table>) {
        tables.readsProfiles = reading.contains(.profiles)
        tables.readsPermits = reading.contains(.permits)
        tables.readsHazards = reading.contains(.hazards)
        tables.readsAcknowledgements = reading.contains(.acknowledgements)
        tables.readsSetpoints = reading.contains(.setpoints)
        tables.readsCommitments = reading.contains(.commitments)
        tables.readsOfflineNotices = reading.contains(.offlineNotices)
    }

    /// Applies one record of `table`.
    ///
    /// - Returns: nil when the record was applied (or deleted what it names); otherwise why it was not — not a
    ///   JSON object, a required field missing or of the wrong type, inconsistent values — for the dead-letter
    ///   topic. A rejected record changes nothing.
    @discardableResult
    mutating func apply(_ table: Table, key: UnsafeRawBufferPointer?, payload: UnsafeRawBufferPointer) -> String? {
        // A tombstone (no value) on the compacted setpoint topic deletes the point's setpoints.
        if payload.isEmpty, table == .setpoints, let key, let sensor = String(validating: key, as: UTF8.self) {
            if tables.setpoints.removeValue(forKey: sensor) != nil { tables.setpointsVersion += 1 }
            return nil
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any] else { return "not a JSON object" }
        if table == .acknowledgements {
            guard let id = object["alert_id"] as? String, let time = (object["ts"] as? NSNumber)?.int64Value else {
                return "an acknowledgement needs 'alert_id' (a string) and 'ts' (ms)"
            }
            if let known = tables.acknowledgements[id], known.time <= time { return nil }
            tables.acknowledgements[id] = ReferenceTables.Acknowledgement(time: time, by: object["by"] as? String)
            newestAcknowledgement = max(newestAcknowledgement, time)
            if tables.acknowledgements.count >= 2 * acknowledgementsAtLastPrune + 10_000 {
                let horizon = newestAcknowledgement - ReferenceTables.acknowledgementRetention
                tables.acknowledgements = tables.acknowledgements.filter { $0.value.time >= horizon }
                acknowledgementsAtLastPrune = tables.acknowledgements.count
            }
            return nil
        }
        guard let enterprise = object["enterprise"] as? String else { return "missing field 'enterprise' (a string)" }
        if table == .offlineNotices {
            guard let id = object["notice"] as? String, let from = (object["from"] as? NSNumber)?.int64Value,
                let until = (object["planned_online"] as? NSNumber)?.int64Value
            else { return "an offline notice needs 'notice' (a string), 'from' and 'planned_online' (ms)" }
            guard until > from else {
                rejectedOfflineNotices += 1
                return "planned_online \(until) is not after from \(from)"
            }
            tables.offlineNotices.set(
                ReferenceTables.OfflineNotice(id: id, from: from, plannedOnline: until, reason: object["reason"] as? String), enterprise: enterprise,
                id: id)
            return nil
        }
        if table == .commitments {
            guard let text = object["date"] as? String, let day = ReferenceTables.day(of: text) else {
                return "a commitment needs 'date' as YYYY-MM-DD"
            }
            tables.commitments[enterprise, default: []].insert(day)
            if day > newestCommitment {
                // A new day: forget the dates more than a week before it.
                newestCommitment = day
                for e in tables.commitments.keys { tables.commitments[e] = tables.commitments[e]!.filter { $0 >= day - 7 } }
            }
            return nil
        }
        if table == .setpoints {
            guard let sensor = object["sensor"] as? String else { return "a setpoint record needs 'sensor' (a string)" }
            func level(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
            let levels = PointSetpoints(high: level("h"), highHigh: level("hh"), low: level("l"), lowLow: level("ll"))
            func ordered(_ a: Double, _ b: Double) -> Bool { a.isNaN || b.isNaN || a < b }
            let finite = [levels.high, levels.highHigh, levels.low, levels.lowLow].allSatisfy { $0.isNaN || $0.isFinite }
            guard finite, ordered(levels.high, levels.highHigh), ordered(levels.lowLow, levels.low), ordered(levels.low, levels.high),
                ordered(levels.lowLow, levels.highHigh)
            else {
                rejectedSetpoints += 1
                return "setpoints out of order or not finite (need LL < L < H < HH where given)"
            }
            tables.setpoints[sensor] = ReferenceTables.Setpoint(
                enterprise: enterprise, levels: levels, majorHazardGrade: (object["major_hazard_grade"] as? NSNumber)?.intValue)
            tables.setpointsVersion += 1
            return nil
        }
        tables.version += 1
        if table == .permits {
            guard let id = object["permit"] as? String, let kind = object["kind"] as? String,
                let start = (object["start"] as? NSNumber)?.int64Value, let end = (object["end"] as? NSNumber)?.int64Value
            else { return "a permit needs 'permit' and 'kind' (strings), 'start' and 'end' (ms)" }
            tables.permits.set(WorkPermit(kind: kind, start: start, end: end, unit: object["unit"] as? String), enterprise: enterprise, id: id)
            return nil
        }
        if table == .hazards {
            guard let id = object["hazard"] as? String else { return "a hidden hazard needs 'hazard' (a string)" }
            guard (object["status"] as? String ?? "open") == "open" else {
                // A closed hazard counts for nothing (H, the overrides and the record count open ones): it is
                // forgotten, so that years of closed hazards do not accumulate; reopening it is a new record.
                tables.hazards[enterprise]?[id] = nil
                if tables.hazards[enterprise]?.isEmpty == true { tables.hazards[enterprise] = nil }
                return nil
            }
            tables.hazards[enterprise, default: [:]][id] = HiddenHazard(
                major: object["class"] as? String == "major", open: true, deadline: (object["deadline"] as? NSNumber)?.int64Value
            )
            return nil
        }
        var profile = ReferenceTables.Profile(
            region: object["region"] as? String, industry: object["industry"] as? String,
            majorHazardGrade: (object["major_hazard_grade"] as? NSNumber)?.intValue
        )
        func numbers(_ any: Any?) -> [String: Double] {
            var out: [String: Double] = [:]
            for (k, v) in any as? [String: Any] ?? [:] { if let n = (v as? NSNumber)?.doubleValue, n.isFinite { out[k] = n } }
            return out
        }
        if let d = object["diagnostic"] as? [String: Any] {
            let directRed = Set((d["direct_red"] as? [Any] ?? []).compactMap { $0 as? String })
            profile.diagnostic = DiagnosticAssessment(
                counts: numbers(d["items"]), majorHazardGrade: profile.majorHazardGrade.flatMap { MajorHazard.Grade(rawValue: $0) },
                directRed: directRed)
        }
        profile.diagnosticScore = (object["diagnostic_score"] as? NSNumber)?.doubleValue
        if let c = object["credit"] as? [String: Any] {
            profile.credit = CreditScore(factors: numbers(c["factors"]), seriousDishonesty: c["serious_dishonesty"] as? Bool ?? false)
        }
        profile.creditScore = (object["credit_score"] as? NSNumber)?.doubleValue
        tables.profiles[enterprise] = profile
        return nil
    }
}
