/// The enterprise tables every partition reads (global tables, read in full from compacted topics): profiles,
/// work permits, hidden hazards, point setpoints, daily commitments, offline notices and acknowledgements.
///
/// A value: the runtime fills it from Kafka and hands it to each partition's pipeline, which only reads it.
/// The `reads…` flags say which tables the pipeline is configured with (a configured but empty table is not
/// the same as none: a missing commitment counts only when commitments are read).
public struct ReferenceTables: Sendable {
    public struct Acknowledgement: Sendable, Hashable {
        public var time: Int64
        public var by: String?
        public init(time: Int64, by: String?) {
            self.time = time
            self.by = by
        }
    }

    public struct Setpoint: Sendable, Hashable {
        public var enterprise: String
        public var levels: PointSetpoints
        public var majorHazardGrade: Int?
        public init(enterprise: String, levels: PointSetpoints, majorHazardGrade: Int?) {
            self.enterprise = enterprise
            self.levels = levels
            self.majorHazardGrade = majorHazardGrade
        }
    }

    public struct Profile: Sendable, Hashable {
        public var region: String?
        public var industry: String?
        public var majorHazardGrade: Int?
        /// The 2018 diagnosis: its items, or only its score; direct-red conditions that hold.
        public var diagnostic: DiagnosticAssessment?
        public var diagnosticScore: Double?
        /// The credit factors, or only the score.
        public var credit: CreditScore?
        public var creditScore: Double?

        public init(region: String?, industry: String?, majorHazardGrade: Int?) {
            self.region = region
            self.industry = industry
            self.majorHazardGrade = majorHazardGrade
        }

        /// D_2018: the given score, else the one computed from the items.
        public var diagnosis: Double? { diagnosticScore ?? diagnostic?.score }
        public var directRed: [String] { diagnostic.map { $0.directRed.sorted() } ?? [] }
        /// The credit score (§7.2): the given score, else the one computed from the factors, with the
        /// monitoring-compliance factor from `monitoring` (the engine's offline KPI, §5) where the factors leave it
        /// out; `filled` is that value when it was used.
        public func credibility(monitoring: () -> Double) -> (score: Double?, filled: Double?) {
            if let creditScore { return (creditScore, nil) }
            guard let credit else { return (nil, nil) }
            guard credit.factors["monitoring"] == nil else { return (credit.score, nil) }
            let compliance = monitoring()
            return (credit.fillingMonitoring(compliance).score, compliance)
        }
    }

    /// A filed offline notice: the enterprise's data is expected to stop from `from` until `plannedOnline`.
    public struct OfflineNotice: Sendable, Hashable, Expiring {
        public var id: String
        public var from: Int64
        public var plannedOnline: Int64
        public var reason: String?
        /// It stops suspending escalation at the planned online time (plus the pipeline's grace).
        public var end: Int64 { plannedOnline }
        public init(id: String, from: Int64, plannedOnline: Int64, reason: String?) {
            self.id = id
            self.from = from
            self.plannedOnline = plannedOnline
            self.reason = reason
        }
    }

    /// How long acknowledgements are kept, measured back from the newest one read (7 days, ms).
    public static let acknowledgementRetention: Int64 = 7 * 86_400_000

    public var readsProfiles = false
    public var readsPermits = false
    public var readsHazards = false
    public var readsAcknowledgements = false
    public var readsSetpoints = false
    public var readsCommitments = false
    public var readsOfflineNotices = false

    /// Whether every table topic the pipeline reads exists and each of its partitions has been read to its end
    /// (at least once: records that arrive later are the tables' normal flow). Grades record it
    /// (`inputs.tables_complete`): a grade taken while it is false may lack what a table would add.
    public var complete = true

