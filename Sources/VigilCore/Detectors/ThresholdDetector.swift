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
    /// Dynamic limits: seasonal, time-of-day and special-work adjustments. They only tighten (the tightest
    /// of the base levels and every applying adjustment is in force).
    public var adjustments: [LimitAdjustment]
    /// Two-sided levels (H/HH up, L/LL down) for every point of the rule that has no setpoints of its own, as
    /// for oxygen (deficiency and enrichment); `direction`, `level1` and `level2` are then unused.
    public var sides: PointSetpoints?

    public init(
        name: String, direction: Direction = .high, level1: Double?, level2: Double? = nil, deadband: Double = 0,
        onDelay: Int64 = 0, offDelay: Int64 = 0, adjustments: [LimitAdjustment] = [], sides: PointSetpoints? = nil
    ) {
        self.sides = sides
        self.name = name
        self.direction = direction
        self.level1 = level1
        self.level2 = level2
        self.deadband = deadband
        self.onDelay = onDelay
        self.offDelay = offDelay
        self.adjustments = adjustments
    }

    /// The level a value indicates, given the level currently raised (the deadband keeps a raised level).
    public func level(of value: Double, current: UInt8) -> UInt8 {
        level(of: value, current: current, limits: EffectiveLimits(self))
    }

    /// The level a value indicates under `limits` (the rule's levels after dynamic adjustments, or a point's
    /// setpoints on one side: the direction is the limits').
    @inline(__always)
    public func level(of value: Double, current: UInt8, limits: EffectiveLimits) -> UInt8 {
        Self.level(of: value, current: current, limits: limits, deadband: deadband)
    }

    @inline(__always)
    static func level(of value: Double, current: UInt8, limits: EffectiveLimits, deadband: Double) -> UInt8 {
        let level1 = limits.level1
        let level2 = limits.level2
        let high = limits.direction != 2
        @inline(__always) func reached(_ limit: Double) -> Bool {
            guard !limit.isNaN else { return false }
            return high ? value >= limit : value <= limit
        }
        @inline(__always) func holds(_ limit: Double) -> Bool {
            guard !limit.isNaN else { return false }
            return high ? value > limit - deadband : value < limit + deadband
        }
        var level: UInt8 = reached(level2) ? 2 : reached(level1) ? 1 : 0
        if current >= 2 && level < 2 && holds(level2) { level = 2 }
        if current >= 1 && level < 1 && holds(level1) { level = 1 }
        return level
    }

    /// The levels in force at local month `month` (1–12) and hour `hour` (0–23), with or without a special-work
    /// permit under way.
    public func limits(month: Int, hour: Int, permit: Bool) -> EffectiveLimits {
        var l = EffectiveLimits(self)
        for a in adjustments where a.applies(month: month, hour: hour, permit: permit) {
            let proposed = a.levels(base: self)
            l.level1 = tighter(l.level1, proposed.level1)
            l.level2 = tighter(l.level2, proposed.level2)
        }
        return l
    }

    private func tighter(_ a: Double, _ b: Double) -> Double {
        if a.isNaN { return a }  // a level that is not set stays unset
        if b.isNaN { return a }
        return direction == .high ? min(a, b) : max(a, b)
    }
}

/// A dynamic limit (`DOMAIN.md` §3): in some months, at some hours of the day, or while a special-work
/// permit (hot work, confined space) is valid, the levels are scaled or replaced. Conditions combine with AND;
/// an empty condition always applies.
public struct LimitAdjustment: Sendable, Hashable {
    /// Bit m set: applies in month m (1–12). 0: every month.
    public var months: UInt16
    /// Bit h set: applies in local hour h (0–23). 0: every hour.
    public var hours: UInt32
    /// Applies only while a hot-work or confined-space permit of the enterprise is valid.
    public var duringPermit: Bool
    /// Multiplies both levels (e.g. 0.8 lowers a gas rule's levels by 20 %).
    public var scale: Double?
    /// Replace the levels (take precedence over `scale`).
    public var level1: Double?
    public var level2: Double?

