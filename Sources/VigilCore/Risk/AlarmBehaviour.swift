/// The five alarm-behaviour indicators of one enterprise over a rolling window (`DOMAIN.md` §4.1/§4.3):
/// disturbance rate, repeat alarms, mean alarms per point, mean time to clear, longest alarm.
///
/// Fed with the enterprise's points (as they report), its alarm transitions and its anomaly episodes; alarms
/// older than the window are forgotten. Anomaly episodes are pseudo-alarms (§4.3): each counts with
/// ``pseudoWeight`` in the alarm counts (s1–s3), not in the durations. Event time throughout, so replays give
/// the same indicators.
public struct AlarmBehaviour: Sendable {
    /// The rolling window, ms (default 24 h).
    public let window: Int64
    /// What an anomaly episode counts for, against 1 for an alarm (0.5).
    public static let pseudoWeight = 0.5

    struct Alarm: Sendable {
        var sensor: UInt32
        var raisedAt: Int64
        var clearedAt: Int64?
        /// What the alarm counts for in s3 (alarms per point): the weight of the highest level it reached (§4.3
        /// severity weights: AL1 1, AL2 2, a red-severity AL2 such as a toxic gas 3). s1 and s2 count alarms.
        var weight = 1.0
    }
    var alarms: [Alarm] = []
    /// The points of the enterprise that have reported, in the order first seen (a point keeps its position),
    /// when last (event time), and whether they are in an anomaly episode now; `position` finds a point.
    var sensors: [UInt32] = []
    var lastSeen: [Int64] = []
    var anomalous: [Bool] = []
    var position: [UInt32: Int32] = [:]
    /// Starts of anomaly episodes (sensor, event time) within the window.
    var pseudoAlarms: [(sensor: UInt32, at: Int64)] = []
    /// Points in an anomaly episode that have not reported a reading (possible only through
    /// ``noteAnomaly(sensor:at:anomalous:)`` alone; the job notes a reading and its verdict together).
    var anomalousUnseen: Set<UInt32> = []

    public init(window: Int64 = 86_400_000) { self.window = window }

    /// The enterprise's points that have reported.
    public var pointCount: Int { sensors.count }

    /// The position of `sensor` among the points, adding it with a first reading at `t` if it is new. A
    /// position never changes, so a caller that sees the same sensors again can keep it and use
    /// ``noteReading(point:at:anomalous:)`` without a lookup (positions are not kept across a snapshot).
    public mutating func point(sensor: UInt32, at t: Int64) -> Int {
        if let p = position[sensor] { return Int(p) }
        let p = sensors.count
        position[sensor] = Int32(p)
        sensors.append(sensor)
        lastSeen.append(t)
        anomalous.append(!anomalousUnseen.isEmpty && anomalousUnseen.remove(sensor) != nil)
        return p
    }

    /// A reading of `sensor` arrived at `t` (the point is online); `anomalous`: whether a statistical detector
    /// scored it as anomalous (nil: not scored). The first anomalous reading after a normal one starts an
    /// episode (a pseudo-alarm).
    public mutating func noteReading(sensor: UInt32, at t: Int64, anomalous isAnomalous: Bool? = nil) {
        noteReading(point: point(sensor: sensor, at: t), at: t, anomalous: isAnomalous)
    }

    /// ``noteReading(sensor:at:anomalous:)`` for the point at `p` (from ``point(sensor:at:)``): no lookup.
    public mutating func noteReading(point p: Int, at t: Int64, anomalous isAnomalous: Bool?) {
        if t > lastSeen[p] { lastSeen[p] = t }
        if let isAnomalous { noteVerdict(point: p, at: t, anomalous: isAnomalous) }
    }

    /// The first anomalous verdict after a normal one starts an episode.
    mutating func noteVerdict(point p: Int, at t: Int64, anomalous isAnomalous: Bool) {
        if isAnomalous && !anomalous[p] { pseudoAlarms.append((sensors[p], t)) }
        anomalous[p] = isAnomalous
    }

    /// A reading of `sensor` at `t` that a statistical detector scored as anomalous (`true`) or not (see
    /// ``noteReading(sensor:at:anomalous:)``, which notes both at once).
    public mutating func noteAnomaly(sensor: UInt32, at t: Int64, anomalous isAnomalous: Bool) {
        if let p = position[sensor] {
            noteVerdict(point: Int(p), at: t, anomalous: isAnomalous)
        } else if isAnomalous {
            if anomalousUnseen.insert(sensor).inserted { pseudoAlarms.append((sensor, t)) }
        } else {
            anomalousUnseen.remove(sensor)
        }
    }

    /// An alarm transition of one of the enterprise's points; `weight` is what the level it reaches counts for
    /// (an alarm counts with the largest weight of its episode).
    public mutating func note(_ transition: AlarmTransition, weight: Double = 1) {
        if transition.from == 0 {
            alarms.append(Alarm(sensor: transition.sensor, raisedAt: transition.time, clearedAt: nil, weight: weight))
        } else if let i = alarms.lastIndex(where: { $0.sensor == transition.sensor && $0.clearedAt == nil }) {
            if transition.to == 0 {
                alarms[i].clearedAt = transition.time
            } else if weight > alarms[i].weight {
                alarms[i].weight = weight
            }
        }
    }

