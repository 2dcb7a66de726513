import Foundation

/// The whole group's current risk state, materialized from the grades and alerts topics (a GlobalKTable
/// analogue): each enterprise's newest grade with its 24 h timeline, and every alert episode not yet ended.
///
/// Pure and synchronous: ``LiveStateFeed`` applies records as it reads them; the API's handlers query it. It
/// never writes anything back, so the API cannot change state.
public struct LiveState: Sendable {
    /// How far back (event time, before an enterprise's newest grade) its timeline reaches.
    public static let historySpan: Int64 = 24 * 3_600_000
    /// The most timeline points kept per enterprise (a heartbeat every minute for a day is 1,440).
    public static let historyLimit = 4_000

    struct Enterprise: Sendable {
        var summary: API.EnterpriseSummary
        var record: JSONValue
        var history: [API.GradePoint]
    }

    private(set) var enterprises: [String: Enterprise] = [:]
    private(set) var alerts: [String: API.OpenAlert] = [:]
    /// Processing time (ms) of the last record applied; 0 before any.
    public private(set) var updatedAt: Int64 = 0
    public private(set) var gradesApplied = 0
    public private(set) var alertsApplied = 0
    /// Records that were not a grade or alert record of the v1 schemas (skipped, counted).
    public private(set) var rejected = 0

    public init() {}

    public var enterpriseCount: Int { enterprises.count }
    public var openAlertCount: Int { alerts.count }

    // MARK: Applying records

    struct GradeFields: Decodable {
        var enterprise: String
        var region: String?
        var industry: String?
        var level: String
        var previous_level: String?
        var score: Double
        var ts: Int64
        var reason: String
        var factors: [String: JSONValue]
        var inputs: Inputs?
        struct Inputs: Decodable { var overrides: [String]? }
    }

    struct AlertFields: Decodable {
        var alert_id: String
        var event: String
        var level: String
        var enterprise: String
        var sensor: String?
        var rule: String
        var ts: Int64
        var raised_at: Int64
        var value: Double?
        var limit: Double?
        var direction: String?
        var severity: String?
        var respond_by: Int64?
        var acknowledged_by: String?
        var notify: [String]?
    }

    /// Applies one grade record (the `risk.grades` v1 schema); returns false (and counts it) if it is not one.
    @discardableResult
    public mutating func applyGrade(_ bytes: some Collection<UInt8>, at now: Int64) -> Bool {
        let data = Data(bytes)
        guard let g = try? JSONDecoder().decode(GradeFields.self, from: data), let record = try? JSONDecoder().decode(JSONValue.self, from: data),
            Self.levels.contains(g.level)
        else {
            rejected += 1
            return false
        }
        let point = API.GradePoint(ts: g.ts, level: g.level, score: g.score, reason: g.reason)
        var e =
            enterprises[g.enterprise]
            ?? Enterprise(
                summary: API.EnterpriseSummary(
                    enterprise: g.enterprise, level: g.level, score: g.score, since: g.ts, ts: g.ts, topFactors: []),
                record: record, history: [])
        if let last = e.history.last, last.level != g.level { e.summary.since = g.ts }
        e.summary.region = g.region
        e.summary.industry = g.industry
        e.summary.level = g.level
        e.summary.score = g.score
        e.summary.ts = g.ts
        e.summary.topFactors = Self.topFactors(g.factors)
        e.summary.overrides = g.inputs?.overrides ?? []
        e.record = record
        e.history.append(point)
        let oldest = g.ts - Self.historySpan
        if let keep = e.history.firstIndex(where: { $0.ts >= oldest }), keep > 0 { e.history.removeFirst(keep) }
        if e.history.count > Self.historyLimit { e.history.removeFirst(e.history.count - Self.historyLimit) }
        enterprises[g.enterprise] = e
        gradesApplied += 1
        updatedAt = now
        return true
    }

    /// Applies one alert record (the `risk.alerts` v1 schema); returns false (and counts it) if it is not one.
    @discardableResult
    public mutating func applyAlert(_ bytes: some Collection<UInt8>, at now: Int64) -> Bool {
        guard let a = try? JSONDecoder().decode(AlertFields.self, from: Data(bytes)) else {
            rejected += 1
            return false
        }
        alertsApplied += 1
        updatedAt = now
        if Self.endingEvents.contains(a.event) {
            alerts[a.alert_id] = nil
            return true
        }
        guard var open = alerts[a.alert_id] else {
            // Only the start of an episode opens one: a later event of an episode read from its middle
            // (its start compacted or deleted away) is not enough to show it.
            guard Self.openingEvents.contains(a.event) else { return true }
            alerts[a.alert_id] = API.OpenAlert(
                alertID: a.alert_id, enterprise: a.enterprise, sensor: a.sensor, rule: a.rule, level: a.level, severity: a.severity,
                direction: a.direction ?? "none", raisedAt: a.raised_at, value: a.value, limit: a.limit, respondBy: a.respond_by,
                overdue: false, notify: a.notify ?? [], lastEvent: a.event, ts: a.ts)
            return true
        }
        open.level = a.level
        open.severity = a.severity ?? open.severity
        open.lastEvent = a.event
        open.ts = a.ts
        open.notify = a.notify ?? open.notify
        switch a.event {
        case "overdue":
            open.overdue = true
            open.respondBy = a.respond_by ?? open.respondBy
        case "acknowledged":
            open.acknowledgedBy = a.acknowledged_by
            open.acknowledgedAt = a.ts
        default:
            // A level change: its reading, limit and new deadline.
            open.value = a.value
            open.limit = a.limit
            open.respondBy = a.respond_by
            open.overdue = false
        }
        alerts[a.alert_id] = open
        return true
    }

