/// What an alert record is about, for routing (`alerts.routes[].kinds`).
public enum AlertKind: String, Sendable, Hashable, CaseIterable {
    /// Threshold alarms: transitions, overdue escalations, acknowledgements.
    case alarm
    /// A point offline and back (`DOMAIN.md` §5).
    case dataGap = "data_gap"
    /// Instrument faults and frozen values (§5).
    case instrument
    /// An enterprise's data interruption and its end (§5).
    case dataInterruption = "data_interruption"
    /// A point whose rule has no level for it (§3.2).
    case thresholdNotSet = "threshold_not_set"
}

/// What happened to an alert, the `event` of an alert record (`Schemas/risk.alerts.v1.schema.json`).
public enum AlertEvent: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case raised, escalated
    case deescalated = "de-escalated"
    case cleared, overdue, acknowledged, offline, online
    case thresholdNotSet = "threshold_not_set"
    case interrupted, restored, fault
    case faultCleared = "fault_cleared"
    case frozen, unfrozen
    public var description: String { rawValue }
}

/// The state an alert record's point is in (`level`) or was in (`previous_level`).
public enum AlertLevel: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case normal
    case al1 = "AL1"
    case al2 = "AL2"
    case offline = "OFFLINE"
    case fault = "FAULT"
    case frozen = "FROZEN"
    public var description: String { rawValue }

    /// An alarm level: 0 normal, 1 AL1, 2 AL2.
    public init(alarm level: UInt8) { self = level == 0 ? .normal : level == 1 ? .al1 : .al2 }
}

/// The side of the limit an alert record's value is on.
public enum AlertDirection: String, Sendable, Hashable, CaseIterable {
    case high, low, none

    public init(_ direction: ThresholdRule.Direction) { self = direction == .high ? .high : .low }
}

/// A route of alert copies: records whose severity is in `levels` and whose kind is in `kinds` (empty: any)
/// are also produced to `topic` (unless suppressed as chattering or flood).
public struct AlertRoute: Sendable, Hashable {
    public var levels: Set<RiskLevel>
    public var kinds: Set<AlertKind>
    public var topic: String

    public init(levels: Set<RiskLevel> = [], kinds: Set<AlertKind> = [], topic: String) {
        self.levels = levels
        self.kinds = kinds
        self.topic = topic
    }

    func takes(_ record: AlertRecord) -> Bool {
        (levels.isEmpty || levels.contains(record.severity)) && (kinds.isEmpty || kinds.contains(record.kind))
    }
}

/// One record of the alerts topic (`Schemas/risk.alerts.v1.schema.json`): every kind of alert the job writes
/// (alarm transitions, overdue and acknowledged, threshold not set, data gaps, instrument status, data
/// interruption) is built as this value and encoded in one place, with the schema's key order.
struct AlertRecord {
    /// For routing; not written (the `rule` and `event` say it).
    var kind: AlertKind
    var alertID: String
    var event: AlertEvent
    var level: AlertLevel
    var previousLevel: AlertLevel
    var enterprise: String
    /// nil on enterprise-level records (data interruption).
    var sensor: String?
    var rule: String
    var ts: Int64
    var raisedAt: Int64
    /// nil (or not finite): written as null.
    var value: Double?
    var limit: Double?
    var direction: AlertDirection
    var severity: RiskLevel
    /// The colour before an escalation (overdue and acknowledged records only; otherwise not written).
    var previousSeverity: RiskLevel? = nil
    var respondBy: Int64?
    var notify: [String]
    /// ISA-18.2 suppression of an alarm transition (chattering, flood); null when the record is routed.
    var suppressed: AlarmFloodFilter.Suppression? = nil
    /// Who acknowledged, on `acknowledged` records (written only on those, null when not given).
    var acknowledgedBy: String? = nil
    /// Emitted while a reference table had not been read to its end (written, `false`, only then): the limits
    /// or acknowledgements it would give may be missing (a `threshold_not_set` for a point whose setpoints are
    /// still unread).
    var tablesIncomplete = false

    /// The id of an alert episode: `<sensor>/<rule>/<raised at>` (an enterprise-level alert names the enterprise
    /// where a point alert names its sensor). Every record of one episode carries it, and acknowledgements
    /// name it.
    static func id(sensor: String, rule: String, raisedAt: Int64) -> String { "\(sensor)/\(rule)/\(raisedAt)" }

    /// Writes the record as JSON into `out` (cleared first; the job reuses one buffer for every record).
    func encode(into out: inout JSONBytes) {
        func string(_ s: String?) { out.appendString(s) }
        func number(_ x: Double?) { out.appendNumber(x) }
        out.removeAll()
        out.append("{\"alert_id\":")
        string(alertID)
        out.append(",\"event\":")
        string(event.rawValue)
        out.append(",\"level\":")
        string(level.rawValue)
        out.append(",\"previous_level\":")
        string(previousLevel.rawValue)
        out.append(",\"enterprise\":")
        string(enterprise)
        out.append(",\"sensor\":")
        string(sensor)
        out.append(",\"rule\":")
        string(rule)
        out.append(",\"ts\":")
        out.append(ts)
        out.append(",\"raised_at\":")
        out.append(raisedAt)
        out.append(",\"value\":")
        number(value)
        out.append(",\"limit\":")
        number(limit)
        out.append(",\"direction\":")
        string(direction.rawValue)
        out.append(",\"severity\":")
        string("\(severity)")
        if let previousSeverity {
            out.append(",\"previous_severity\":")
            string("\(previousSeverity)")
        }
        out.append(",\"respond_by\":")
        out.appendInteger(respondBy)
        out.append(",\"notify\":[")
        for (i, department) in notify.enumerated() {
            if i > 0 { out.append(",") }
            string(department)
        }
        out.append("],\"suppressed\":")
        string(suppressed?.rawValue)
        if event == .acknowledged {
            out.append(",\"acknowledged_by\":")
            string(acknowledgedBy)
        }
        if tablesIncomplete { out.append(",\"tables_complete\":false") }
        out.append("}")
    }

    /// The record as JSON text (for tests and tools).
    var json: String {
        var out = JSONBytes(capacity: 512)
        encode(into: &out)
        return String(decoding: out.buffer, as: UTF8.self)
    }
}
