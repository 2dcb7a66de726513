/// The five alarm-behaviour indicators of one enterprise over a rolling window (`DOMAIN.md` §4.1/§4.3):
/// disturbance rate, repeat alarms, mean alarms per point, mean time to clear, longest alarm.
///
/// Fed with the enterprise's points (as they report) and its alarm transitions; alarms older than the window
/// are forgotten. Event time throughout, so replays give the same indicators.
public struct AlarmBehaviour: Sendable {
    /// The rolling window, ms (default 24 h).
    public let window: Int64

    struct Alarm: Sendable {
        var sensor: UInt32
        var raisedAt: Int64
        var clearedAt: Int64?
    }
    var alarms: [Alarm] = []
    var points: Set<UInt32> = []
    var lastSeen: [UInt32: Int64] = [:]

    public init(window: Int64 = 86_400_000) { self.window = window }

    /// A reading of `sensor` arrived at `t` (the point is online).
    public mutating func noteReading(sensor: UInt32, at t: Int64) {
        points.insert(sensor)
        if t > (lastSeen[sensor] ?? .min) { lastSeen[sensor] = t }
    }

    /// An alarm transition of one of the enterprise's points.
    public mutating func note(_ transition: AlarmTransition) {
        if transition.from == 0 {
            alarms.append(Alarm(sensor: transition.sensor, raisedAt: transition.time, clearedAt: nil))
        } else if transition.to == 0, let i = alarms.lastIndex(where: { $0.sensor == transition.sensor && $0.clearedAt == nil }) {
            alarms[i].clearedAt = transition.time
        }
    }

    /// The indicators at event time `now`, as the inputs of ``RiskInputs/alarmScore(disturbanceRate:repeatAlarmShare:alarmsPerPoint:meanTimeToClear:longestAlarm:)``.
    public mutating func indicators(at now: Int64, staleAfter: Int64 = 1_800_000)
        -> (disturbanceRate: Double, repeatAlarmShare: Double, alarmsPerPoint: Double, meanTimeToClear: Int64, longestAlarm: Int64,
            offlineShare: Double, alarms: Int)
    {
        let since = now - window
        alarms.removeAll { ($0.clearedAt ?? .max) < since }
        let recent = alarms.filter { ($0.clearedAt ?? now) >= since }
        let online = max(1, points.count)
        var perSensor: [UInt32: Int] = [:]
        for a in recent { perSensor[a.sensor, default: 0] += 1 }
        let cleared = recent.compactMap { a in a.clearedAt.map { $0 - a.raisedAt } }
        let meanClear = cleared.isEmpty ? 0 : cleared.reduce(0, +) / Int64(cleared.count)
        let longest = recent.map { ($0.clearedAt ?? now) - $0.raisedAt }.max() ?? 0
        let offline = points.filter { now - (lastSeen[$0] ?? now) > staleAfter }.count
        return (
            Double(perSensor.count) / Double(online), Double(perSensor.values.filter { $0 >= 3 }.count) / Double(online),
            Double(recent.count) / Double(online), meanClear, longest, Double(offline) / Double(online), recent.count
        )
    }
}
