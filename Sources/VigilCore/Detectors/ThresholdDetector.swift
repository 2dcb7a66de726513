/// A two-level alarm rule for one kind of monitoring point (`DOMAIN.md` §3): AL1/AL2 (or H/HH, L/LL) with a
/// deadband for clearing and on/off delays.
public struct ThresholdRule: Sendable, Hashable {
    public enum Direction: Sendable, Hashable {
        /// Alarm when the value rises to the level (gas, temperature, pressure, tilt).
        case high
        /// Alarm when the value falls to the level (oxygen deficiency, low level).
        case low
    }

    public var name: String
    public var direction: Direction
    /// First level (AL1 / H / L); `nil`: the rule cannot alarm ("threshold not set").
    public var level1: Double?
    /// Second level (AL2 / HH / LL); `nil`: one level only.
    public var level2: Double?
    /// An alarm at level k clears only when the value is back past `level_k ∓ deadband`.
    public var deadband: Double
    /// A higher level must hold this long (event time, ms) before it is raised.
    public var onDelay: Int64
    /// A lower level must hold this long before the alarm steps down or clears.
    public var offDelay: Int64

    public init(
        name: String, direction: Direction = .high, level1: Double?, level2: Double? = nil, deadband: Double = 0,
        onDelay: Int64 = 0, offDelay: Int64 = 0
    ) {
        self.name = name
        self.direction = direction
        self.level1 = level1
        self.level2 = level2
        self.deadband = deadband
        self.onDelay = onDelay
        self.offDelay = offDelay
    }

    /// The level a value indicates, given the level currently raised (the deadband keeps a raised level).
    public func level(of value: Double, current: UInt8) -> UInt8 {
        func reached(_ limit: Double?) -> Bool {
            guard let limit else { return false }
            return direction == .high ? value >= limit : value <= limit
        }
        func holds(_ limit: Double?) -> Bool {
            guard let limit else { return false }
            return direction == .high ? value > limit - deadband : value < limit + deadband
        }
        var level: UInt8 = reached(level2) ? 2 : reached(level1) ? 1 : 0
        if current >= 2 && level < 2 && holds(level2) { level = 2 }
        if current >= 1 && level < 1 && holds(level1) { level = 1 }
        return level
    }
}

/// A change of a sensor's alarm level.
public struct AlarmTransition: Sendable, Hashable {
    public var sensor: UInt32
    public var enterprise: UInt32
    /// Index of the rule in the detector's rule list.
    public var rule: Int
    /// Event time of the reading that completed the transition.
    public var time: Int64
    public var from: UInt8
    public var to: UInt8
    public var value: Double
    /// Event time the alarm episode was raised (the `from == 0` transition that opened it).
    public var raisedAt: Int64

    public init(sensor: UInt32, enterprise: UInt32, rule: Int, time: Int64, from: UInt8, to: UInt8, value: Double, raisedAt: Int64) {
        self.sensor = sensor
        self.enterprise = enterprise
        self.rule = rule
        self.time = time
        self.from = from
        self.to = to
        self.value = value
        self.raisedAt = raisedAt
    }

    /// `raised`, `escalated`, `de-escalated` or `cleared`.
    public var kind: String {
        if from == 0 { return "raised" }
        if to == 0 { return "cleared" }
        return to > from ? "escalated" : "de-escalated"
    }
}

/// Two-level threshold alarms per sensor, over batches of readings, with state as struct-of-arrays columns.
///
/// Each sensor slot is bound once to a rule (or to none) by `ruleFor`; then every reading updates the
/// slot's raised level, the level it is waiting to confirm, and since when. Delays run on event time, so a
/// replay gives the same transitions. No allocation per reading once the columns cover the key space.
public struct ThresholdDetector: Sendable {
    public let rules: [ThresholdRule]
    /// Rule index per slot: -2 unresolved, -1 no rule.
    var ruleOf: [Int32] = []
    var state: [UInt8] = []
    var pending: [UInt8] = []
    var pendingSince: [Int64] = []
    var raisedAt: [Int64] = []

    public init(rules: [ThresholdRule]) { self.rules = rules }

    /// The rule bound to `slot` by an earlier ``process(_:into:ruleFor:)``, if any.
    public func ruleIndex(slot: UInt32) -> Int? {
        Int(slot) < ruleOf.count && ruleOf[Int(slot)] >= 0 ? Int(ruleOf[Int(slot)]) : nil
    }

    /// The raised level of `slot` (0 normal, 1 AL1, 2 AL2).
    public func level(slot: UInt32) -> UInt8 { Int(slot) < state.count ? state[Int(slot)] : 0 }

    /// Processes a batch in order and appends level changes to `transitions`.
    ///
    /// - Parameter ruleFor: Called once per new sensor slot; returns the index of its rule or nil.
    public mutating func process(
        _ batch: ReadingBatch, into transitions: inout [AlarmTransition], ruleFor: (UInt32) -> Int?
    ) {
        for i in 0..<batch.count {
            let slot = Int(batch.sensor[i])
            if slot >= ruleOf.count { grow(to: slot + 1) }
            if ruleOf[slot] == -2 { ruleOf[slot] = Int32(ruleFor(UInt32(slot)) ?? -1) }
            let r = Int(ruleOf[slot])
            guard r >= 0 else { continue }
            let t = batch.eventTime[i]
            let x = batch.value[i]
            let rule = rules[r]
            let current = state[slot]
            let target = rule.level(of: x, current: current)
            if target == current {
                pending[slot] = current
                continue
            }
            if pending[slot] != target {
                pending[slot] = target
                pendingSince[slot] = t
            }
            let delay = target > current ? rule.onDelay : rule.offDelay
            guard t - pendingSince[slot] >= delay else { continue }
            if current == 0 { raisedAt[slot] = t }
            transitions.append(
                AlarmTransition(
                    sensor: UInt32(slot), enterprise: batch.enterprise[i], rule: r, time: t, from: current, to: target, value: x,
                    raisedAt: raisedAt[slot]
                )
            )
            state[slot] = target
        }
    }

    mutating func grow(to n: Int) {
        let extra = max(n, ruleOf.count * 2) - ruleOf.count
        ruleOf.append(contentsOf: repeatElement(-2, count: extra))
        state.append(contentsOf: repeatElement(0, count: extra))
        pending.append(contentsOf: repeatElement(0, count: extra))
        pendingSince.append(contentsOf: repeatElement(.min, count: extra))
        raisedAt.append(contentsOf: repeatElement(0, count: extra))
    }
}
