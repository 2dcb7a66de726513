/// What a sensor type's points are checked for as instruments (`DOMAIN.md` §5 point rules), independent of
/// alarm levels.
public struct DeviceCheck: Sendable, Hashable {
    /// The instrument's measuring range; a value outside it is a `FAULT`. ±infinity: no bound.
    public var rangeMin: Double
    public var rangeMax: Double
    /// Whether the points are analog tags, which are `FROZEN` when their value stays the same too long (a
    /// discrete state such as a valve-fault contact is legitimately flat for days).
    public var analog: Bool
    /// STALE: a gap longer than this before a reading scores at least 0.6 as a
    /// data gap (§5: max(3 × the nominal period, 5 min)); nil: the scorer's ``AnomalySettings/staleAfter``.
    /// Used by the anomaly scorer, not here.
    public var staleAfter: Int64?
    /// The nominal sampling period: the anomaly scorer's prior for the point's cadence (nil: learnt only).
    public var period: Int64?

    public init(
        rangeMin: Double = -.infinity, rangeMax: Double = .infinity, analog: Bool = true, staleAfter: Int64? = nil, period: Int64? = nil
    ) {
        self.rangeMin = rangeMin
        self.rangeMax = rangeMax
        self.analog = analog
        self.staleAfter = staleAfter
        self.period = period
    }
}

/// A point's instrument going faulty or frozen, or recovering, in event time (`DOMAIN.md` §5).
public struct DeviceStatusEvent: Sendable, Hashable {
    public enum Kind: UInt8, Sendable, Hashable {
        /// A value outside the instrument range; `limit` is the bound it crossed.
        case fault
        /// The first value inside the range again.
        case faultCleared
        /// An analog value unchanged for `frozenAfter`.
        case frozen
        /// The first different value.
        case unfrozen
    }

    public var sensor: UInt32
    public var enterprise: UInt32
    public var kind: Kind
    /// Event time of the reading that showed the change.
    public var time: Int64
    /// When the condition began, which names the episode (its alert id): the first faulty reading, or the
    /// moment the flat run had lasted `frozenAfter` (its first reading + `frozenAfter`).
    public var since: Int64
    /// The reading's value.
    public var value: Double
    /// For a fault, the range bound crossed; otherwise nil.
    public var limit: Double?
    /// The reading's position in the batch processed.
    public var reading: Int

    public init(sensor: UInt32, enterprise: UInt32, kind: Kind, time: Int64, since: Int64, value: Double, limit: Double? = nil, reading: Int = 0) {
        self.sensor = sensor
        self.enterprise = enterprise
        self.kind = kind
        self.time = time
        self.since = since
        self.value = value
        self.limit = limit
        self.reading = reading
    }
}

/// Instrument faults and frozen values per point (`DOMAIN.md` §5: `FAULT` for a value outside the instrument
/// range, `FROZEN` for an analog value flat for more than 24 h).
///
/// Event time, reading by reading in input order, so a replay gives the same events: a fault starts at the
/// first value outside the point's range and clears at the next one inside it; a flat run counts the readings
/// in event-time order (a late reading neither extends nor breaks it) and freezes at the first reading that
/// finds it has lasted `frozenAfter`. Faulty readings still reach the alarm rules and the scorer: an
/// over-range gas reading is at least full scale, and hiding it would be the unsafe choice. State: five
/// columns per point, plus the type of each sensor slot resolved once.
public struct DeviceStatusDetector: Sendable {
    public let checks: [DeviceCheck]
    /// How long an analog value must stay exactly the same to be frozen, ms (default 24 h).
    public let frozenAfter: Int64
    /// Per slot: the index into `checks` (-1: none; -2: not resolved yet).
    var checkIndex: [Int32] = []
    /// Per slot: event time of the latest reading, and the start of the run of equal values it ends.
    var lastTime: [Int64] = []
    var flatSince: [Int64] = []
    var flatValue: [Double] = []
    /// Per slot: start of the fault or frozen episode in progress (`.min`: none).
    var faultSince: [Int64] = []
    var frozenSince: [Int64] = []

    public init(checks: [DeviceCheck], frozenAfter: Int64 = 86_400_000) {
        precondition(frozenAfter > 0, "DeviceStatusDetector: frozenAfter must be > 0")
        self.checks = checks
        self.frozenAfter = frozenAfter
    }

