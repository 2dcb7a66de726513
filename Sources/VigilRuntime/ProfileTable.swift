import Foundation
import VigilCore
import VigilKafka

/// The enterprise tables read in full by every instance (global tables; on a real cluster the topics are
/// compacted): profiles (latest record per enterprise), work permits (latest record per permit id) and hidden
/// hazards (latest record per hazard id).
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
///   (the earliest acknowledgement of an alert id counts; those older than ``acknowledgementRetention`` before
///   the newest are forgotten).
final class ProfileTable {
    struct Acknowledgement: Sendable, Hashable {
        var time: Int64
        var by: String?
    }

    struct Setpoint: Sendable, Hashable {
        var enterprise: String
        var levels: PointSetpoints
        var majorHazardGrade: Int?
    }

    /// How long acknowledgements are kept, measured back from the newest one read (7 days, ms).
    static let acknowledgementRetention: Int64 = 7 * 86_400_000
    struct Profile: Sendable, Hashable {
        var region: String?
        var industry: String?
        var majorHazardGrade: Int?
        /// The 2018 diagnosis: its items, or only its score; direct-red conditions that hold.
        var diagnostic: DiagnosticAssessment?
        var diagnosticScore: Double?
        /// The credit factors, or only the score.
        var credit: CreditScore?
        var creditScore: Double?

        /// D_2018: the given score, else the one computed from the items.
        var diagnosis: Double? { diagnosticScore ?? diagnostic?.score }
        var directRed: [String] { diagnostic.map { $0.directRed.sorted() } ?? [] }
        /// The credit score (§7.2): the given score, else the one computed from the factors, with the
        /// monitoring-compliance factor from `monitoring` (the engine's offline KPI, §5) where the factors leave it
        /// out; `filled` is that value when it was used.
        func credibility(monitoring: () -> Double) -> (score: Double?, filled: Double?) {
            if let creditScore { return (creditScore, nil) }
            guard let credit else { return (nil, nil) }
            guard credit.factors["monitoring"] == nil else { return (credit.score, nil) }
            let compliance = monitoring()
            return (credit.fillingMonitoring(compliance).score, compliance)
        }
    }

    private let consumer: KafkaConsumer
    private(set) var profiles: [String: Profile] = [:]
    /// enterprise → permit id → permit.
    private(set) var permits = ExpiringTable<WorkPermit>()
    /// enterprise → notice id → offline notice (离线报备).
    private(set) var offlineNotices = ExpiringTable<OfflineNotice>()
    /// Offline-notice records that were ignored (planned online time not after the start).
    private(set) var rejectedOfflineNotices = 0

    /// A filed offline notice: the enterprise's data is expected to stop from `from` until `plannedOnline`.
    struct OfflineNotice: Sendable, Hashable, Expiring {
        var id: String
        var from: Int64
        var plannedOnline: Int64
        var reason: String?
        /// It stops suspending escalation at the planned online time (plus the pipeline's grace).
        var end: Int64 { plannedOnline }
    }
    /// enterprise → hazard id → hazard.
    private(set) var hazards: [String: [String: HiddenHazard]] = [:]
    /// sensor id → its setpoints; a change counter for the per-slot copies; records ignored as inconsistent.
    private(set) var setpoints: [String: Setpoint] = [:]
    private(set) var setpointsVersion = 0
    private(set) var rejectedSetpoints = 0
    /// enterprise → local dates (days since 1970-01-01) with a safety commitment.
    private(set) var commitments: [String: Set<Int64>] = [:]
    private var newestCommitment: Int64 = .min
    /// alert id → its acknowledgement.
    private(set) var acknowledgements: [String: Acknowledgement] = [:]
    private var newestAcknowledgement: Int64 = .min
    private var acknowledgementsAtLastPrune = 0
    /// Counts applied records (a change marker for derived tables).
    private(set) var version = 0
    let profilesTopic: String?
    let permitsTopic: String?
    let hazardsTopic: String?
    let acknowledgementsTopic: String?
    let setpointsTopic: String?
    let commitmentsTopic: String?
    let offlineNoticesTopic: String?