    public init(
        months: some Sequence<Int> = [], hours: some Sequence<Int> = [], duringPermit: Bool = false, scale: Double? = nil,
        level1: Double? = nil, level2: Double? = nil
    ) {
        self.months = months.reduce(0) { $0 | (1 << UInt16($1)) }
        self.hours = hours.reduce(0) { $0 | (1 << UInt32($1)) }
        self.duringPermit = duringPermit
        self.scale = scale
        self.level1 = level1
        self.level2 = level2
    }

    public var needsCalendar: Bool { months != 0 || hours != 0 }

    public func applies(month: Int, hour: Int, permit: Bool) -> Bool {
        (months == 0 || months & (1 << UInt16(month)) != 0) && (hours == 0 || hours & (1 << UInt32(hour)) != 0)
            && (!duringPermit || permit)
    }

    /// The levels this adjustment proposes for `rule`.
    public func levels(base rule: ThresholdRule) -> (level1: Double, level2: Double) {
        func level(_ explicit: Double?, _ base: Double?) -> Double {
            if let explicit { return explicit }
            guard let base else { return .nan }
            return base * (scale ?? 1)
        }
        return (level(level1, rule.level1), level(level2, rule.level2))
    }
}

/// A monitoring point's design setpoints (`DOMAIN.md` §3.2: per-tank H/HH/L/LL from master data; NaN: not
/// set). For that point they replace its rule's levels (and adjustments), and make it two-sided: H/HH raise
/// AL1/AL2 going up, L/LL going down; the rule's deadband and delays still apply.
public struct PointSetpoints: Sendable, Hashable {
    public var high: Double
    public var highHigh: Double
    public var low: Double
    public var lowLow: Double

    public init(high: Double? = nil, highHigh: Double? = nil, low: Double? = nil, lowLow: Double? = nil) {
        self.high = high ?? .nan
        self.highHigh = highHigh ?? .nan
        self.low = low ?? .nan
        self.lowLow = lowLow ?? .nan
    }

    /// The upper side (H, HH) and the lower side (L, LL) as limits.
    public var upper: EffectiveLimits { EffectiveLimits(direction: 1, level1: high, level2: highHigh) }
    public var lower: EffectiveLimits { EffectiveLimits(direction: 2, level1: low, level2: lowLow) }
    /// Whether any level is set.
    public var isEmpty: Bool { high.isNaN && highHigh.isNaN && low.isNaN && lowLow.isNaN }

    // Equal when the same levels are set to the same values (NaN, "not set", equals itself here).
    public static func == (a: Self, b: Self) -> Bool {
        [a.high, a.highHigh, a.low, a.lowLow].map(\.bitPattern) == [b.high, b.highHigh, b.low, b.lowLow].map(\.bitPattern)
    }

    public func hash(into hasher: inout Hasher) {
        for x in [high, highHigh, low, lowLow] { hasher.combine(x.bitPattern) }
    }
}

/// What dynamic limits depend on besides the rule: the local calendar, the special-work permits and the
/// points' own setpoints.
public struct LimitContext: Sendable {
    /// Offset of local time from UTC (ms) for month and hour of day.
    public var utcOffset: Int64
    /// Per enterprise slot: the intervals `[start, end)` (event time, ms) of its valid hot-work or
    /// confined-space permits, with the unit each is for.
    public var permits: [[ClosedOpenInterval]]

    public struct ClosedOpenInterval: Sendable, Hashable {
        public var start: Int64
        public var end: Int64
        /// The unit (单元) the permit is for; nil: the whole enterprise.
        public var unit: String?
        public init(start: Int64, end: Int64, unit: String? = nil) {
            self.start = start
            self.end = end
            self.unit = unit
        }
    }

    /// Per sensor slot: the unit the point belongs to, nil where it is not known (then every permit of its
    /// enterprise applies to it).
    public var sensorUnits: [String?] = []