    public var profiles: [String: Profile] = [:]
    /// enterprise → permit id → permit.
    public var permits = ExpiringTable<WorkPermit>()
    /// enterprise → notice id → offline notice (离线报备).
    public var offlineNotices = ExpiringTable<OfflineNotice>()
    /// enterprise → hazard id → hazard.
    public var hazards: [String: [String: HiddenHazard]] = [:]
    /// sensor id → its setpoints.
    public var setpoints: [String: Setpoint] = [:]
    /// A change counter of `setpoints`, for the per-slot copies the alarm detector reads.
    public var setpointsVersion = 0
    /// enterprise → local dates (days since 1970-01-01) with a safety commitment.
    public var commitments: [String: Set<Int64>] = [:]
    /// alert id → its acknowledgement.
    public var acknowledgements: [String: Acknowledgement] = [:]
    /// Counts applied profile, permit and hazard records (a change marker for derived tables).
    public var version = 0

    public init() {}

    /// The acknowledgements when that table is read and holds any.
    public var currentAcknowledgements: [String: Acknowledgement]? {
        readsAcknowledgements && !acknowledgements.isEmpty ? acknowledgements : nil
    }

    /// The intervals of the valid hot-work or confined-space permits (`kinds`) of each enterprise slot of
    /// `enterprises`, for dynamic alarm limits.
    public func permitIntervals(kinds: Set<String>, enterprises: KeyInterner) -> [[LimitContext.ClosedOpenInterval]] {
        var out = [[LimitContext.ClosedOpenInterval]](repeating: [], count: enterprises.count)
        for slot in 0..<enterprises.count {
            guard let byID = permits[enterprises.key(for: UInt32(slot))] else { continue }
            out[slot] = byID.values.filter { kinds.contains($0.kind) }.map { .init(start: $0.start, end: $0.end, unit: $0.unit) }
                .sorted { ($0.start, $0.end, $0.unit ?? "") < ($1.start, $1.end, $1.unit ?? "") }
        }
        return out
    }

    /// The setpoints of each sensor slot of `sensors` from `start` on (nil: none).
    public func pointSetpoints(sensors: KeyInterner, from start: Int = 0) -> [PointSetpoints?] {
        (start..<sensors.count).map { setpoints[sensors.key(for: UInt32($0))]?.levels }
    }

    /// Days since 1970-01-01 of a `YYYY-MM-DD` date, nil if it is not one.
    public static func day(of text: String) -> Int64? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2, let y = Int64(parts[0]),
            let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        return EventTime.daysSinceEpoch(year: y, month: m, day: d)
    }
}

/// A record that stops counting at `end` (event time, ms).
public protocol Expiring {
    var end: Int64 { get }
}

extension WorkPermit: Expiring {}

/// A table of records that end (enterprise → id → entry, the latest record per id counting) which forgets those
/// that ended more than ``retention`` before the latest end read, so it stays bounded over months. Pruning is
/// amortized: it runs when the table has doubled (plus 10,000) since the last time.
public struct ExpiringTable<Entry: Expiring & Sendable>: Sendable {
    public static var retention: Int64 { 7 * 86_400_000 }
    private var entries: [String: [String: Entry]] = [:]
    private var latestEnd: Int64 = .min
    private var count = 0
    private var countAtLastPrune = 0

    public init() {}

    /// The entries of `enterprise` by id.
    public subscript(enterprise: String) -> [String: Entry]? { entries[enterprise] }

    public mutating func set(_ entry: Entry, enterprise: String, id: String) {
        if entries[enterprise]?[id] == nil { count += 1 }
        entries[enterprise, default: [:]][id] = entry
        latestEnd = max(latestEnd, entry.end)
        guard count >= 2 * countAtLastPrune + 10_000 else { return }
        let horizon = latestEnd - Self.retention
        count = 0
        for enterprise in Array(entries.keys) {
            let kept = entries[enterprise]!.filter { $0.value.end >= horizon }
            entries[enterprise] = kept.isEmpty ? nil : kept
            count += kept.count
        }
        countAtLastPrune = count
    }
}
