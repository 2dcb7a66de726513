/// The response side of alarms (`DOMAIN.md` §6): each raised alarm has a severity colour and a response
/// deadline; an alarm still active when its deadline passes is escalated one colour (up to red) and gets the
/// next colour's deadline.
///
/// An acknowledgement (`DOMAIN.md` §6, "enterprise acknowledge") stops the escalation: an alarm acknowledged
/// at or after its latest level change is not escalated again until its level rises (AL1 → AL2), which needs
/// a new acknowledgement.
///
/// Deadlines run on event time, checked record by record against the partition's watermark (every
/// `checkEvery` of watermark progress, on a ``Ticker``), so which alarms escalate, and when, depends only on the input and
/// not on batching; a replay escalates identically. Acknowledgements are looked up at the same checks and take
/// effect at their own event time. State is a few columns per sensor slot.
public struct AlertBook: Sendable {
    /// Response deadline per colour (indexed by ``RiskLevel/rawValue``: blue, yellow, orange, red), ms.
    public let deadlines: [Int64]
    public var checkEvery: Int64 { checks.every }
    /// When the deadlines are checked next, on the partition's watermark.
    var checks: Ticker
    /// Severity colour per slot (−1: no active alarm).
    var colour: [Int8] = []
    var respondBy: [Int64] = []
    var raisedAt: [Int64] = []
    var rule: [Int32] = []
    /// The alarm's level (1 AL1, 2 AL2), with bit 7 set for an alarm on the low side.
    var level: [UInt8] = []
    /// Event time of the alarm's latest level change: an acknowledgement must not be older.
    var changedAt: [Int64] = []
    /// Event time of the acknowledgement of the alarm's current level (`.min`: not acknowledged).
    var acknowledgedAt: [Int64] = []

    /// Something that happened to an active alarm between its level changes.
    public struct Event: Sendable, Hashable {
        public enum Kind: String, Sendable {
            /// The response deadline passed unacknowledged: escalated from `from` to `to`.
            case overdue
            /// Acknowledged (`from` == `to`, the alarm's colour).
            case acknowledged
        }
        public var kind: Kind
        public var sensor: UInt32
        public var rule: Int
        public var raisedAt: Int64
        /// The deadline that was missed, or the acknowledgement's time (the event's time).
        public var time: Int64
        public var from: RiskLevel
        public var to: RiskLevel
        /// The next deadline, for the escalated colour (nil once acknowledged).
        public var respondBy: Int64?
        /// The alarm's level at the event (1 AL1, 2 AL2) and its side.
        public var level: UInt8
        public var direction: ThresholdRule.Direction
    }

    public init(deadlines: [RiskLevel: Int64], checkEvery: Int64 = 60_000) {
        self.deadlines = RiskLevel.allCases.map { max(1, deadlines[$0] ?? 86_400_000) }
        self.checks = Ticker(every: checkEvery)
    }

    /// The active alarm's severity on `slot`, if any.
    public func severity(slot: UInt32) -> RiskLevel? {
        Int(slot) < colour.count && colour[Int(slot)] >= 0 ? RiskLevel(rawValue: Int(colour[Int(slot)])) : nil
    }

    /// Whether the active alarm on `slot` is acknowledged.
    public func isAcknowledged(slot: UInt32) -> Bool {
        Int(slot) < acknowledgedAt.count && colour[Int(slot)] >= 0 && acknowledgedAt[Int(slot)] != .min
    }

    /// Applies an alarm transition (`severity` nil: cleared). Returns the severity of the record to emit
    /// (for a clear, the colour of the alarm that ended) and its response deadline (nil for a clear).
    public mutating func apply(_ t: AlarmTransition, severity: RiskLevel?) -> (severity: RiskLevel, respondBy: Int64?) {
        let s = Int(t.sensor)
        if s >= colour.count { grow(to: s + 1) }
        guard let severity else {
            let ended = RiskLevel(rawValue: Int(max(0, colour[s]))) ?? .blue
            colour[s] = -1
            respondBy[s] = .max
            acknowledgedAt[s] = .min
            return (ended, nil)
        }
        // Raised: the level's colour. Escalated: never below the colour it already had (a deadline escalation
        // stays). De-escalated: the lower level's colour. Each change restarts the deadline. A rise in level needs
        // a new acknowledgement; a fall keeps the one given.
        let current = colour[s] >= 0 ? RiskLevel(rawValue: Int(colour[s])) : nil
        if current == nil || t.to > t.from {
            changedAt[s] = t.time
            acknowledgedAt[s] = .min
        }
        let target = t.to > t.from ? Swift.max(severity, current ?? severity) : severity
        colour[s] = Int8(target.rawValue)
        let acknowledged = acknowledgedAt[s] != .min
        respondBy[s] = acknowledged ? .max : t.time &+ deadlines[target.rawValue]
        raisedAt[s] = t.raisedAt
        rule[s] = Int32(t.rule)
        level[s] = t.to | (t.direction == .low ? 0x80 : 0)
        return (target, acknowledged ? nil : respondBy[s])
    }

    /// Observes the partition's watermark at one reading; appends alarms whose deadline it passed.
    public mutating func observe(watermark wm: Int64, into events: inout [Event]) {
        check(watermark: wm, into: &events, asking: false) { _, _, _ in nil }
    }