    /// Per sensor slot: the point's setpoints, if it has any.
    public var setpoints: [PointSetpoints?]

    /// Per sensor slot: the lower end of the instrument's range (NaN: none known). A reading below it is an
    /// instrument fault (a broken 4–20 mA loop, below 3.6 mA in NAMUR NE 43 terms), not a process value: it
    /// neither raises nor clears nor advances an alarm. Above the range a reading stays a process value (a
    /// saturated detector is a real high).
    public var rangeMin: [Double] = []

    public init(utcOffset: Int64 = 0, permits: [[ClosedOpenInterval]] = [], setpoints: [PointSetpoints?] = []) {
        self.utcOffset = utcOffset
        self.permits = permits
        self.setpoints = setpoints
    }

    /// Whether a permit valid at `t` covers the point `sensor` of `enterprise`: one for the point's unit, one
    /// for the whole enterprise, or any of the enterprise's when the point's unit is not known (conservative).
    public func permitActive(enterprise: UInt32, sensor: UInt32, at t: Int64) -> Bool {
        let e = Int(enterprise)
        guard e < permits.count, !permits[e].isEmpty else { return false }
        let unit = Int(sensor) < sensorUnits.count ? sensorUnits[Int(sensor)] : nil
        for p in permits[e] where p.start <= t && t < p.end && (p.unit == nil || unit == nil || p.unit == unit) { return true }
        return false
    }

    /// Local month (1–12) and hour (0–23) of event time `t`.
    public func calendar(_ t: Int64) -> (month: Int, hour: Int) {
        let local = t + utcOffset
        let days = EventTime.floorDiv(local, 86_400_000)
        let hour = Int((local - days * 86_400_000) / 3_600_000)
        return (Self.month(daysSinceEpoch: days), hour)
    }

    /// The civil month of a day count since 1970-01-01.
    static func month(daysSinceEpoch: Int64) -> Int { EventTime.civilDate(daysSinceEpoch: daysSinceEpoch).month }
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
    /// The level crossed, as in force at `time` (dynamic limits): the level of `to`, or of `from` when clearing.
    public var limit: Double
    /// The side of the alarm: the rule's direction, or for a point with setpoints the side it alarms on.
    public var direction: ThresholdRule.Direction

    public init(
        sensor: UInt32, enterprise: UInt32, rule: Int, time: Int64, from: UInt8, to: UInt8, value: Double, raisedAt: Int64,
        limit: Double, direction: ThresholdRule.Direction = .high
    ) {
        self.direction = direction
        self.sensor = sensor
        self.enterprise = enterprise
        self.rule = rule
        self.time = time
        self.from = from
        self.to = to
        self.value = value
        self.raisedAt = raisedAt
        self.limit = limit
    }