    /// The indicators at event time `now`, as the inputs of
    /// ``RiskInputs/alarmScore(disturbanceRate:repeatAlarmShare:alarmsPerPoint:meanTimeToClear:longestAlarm:)``.
    public struct Indicators: Sendable, Hashable {
        public var disturbanceRate: Double
        public var repeatAlarmShare: Double
        public var alarmsPerPoint: Double
        public var meanTimeToClear: Int64
        public var longestAlarm: Int64
        /// Points silent for longer than `staleAfter` (§5 OFFLINE), as a share of the points.
        public var offlineShare: Double
        /// Points reporting a frozen value (§5 FROZEN) or in instrument fault (§5 FAULT) and not offline, as a
        /// share of the points; Q counts both shares (§4.3 "offline/frozen share").
        public var frozenShare: Double = 0
        /// Alarms in the window.
        public var alarms: Int
        /// Anomaly episodes in the window, and s1–s3 with them counted as pseudo-alarms.
        public var pseudoAlarms: Int
        public var withPseudo: (disturbanceRate: Double, repeatAlarmShare: Double, alarmsPerPoint: Double) {
            (pseudoDisturbanceRate, pseudoRepeatAlarmShare, pseudoAlarmsPerPoint)
        }
        var pseudoDisturbanceRate: Double
        var pseudoRepeatAlarmShare: Double
        var pseudoAlarmsPerPoint: Double

        /// A (0–100) from the alarms alone, and with the pseudo-alarms: the larger counts, so anomaly scores
        /// only ever raise A (§4.3).
        public var alarmScore: (alarms: Double, withPseudo: Double) {
            (
                RiskInputs.alarmScore(
                    disturbanceRate: disturbanceRate, repeatAlarmShare: repeatAlarmShare, alarmsPerPoint: alarmsPerPoint,
                    meanTimeToClear: meanTimeToClear, longestAlarm: longestAlarm),
                RiskInputs.alarmScore(
                    disturbanceRate: pseudoDisturbanceRate, repeatAlarmShare: pseudoRepeatAlarmShare, alarmsPerPoint: pseudoAlarmsPerPoint,
                    meanTimeToClear: meanTimeToClear, longestAlarm: longestAlarm)
            )
        }
    }

    /// The indicators at `now`; a point is offline when silent for longer than `staleAfter`, and `isFrozen`
    /// says which sensors report a frozen value.
    public mutating func indicators(at now: Int64, staleAfter: Int64 = 1_800_000, isFrozen: (UInt32) -> Bool = { _ in false }) -> Indicators {
        let since = now - window
        alarms.removeAll { ($0.clearedAt ?? .max) < since }
        pseudoAlarms.removeAll { $0.at < since }
        let recent = alarms.filter { ($0.clearedAt ?? now) >= since }
        let online = Double(max(1, sensors.count))
        var perSensor: [UInt32: Double] = [:]
        for a in recent { perSensor[a.sensor, default: 0] += 1 }
        let weightedAlarms = recent.reduce(0) { $0 + $1.weight }
        let cleared = recent.compactMap { a in a.clearedAt.map { $0 - a.raisedAt } }
        let meanClear = cleared.isEmpty ? 0 : cleared.reduce(0, +) / Int64(cleared.count)
        let longest = recent.map { ($0.clearedAt ?? now) - $0.raisedAt }.max() ?? 0
        var offline = 0
        var frozen = 0
        for p in lastSeen.indices {
            if now - lastSeen[p] > staleAfter {
                offline += 1
            } else if isFrozen(sensors[p]) {
                frozen += 1
            }
        }
        // With pseudo-alarms: a point counts as alarming with the weight of its strongest kind of episode.
        var weighted = perSensor
        var pseudoOnly: [UInt32: Double] = [:]
        for p in pseudoAlarms where p.at <= now {
            weighted[p.sensor, default: 0] += Self.pseudoWeight
            if perSensor[p.sensor] == nil { pseudoOnly[p.sensor] = Self.pseudoWeight }
        }
        let pseudoCount = pseudoAlarms.count { $0.at <= now }
        return Indicators(
            disturbanceRate: Double(perSensor.count) / online, repeatAlarmShare: Double(perSensor.values.count { $0 >= 3 }) / online,
            alarmsPerPoint: weightedAlarms / online, meanTimeToClear: meanClear, longestAlarm: longest,
            offlineShare: Double(offline) / online, frozenShare: Double(frozen) / online, alarms: recent.count, pseudoAlarms: pseudoCount,
            pseudoDisturbanceRate: (Double(perSensor.count) + pseudoOnly.values.reduce(0, +)) / online,
            pseudoRepeatAlarmShare: Double(weighted.values.count { $0 >= 3 }) / online,
            pseudoAlarmsPerPoint: (weightedAlarms + Self.pseudoWeight * Double(pseudoCount)) / online
        )
    }
}