    /// Whether `slot` is in a fault or frozen now.
    public func isFaulty(slot: UInt32) -> Bool { Int(slot) < faultSince.count && faultSince[Int(slot)] != .min }
    public func isFrozen(slot: UInt32) -> Bool { Int(slot) < frozenSince.count && frozenSince[Int(slot)] != .min }
    /// Per sensor slot, whether it is frozen now.
    public var frozenSlots: [Bool] { frozenSince.map { $0 != .min } }
    /// Per slot: in instrument fault now.
    public var faultSlots: [Bool] { faultSince.map { $0 != .min } }

    /// Processes a batch in order and appends the changes to `events`; `checkFor` gives a sensor slot's index
    /// into `checks` (nil: the sensor has no type), asked once per slot.
    public mutating func process(_ batch: ReadingBatch, into events: inout [DeviceStatusEvent], checkFor: (UInt32) -> Int?) {
        for i in 0..<batch.count {
            let s = Int(batch.sensor[i])
            if s >= checkIndex.count { grow(to: s + 1) }
            if checkIndex[s] == -2 { checkIndex[s] = Int32(checkFor(UInt32(s)) ?? -1) }
            let c = Int(checkIndex[s])
            guard c >= 0 else { continue }
            let x = batch.value[i]
            guard !x.isNaN else { continue }
            let t = batch.eventTime[i]
            let check = checks[c]
            let enterprise = batch.enterprise[i]
            let below = x < check.rangeMin
            if below || x > check.rangeMax {
                if faultSince[s] == .min {
                    faultSince[s] = t
                    let limit = below ? check.rangeMin : check.rangeMax
                    events.append(
                        DeviceStatusEvent(
                            sensor: UInt32(s), enterprise: enterprise, kind: .fault, time: t, since: t, value: x, limit: limit, reading: i))
                }
            } else if faultSince[s] != .min {
                events.append(
                    DeviceStatusEvent(
                        sensor: UInt32(s), enterprise: enterprise, kind: .faultCleared, time: t, since: faultSince[s], value: x, reading: i))
                faultSince[s] = .min
            }
            if !check.analog {
                // The type was made discrete since (a restored state): its frozen episode ends.
                if frozenSince[s] != .min {
                    events.append(
                        DeviceStatusEvent(
                            sensor: UInt32(s), enterprise: enterprise, kind: .unfrozen, time: t, since: frozenSince[s], value: x, reading: i))
                    frozenSince[s] = .min
                }
                continue
            }
            guard t >= lastTime[s] else { continue }
            lastTime[s] = t
            if x != flatValue[s] {
                if frozenSince[s] != .min {
                    events.append(
                        DeviceStatusEvent(
                            sensor: UInt32(s), enterprise: enterprise, kind: .unfrozen, time: t, since: frozenSince[s], value: x, reading: i))
                    frozenSince[s] = .min
                }
                flatValue[s] = x
                flatSince[s] = t
            } else if frozenSince[s] == .min && t &- flatSince[s] > frozenAfter {
                frozenSince[s] = flatSince[s] &+ frozenAfter
                events.append(
                    DeviceStatusEvent(sensor: UInt32(s), enterprise: enterprise, kind: .frozen, time: t, since: frozenSince[s], value: x, reading: i))
            }
        }
    }

    mutating func grow(to n: Int) {
        let extra = max(n, checkIndex.count * 2) - checkIndex.count
        checkIndex.append(contentsOf: repeatElement(-2, count: extra))
        lastTime.append(contentsOf: repeatElement(.min, count: extra))
        flatSince.append(contentsOf: repeatElement(.min, count: extra))
        flatValue.append(contentsOf: repeatElement(.nan, count: extra))
        faultSince.append(contentsOf: repeatElement(.min, count: extra))
        frozenSince.append(contentsOf: repeatElement(.min, count: extra))
    }

    /// Writes the per-point state. The checks are not written: each slot's type is resolved again after a
    /// restore, so a pipeline whose ranges changed applies them from its next reading on.
    public func write(to w: inout SnapshotWriter) {
        w.u64(UInt64(lastTime.count))
        for s in lastTime.indices {
            w.i64(lastTime[s])
            w.i64(flatSince[s])
            w.f64(flatValue[s])
            w.i64(faultSince[s])
            w.i64(frozenSince[s])
        }
    }

    /// Restores a detector from ``write(to:)``.
    public init(checks: [DeviceCheck], frozenAfter: Int64, reading r: inout SnapshotReader) throws(SnapshotError) {
        self.init(checks: checks, frozenAfter: frozenAfter)
        let slots = try r.count(minBytes: 40)
        grow(to: slots)
        for s in 0..<slots {
            lastTime[s] = try r.i64()
            flatSince[s] = try r.i64()
            flatValue[s] = try r.f64()
            faultSince[s] = try r.i64()
            frozenSince[s] = try r.i64()
        }
    }
}