    /// Observes the partition's watermark at one reading; appends alarms whose deadline it passed and those
    /// that `acknowledgement` reports acknowledged.
    ///
    /// - Parameter acknowledgement: for an unacknowledged active alarm (slot, rule, raised at), the event time
    ///   of its acknowledgement if there is one. Asked at each check only; an acknowledgement counts if it is
    ///   not older than the alarm's latest level change and the watermark has passed it. A deadline that
    ///   passed before the acknowledgement's time still escalates first.
    public mutating func observe(
        watermark wm: Int64, into events: inout [Event], acknowledgement: (_ slot: UInt32, _ rule: Int, _ raisedAt: Int64) -> Int64?
    ) {
        check(watermark: wm, into: &events, asking: true, acknowledgement: acknowledgement)
    }

    private mutating func check(
        watermark wm: Int64, into events: inout [Event], asking: Bool, acknowledgement: (UInt32, Int, Int64) -> Int64?
    ) {
        guard checks.isDue(at: wm) else { return }
        for s in colour.indices where colour[s] >= 0 && acknowledgedAt[s] == .min {
            var ack: Int64? = nil
            if asking, let a = acknowledgement(UInt32(s), Int(rule[s]), raisedAt[s]), a >= changedAt[s], a <= wm { ack = a }
            if respondBy[s] <= wm && respondBy[s] < (ack ?? .max) {
                let from = RiskLevel(rawValue: Int(colour[s]))!
                let to = RiskLevel(rawValue: Swift.min(RiskLevel.red.rawValue, from.rawValue + 1))!
                let deadline = respondBy[s]
                colour[s] = Int8(to.rawValue)
                respondBy[s] = deadline &+ deadlines[to.rawValue]
                events.append(event(.overdue, slot: s, time: deadline, from: from, to: to, respondBy: respondBy[s]))
            }
            if let ack {
                acknowledgedAt[s] = ack
                respondBy[s] = .max
                let level = RiskLevel(rawValue: Int(colour[s]))!
                events.append(event(.acknowledged, slot: s, time: ack, from: level, to: level, respondBy: nil))
            }
        }
        checks.ran(at: wm)
    }

    private func event(_ kind: Event.Kind, slot s: Int, time: Int64, from: RiskLevel, to: RiskLevel, respondBy: Int64?) -> Event {
        Event(
            kind: kind, sensor: UInt32(s), rule: Int(rule[s]), raisedAt: raisedAt[s], time: time, from: from, to: to,
            respondBy: respondBy, level: level[s] & 0x7F, direction: level[s] & 0x80 != 0 ? .low : .high)
    }

    mutating func grow(to n: Int) {
        let extra = Swift.max(n, colour.count * 2) - colour.count
        colour.append(contentsOf: repeatElement(-1, count: extra))
        respondBy.append(contentsOf: repeatElement(.max, count: extra))
        raisedAt.append(contentsOf: repeatElement(0, count: extra))
        rule.append(contentsOf: repeatElement(-1, count: extra))
        level.append(contentsOf: repeatElement(0, count: extra))
        changedAt.append(contentsOf: repeatElement(.min, count: extra))
        acknowledgedAt.append(contentsOf: repeatElement(.min, count: extra))
    }

    public func write(to w: inout SnapshotWriter) {
        for d in deadlines { w.i64(d) }
        w.i64(checkEvery)
        w.i64(checks.next)
        w.u64(UInt64(colour.count))
        for s in colour.indices {
            w.u8(UInt8(bitPattern: colour[s]))
            w.i64(respondBy[s])
            w.i64(raisedAt[s])
            w.u32(UInt32(bitPattern: rule[s]))
            w.u8(level[s])
            w.i64(changedAt[s])
            w.i64(acknowledgedAt[s])
        }
    }

    /// Restores a book from ``write(to:)``; refuses state taken with other deadlines.
    ///
    /// - Parameter clock: Snapshot formats before 5 kept a watermark per stage: its latest event time, for the
    ///   partition clock (unchanged for format 5 and later, which snapshot the clock once).
    /// - Parameter enterprises: Formats before 6 kept the enterprise of each slot's latest alarm: those, for the
    ///   slots `enterprises` has none for yet (unchanged for format 6 and later, which keep a sensor's
    ///   enterprise in the sensor catalog).
    public init(
        deadlines: [RiskLevel: Int64], checkEvery: Int64, reading r: inout SnapshotReader, version: UInt16 = SnapshotCodec.version,
        clock: inout Int64, enterprises: inout [UInt32?]
    ) throws(SnapshotError) {
        self.init(deadlines: deadlines, checkEvery: checkEvery)
        for d in self.deadlines { guard try r.i64() == d else { throw SnapshotError("alert state was taken with other response deadlines") } }
        guard try r.i64() == checkEvery else { throw SnapshotError("alert state was taken with another check interval") }
        if version < 5 { clock = Swift.max(clock, try Watermark.legacyMaxEventTime(from: &r)) }
        checks.next = try r.i64()
        let n = try r.count(minBytes: version < 6 ? 42 : 38)
        for _ in 0..<n {
            let c = Int8(bitPattern: try r.u8())
            guard c >= -1 && c <= 3 else { throw SnapshotError("alert state holds an unknown severity \(c)") }
            colour.append(c)
            respondBy.append(try r.i64())
            raisedAt.append(try r.i64())
            let enterprise = version < 6 ? try r.u32() : 0
            rule.append(Int32(bitPattern: try r.u32()))
            if version < 6 && rule[rule.count - 1] >= 0 {
                if enterprises.count < rule.count { enterprises.append(contentsOf: repeatElement(nil, count: rule.count - enterprises.count)) }
                if enterprises[rule.count - 1] == nil { enterprises[rule.count - 1] = enterprise }
            }
            level.append(try r.u8())
            changedAt.append(try r.i64())
            acknowledgedAt.append(try r.i64())
        }
    }
}
