import VigilCore

/// Applies the records of the reference-table topics to a ``ReferenceTables`` value, each decoded by its typed
/// decoder (`VigilCore/Codecs/TableRecords.swift`; no Kafka here: the
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

    /// Whether every table has been read to its end (the consumer of the topics knows).
    var complete: Bool {
        get { tables.complete }
        set { tables.complete = newValue }
    }

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
        do {
            try apply(table, payload: payload)
            return nil
        } catch {
            if error.kind == .inconsistent && table == .offlineNotices { rejectedOfflineNotices += 1 }
            if error.kind == .inconsistent && table == .setpoints { rejectedSetpoints += 1 }
            return error.reason
        }
    }

    /// Decodes one record of `table` with its typed decoder (`VigilCore/Codecs/TableRecords.swift`) and applies it.
    private mutating func apply(_ table: Table, payload: UnsafeRawBufferPointer) throws(TableRecordError) {
        switch table {
        case .acknowledgements:
            let ack = try AcknowledgementRecord(json: payload)
            if let known = tables.acknowledgements[ack.alertID], known.time <= ack.time { return }
            tables.acknowledgements[ack.alertID] = ReferenceTables.Acknowledgement(time: ack.time, by: ack.by)
            newestAcknowledgement = max(newestAcknowledgement, ack.time)
            if tables.acknowledgements.count >= 2 * acknowledgementsAtLastPrune + 10_000 {
                let horizon = newestAcknowledgement - ReferenceTables.acknowledgementRetention
                tables.acknowledgements = tables.acknowledgements.filter { $0.value.time >= horizon }
                acknowledgementsAtLastPrune = tables.acknowledgements.count
            }
        case .offlineNotices:
            let n = try OfflineNoticeRecord(json: payload)
            tables.offlineNotices.set(
                ReferenceTables.OfflineNotice(id: n.notice, from: n.from, plannedOnline: n.plannedOnline, reason: n.reason), enterprise: n.enterprise,
                id: n.notice)
        case .commitments:
            let c = try CommitmentRecord(json: payload)
            tables.commitments[c.enterprise, default: []].insert(c.day)
            if c.day > newestCommitment {
                // A new day: forget the dates more than a week before it.
                newestCommitment = c.day
                for e in tables.commitments.keys { tables.commitments[e] = tables.commitments[e]!.filter { $0 >= c.day - 7 } }
            }
        case .setpoints:
            let p = try SetpointRecord(json: payload)
            tables.setpoints[p.sensor] = ReferenceTables.Setpoint(enterprise: p.enterprise, levels: p.levels, majorHazardGrade: p.majorHazardGrade)
            tables.setpointsVersion += 1
        case .permits:
            let p = try PermitRecord(json: payload)
            tables.version += 1
            tables.permits.set(WorkPermit(kind: p.kind, start: p.start, end: p.end, unit: p.unit), enterprise: p.enterprise, id: p.permit)
        case .hazards:
            let h = try HazardRecord(json: payload)
            tables.version += 1
            guard h.open else {
                // A closed hazard counts for nothing (H, the overrides and the record count open ones): it is
                // forgotten, so that years of closed hazards do not accumulate; reopening it is a new record.
                tables.hazards[h.enterprise]?[h.hazard] = nil
                if tables.hazards[h.enterprise]?.isEmpty == true { tables.hazards[h.enterprise] = nil }
                return
            }
            tables.hazards[h.enterprise, default: [:]][h.hazard] = HiddenHazard(major: h.major, open: true, deadline: h.deadline)
        case .profiles:
            let p = try ProfileRecord(json: payload)
            tables.version += 1
            tables.profiles[p.enterprise] = p.profile
        }
    }
}