    init(
        profiles: String?, permits: String? = nil, hazards: String? = nil, acknowledgements: String? = nil, setpoints: String? = nil,
        commitments: String? = nil, offlineNotices: String? = nil, brokers: String, additional: [String: String]
    ) throws(KafkaError) {
        var admin: [String: String] = additional
        admin["log_level"] = admin["log_level"] ?? "3"
        profilesTopic = profiles
        permitsTopic = permits
        hazardsTopic = hazards
        acknowledgementsTopic = acknowledgements
        setpointsTopic = setpoints
        commitmentsTopic = commitments
        offlineNoticesTopic = offlineNotices
        let existing = try KafkaAdmin(bootstrapServers: brokers, additionalConfig: admin).describeTopics()
        var cc = KafkaConsumerConfig(bootstrapServers: brokers, groupID: "vigil.profiles.\(UUID().uuidString)")
        cc.additionalConfig = additional
        consumer = try KafkaConsumer(config: cc)
        let topics = [profiles, permits, hazards, acknowledgements, setpoints, commitments, offlineNotices].compactMap { $0 }
        try consumer.assign(topics.flatMap { topic in (0..<(existing[topic] ?? 1)).map { KafkaTopicPartition(topic: topic, partition: $0, offset: 0) } })
        try catchUp(timeoutMs: 10_000)
    }

    /// Reads the table to its current end before the job starts grading (as a global table is restored),
    /// giving up after `timeoutMs`.
    func catchUp(timeoutMs: Int64) throws(KafkaError) {
        let deadline = currentTimeMillis() + timeoutMs
        var polls = 0
        while currentTimeMillis() < deadline {
            let n = try consumer.poll(maxMessages: 10_000, timeoutMs: 200) { record in self.apply(record) }
            polls += 1
            let lag = consumer.lag()
            if polls >= 2 && n == 0 && !lag.isEmpty && lag.values.allSatisfy({ $0 == 0 }) { return }
        }
    }

    /// Reads whatever arrived (without waiting long).
    func refresh() throws(KafkaError) {
        try consumer.poll(maxMessages: 10_000, timeoutMs: 0) { record in apply(record) }
    }

    /// The intervals of the valid hot-work or confined-space permits (`kinds`) of each enterprise slot of
    /// `enterprises`, for dynamic alarm limits.
    func permitIntervals(kinds: Set<String>, enterprises: KeyInterner) -> [[LimitContext.ClosedOpenInterval]] {
        var out = [[LimitContext.ClosedOpenInterval]](repeating: [], count: enterprises.count)
        for slot in 0..<enterprises.count {
            guard let byID = permits[enterprises.key(for: UInt32(slot))] else { continue }
            out[slot] = byID.values.filter { kinds.contains($0.kind) }.map { .init(start: $0.start, end: $0.end, unit: $0.unit) }
                .sorted { ($0.start, $0.end, $0.unit ?? "") < ($1.start, $1.end, $1.unit ?? "") }
        }
        return out
    }

    /// The setpoints of each sensor slot of `sensors` from `start` on (nil: none).
    func pointSetpoints(sensors: KeyInterner, from start: Int = 0) -> [PointSetpoints?] {
        (start..<sensors.count).map { setpoints[sensors.key(for: UInt32($0))]?.levels }
    }