    static let levels: Set<String> = ["red", "orange", "yellow", "blue"]
    /// Events that start an episode (an alarm, a data gap, an instrument fault, a frozen value, an
    /// enterprise's data interruption).
    static let openingEvents: Set<String> = ["raised", "offline", "fault", "frozen", "interrupted"]
    /// Events that end one.
    static let endingEvents: Set<String> = ["cleared", "online", "fault_cleared", "unfrozen", "restored"]

    /// The contributions to R_dyn, largest first: B, w·A, O, H, Q and the credit C (negative, so last).
    static func topFactors(_ factors: [String: JSONValue]) -> [API.Factor] {
        let weight = factors["alarm_weight"]?.number ?? 0.5
        let parts: [(String, Double?)] = [
            ("base", factors["base"]?.number), ("alarm", factors["alarm"]?.number.map { $0 * weight }),
            ("operations", factors["operations"]?.number), ("hazards", factors["hazards"]?.number),
            ("data_quality", factors["data_quality"]?.number), ("credit", factors["credit"]?.number),
        ]
        let present = parts.compactMap { name, value in value.flatMap { $0 > 0 ? API.Factor(factor: name, value: $0) : nil } }
        return Array(present.sorted { ($0.value, $1.factor) > ($1.value, $0.factor) }.prefix(3))
    }

    // MARK: Queries

    /// Grade order for lists: red first.
    static let severityRank = ["red": 0, "orange": 1, "yellow": 2, "blue": 3]

    public func enterprises(_ q: EnterpriseQuery) -> API.EnterpriseList {
        let matching = enterprises.values.map(\.summary).filter { s in
            (q.grades.isEmpty || q.grades.contains(s.level)) && (q.regions.isEmpty || q.regions.contains(s.region ?? "unknown"))
                && (q.industries.isEmpty || q.industries.contains(s.industry ?? "unknown"))
        }
        .sorted { a, b in
            let (ra, rb) = (Self.severityRank[a.level] ?? 9, Self.severityRank[b.level] ?? 9)
            return ra != rb ? ra < rb : a.score != b.score ? a.score > b.score : a.enterprise < b.enterprise
        }
        return API.EnterpriseList(
            updatedAt: updatedAt, total: matching.count, offset: q.page.offset, limit: q.page.limit, items: q.page.slice(matching))
    }

    /// The portrait of `id`, or nil if no grade of it has been read.
    public func portrait(_ id: String) -> API.Portrait? {
        guard let e = enterprises[id] else { return nil }
        var changes: [API.GradePoint] = []
        var level: String? = nil
        for p in e.history where p.level != level {
            if level != nil || p.reason == "change" { changes.append(p) }
            level = p.level
        }
        let open = alerts.values.filter { $0.enterprise == id }.sorted(by: Self.alertOrder)
        return API.Portrait(updatedAt: updatedAt, summary: e.summary, grade: e.record, history: e.history, changes: changes, openAlerts: open)
    }

    /// Overdue first, then by severity, then the oldest raised first.
    static func alertOrder(_ a: API.OpenAlert, _ b: API.OpenAlert) -> Bool {
        if a.overdue != b.overdue { return a.overdue }
        let (ra, rb) = (severityRank[a.severity ?? ""] ?? 9, severityRank[b.severity ?? ""] ?? 9)
        if ra != rb { return ra < rb }
        return a.raisedAt != b.raisedAt ? a.raisedAt < b.raisedAt : a.alertID < b.alertID
    }

    public func alerts(_ q: AlertQuery) -> API.AlertList {
        let matching = alerts.values.filter { a in
            (q.state == .active || a.overdue) && (q.severities.isEmpty || q.severities.contains(a.severity ?? ""))
                && (q.department == nil || a.notify.contains(q.department!)) && (q.enterprise == nil || a.enterprise == q.enterprise)
        }
        .sorted(by: Self.alertOrder)
        return API.AlertList(
            updatedAt: updatedAt, total: matching.count, offset: q.page.offset, limit: q.page.limit, items: q.page.slice(matching))
    }

    public func heatmap(by: HeatmapQuery.Dimension) -> API.Heatmap {
        var cells: [String: API.HeatmapCell] = [:]
        for e in enterprises.values.map(\.summary) {
            let key = (by == .region ? e.region : e.industry) ?? "unknown"
            var cell = cells[key] ?? API.HeatmapCell(key: key, red: 0, orange: 0, yellow: 0, blue: 0, enterprises: 0, newestGradeTs: e.ts)
            switch e.level {
            case "red": cell.red += 1
            case "orange": cell.orange += 1
            case "yellow": cell.yellow += 1
            default: cell.blue += 1
            }
            cell.enterprises += 1
            cell.newestGradeTs = max(cell.newestGradeTs, e.ts)
            cells[key] = cell
        }
        return API.Heatmap(
            updatedAt: updatedAt, by: by.rawValue, newestGradeTs: enterprises.values.map(\.summary.ts).max(),
            cells: cells.values.sorted { $0.key < $1.key })
    }
}