    /// `raised`, `escalated`, `de-escalated` or `cleared`.
    public var kind: AlertEvent {
        if from == 0 { return .raised }
        if to == 0 { return .cleared }
        return to > from ? .escalated : .deescalated
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
    /// Whether the slot's current (or last) alarm is on the low side.
    var lowSide: [Bool] = []
    /// Whether the slot has been reported without any level ("threshold not set").
    var reportedUnset: [Bool] = []
    /// Indices into the last processed batch of the readings whose point has a rule but no level at all
    /// (`DOMAIN.md` §3.2 "阈值未设置"): reported once per point, and again if its levels go missing after
    /// having been set.
    public private(set) var thresholdNotSet: [Int] = []
    /// What the per-reading loop reads of each rule, trivially copyable: copying a rule per reading would
    /// retain and release its name and adjustments.
    let cores: [Core]

    struct Core {
        /// The rule's levels without adjustments.
        var base: EffectiveLimits
        var low: Bool
        var adjusted: Bool
        /// Whether one of its adjustments depends on permits.
        var dependsOnPermits: Bool
        var deadband: Double
        var onDelay: Int64
        var offDelay: Int64
        var sides: PointSetpoints?
    }

    public init(rules: [ThresholdRule]) {
        self.rules = rules
        cores = rules.map {
            Core(
                base: EffectiveLimits($0), low: $0.direction == .low, adjusted: !$0.adjustments.isEmpty,
                dependsOnPermits: $0.adjustments.contains(where: \.duringPermit), deadband: $0.deadband, onDelay: $0.onDelay,
                offDelay: $0.offDelay, sides: $0.sides)
        }
    }

    /// The rule bound to `slot` by an earlier ``process(_:into:ruleFor:)``, if any.
    public func ruleIndex(slot: UInt32) -> Int? {
        Int(slot) < ruleOf.count && ruleOf[Int(slot)] >= 0 ? Int(ruleOf[Int(slot)]) : nil
    }

    /// The raised level of `slot` (0 normal, 1 AL1, 2 AL2).
    public func level(slot: UInt32) -> UInt8 { Int(slot) < state.count ? state[Int(slot)] : 0 }

    /// The side of the slot's current (or last) alarm.
    public func direction(slot: UInt32) -> ThresholdRule.Direction { Int(slot) < lowSide.count && lowSide[Int(slot)] ? .low : .high }

    /// Processes a batch in order and appends level changes to `transitions`.
    ///
    /// - Parameter ruleFor: Called once per new sensor slot; returns the index of its rule or nil.
    public mutating func process(
        _ batch: ReadingBatch, into transitions: inout [AlarmTransition], ruleFor: (UInt32) -> Int?
    ) {
        var limits = ReadingLimits()
        process(batch, into: &transitions, limits: &limits, context: LimitContext(), ruleFor: ruleFor)
    }

    /// Processes a batch in order, appends level changes to `transitions`, and writes the limits in force for
    /// every reading to `limits` (cleared first; `.none` for a sensor without a rule).
    ///
    /// Rules with dynamic adjustments are evaluated per reading against `context` (local month and hour, and
    /// the permits of the reading's enterprise at its event time), so a replay gives the same limits. A point
    /// with setpoints in `context` uses them instead, on both sides; while no alarm is raised, its limits
    /// written to `limits` are those of the side nearer the value.
    ///
    /// - Parameter ruleFor: Called once per new sensor slot; returns the index of its rule or nil.
    public mutating func process(
        _ batch: ReadingBatch, into transitions: inout [AlarmTransition], limits: inout ReadingLimits, context: LimitContext,
        ruleFor: (UInt32) -> Int?
    ) {
        limits.removeAll()
        thresholdNotSet.removeAll(keepingCapacity: true)
        let n = batch.count
        guard n > 0 else { return }
        var maxSlot = -1
        for s in batch.sensor where Int(s) > maxSlot { maxSlot = Int(s) }
        if maxSlot >= ruleOf.count { grow(to: maxSlot + 1) }
        // The limit columns are sized first (no limits: `.none`) and written in place, not appended per reading.
        limits.direction.append(contentsOf: repeatElement(0, count: n))
        limits.level1.append(contentsOf: repeatElement(.nan, count: n))
        limits.level2.append(contentsOf: repeatElement(.nan, count: n))
        limits.direction.withUnsafeMutableBufferPointer { direction in
            limits.level1.withUnsafeMutableBufferPointer { level1 in
                limits.level2.withUnsafeMutableBufferPointer { level2 in
                    processReadings(
                        batch, into: &transitions, direction: direction, level1: level1, level2: level2, context: context, ruleFor: ruleFor)
                }
            }
        }
    }

    /// The loop of ``process(_:into:limits:context:ruleFor:)``, writing the limits in force into the columns.
    mutating func processReadings(
        _ batch: ReadingBatch, into transitions: inout [AlarmTransition], direction: UnsafeMutableBufferPointer<UInt8>,
        level1: UnsafeMutableBufferPointer<Double>, level2: UnsafeMutableBufferPointer<Double>, context: LimitContext,
        ruleFor: (UInt32) -> Int?
    ) {
        let n = batch.count
        var calendarDay = Int64.min
        var calendarMonth = 0
        for i in 0..<n {
            let slot = Int(batch.sensor[i])
            if ruleOf[slot] == -2 { ruleOf[slot] = Int32(ruleFor(UInt32(slot)) ?? -1) }
            let r = Int(ruleOf[slot])
            guard r >= 0 else { continue }
            let t = batch.eventTime[i]
            let x = batch.value[i]
            if slot < context.rangeMin.count && x < context.rangeMin[slot] { continue }
            let rule = cores[r]
            var inForce = rule.base
            if rule.adjusted {
                let local = t + context.utcOffset
                let day = EventTime.floorDiv(local, 86_400_000)
                if day != calendarDay {
                    calendarDay = day
                    calendarMonth = LimitContext.month(daysSinceEpoch: day)
                }
                let hour = Int((local - day * 86_400_000) / 3_600_000)
                let permit = rule.dependsOnPermits && context.permitActive(enterprise: batch.enterprise[i], sensor: batch.sensor[i], at: t)
                inForce = rules[r].limits(month: calendarMonth, hour: hour, permit: permit)
            }
            let current = state[slot]
            var target: UInt8
            var low = rule.low
            if let points = slot < context.setpoints.count ? context.setpoints[slot] ?? rule.sides : rule.sides {
                // Two-sided: an alarm stays on its side until it clears; from normal, the upper side first.
                let upper = points.upper
                let lower = points.lower
                if current > 0 {
                    low = lowSide[slot]
                    inForce = low ? lower : upper
                    target = ThresholdRule.level(of: x, current: current, limits: inForce, deadband: rule.deadband)
                } else {
                    let up = ThresholdRule.level(of: x, current: 0, limits: upper, deadband: rule.deadband)
                    let down = up > 0 ? 0 : ThresholdRule.level(of: x, current: 0, limits: lower, deadband: rule.deadband)
                    // Normal: the side nearer the value (the first level set on each side decides).
                    let top = upper.level1.isNaN ? upper.level2 : upper.level1
                    let bottom = lower.level1.isNaN ? lower.level2 : lower.level1
                    low = down > 0 || (up == 0 && !bottom.isNaN && (top.isNaN || x < (top + bottom) / 2))
                    inForce = low ? lower : upper
                    target = max(up, down)
                }
            } else {
                target = ThresholdRule.level(of: x, current: current, limits: inForce, deadband: rule.deadband)
            }
            direction[i] = inForce.direction
            level1[i] = inForce.level1
            level2[i] = inForce.level2
            let unset = inForce.level1.isNaN && inForce.level2.isNaN && current == 0
            if unset != reportedUnset[slot] {
                // A point whose other side is set reports its limits as that side's: unset means none at all.
                reportedUnset[slot] = unset
                if unset { thresholdNotSet.append(i) }
            }
            if target == current {
                pending[slot] = current
                continue
            }
            // The level waited for, and its side (bit 2): a change of side restarts the on-delay.
            let awaited = target | (low && target > 0 ? 4 : 0)
            if pending[slot] != awaited {
                pending[slot] = awaited
                pendingSince[slot] = t
            }
            let delay = target > current ? rule.onDelay : rule.offDelay
            guard t - pendingSince[slot] >= delay else { continue }
            if current == 0 {
                raisedAt[slot] = t
                lowSide[slot] = low
            }
            let crossed = (target != 0 ? target : current) == 2 ? inForce.level2 : inForce.level1
            transitions.append(
                AlarmTransition(
                    sensor: UInt32(slot), enterprise: batch.enterprise[i], rule: r, time: t, from: current, to: target, value: x,
                    raisedAt: raisedAt[slot], limit: crossed, direction: low ? .low : .high
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
        lowSide.append(contentsOf: repeatElement(false, count: extra))
        reportedUnset.append(contentsOf: repeatElement(false, count: extra))
    }
}