    /// Days since 1970-01-01 of a `YYYY-MM-DD` date, nil if it is not one.
    static func day(of text: String) -> Int64? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2, let y = Int64(parts[0]),
            let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        return EventTime.daysSinceEpoch(year: y, month: m, day: d)
    }

    private func apply(_ record: KafkaRecordView) {
        let topic = record.topicName
        // A tombstone (no value) on the compacted setpoint topic deletes the point's setpoints.
        if record.payload.isEmpty, topic == setpointsTopic, let key = record.key, let sensor = String(validating: key, as: UTF8.self) {
            if setpoints.removeValue(forKey: sensor) != nil { setpointsVersion += 1 }
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(record.payload)) as? [String: Any] else { return }
        if topic == acknowledgementsTopic {
            guard let id = object["alert_id"] as? String, let time = (object["ts"] as? NSNumber)?.int64Value else { return }
            if let known = acknowledgements[id], known.time <= time { return }
            acknowledgements[id] = Acknowledgement(time: time, by: object["by"] as? String)
            newestAcknowledgement = max(newestAcknowledgement, time)
            if acknowledgements.count >= 2 * acknowledgementsAtLastPrune + 10_000 {
                let horizon = newestAcknowledgement - Self.acknowledgementRetention
                acknowledgements = acknowledgements.filter { $0.value.time >= horizon }
                acknowledgementsAtLastPrune = acknowledgements.count
            }
            return
        }
        guard let enterprise = object["enterprise"] as? String else { return }
        if topic == offlineNoticesTopic {
            guard let id = object["notice"] as? String, let from = (object["from"] as? NSNumber)?.int64Value,
                let until = (object["planned_online"] as? NSNumber)?.int64Value
            else { return }
            guard until > from else {
                rejectedOfflineNotices += 1
                return
            }
            offlineNotices.set(OfflineNotice(id: id, from: from, plannedOnline: until, reason: object["reason"] as? String), enterprise: enterprise, id: id)
            return
        }
        if topic == commitmentsTopic {
            guard let text = object["date"] as? String, let day = Self.day(of: text) else { return }
            commitments[enterprise, default: []].insert(day)
            if day > newestCommitment {
                // A new day: forget the dates more than a week before it.
                newestCommitment = day
                for e in commitments.keys { commitments[e] = commitments[e]!.filter { $0 >= day - 7 } }
            }
            return
        }
        if topic == setpointsTopic {
            guard let sensor = object["sensor"] as? String else { return }
            func level(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
            let levels = PointSetpoints(high: level("h"), highHigh: level("hh"), low: level("l"), lowLow: level("ll"))
            func ordered(_ a: Double, _ b: Double) -> Bool { a.isNaN || b.isNaN || a < b }
            let finite = [levels.high, levels.highHigh, levels.low, levels.lowLow].allSatisfy { $0.isNaN || $0.isFinite }
            guard finite, ordered(levels.high, levels.highHigh), ordered(levels.lowLow, levels.low), ordered(levels.low, levels.high),
                ordered(levels.lowLow, levels.highHigh)
            else {
                rejectedSetpoints += 1
                return
            }
            setpoints[sensor] = Setpoint(enterprise: enterprise, levels: levels, majorHazardGrade: (object["major_hazard_grade"] as? NSNumber)?.intValue)
            setpointsVersion += 1
            return
        }
        version += 1
        if topic == permitsTopic {
            guard let id = object["permit"] as? String, let kind = object["kind"] as? String,
                let start = (object["start"] as? NSNumber)?.int64Value, let end = (object["end"] as? NSNumber)?.int64Value
            else { return }
            permits.set(WorkPermit(kind: kind, start: start, end: end, unit: object["unit"] as? String), enterprise: enterprise, id: id)
            return
        }
        if topic == hazardsTopic {
            guard let id = object["hazard"] as? String else { return }
            guard (object["status"] as? String ?? "open") == "open" else {
                // A closed hazard counts for nothing (H, the overrides and the record count open ones): it is
                // forgotten, so that years of closed hazards do not accumulate; reopening it is a new record.
                hazards[enterprise]?[id] = nil
                if hazards[enterprise]?.isEmpty == true { hazards[enterprise] = nil }
                return
            }
            hazards[enterprise, default: [:]][id] = HiddenHazard(
                major: object["class"] as? String == "major", open: true, deadline: (object["deadline"] as? NSNumber)?.int64Value
            )
            return
        }
        var profile = Profile(
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
        profiles[enterprise] = profile
    }
}

@available(*, unavailable)
extension ProfileTable: Sendable {}

/// A record that stops counting at `end` (event time, ms).
protocol Expiring {
    var end: Int64 { get }
}

extension WorkPermit: Expiring {}

/// A table of records that end (enterprise → id → entry, the latest record per id counting) which forgets those
/// that ended more than ``retention`` before the latest end read, so it stays bounded over months. Pruning is
/// amortized: it runs when the table has doubled (plus 10,000) since the last time.
struct ExpiringTable<Entry: Expiring> {
    static var retention: Int64 { 7 * 86_400_000 }
    private var entries: [String: [String: Entry]] = [:]
    private var latestEnd: Int64 = .min
    private var count = 0
    private var countAtLastPrune = 0

    /// The entries of `enterprise` by id.
    subscript(enterprise: String) -> [String: Entry]? { entries[enterprise] }

    mutating func set(_ entry: Entry, enterprise: String, id: String) {
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
