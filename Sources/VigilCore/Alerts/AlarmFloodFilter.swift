/// ISA-18.2-style alarm suppression (`DOMAIN.md` §3.7): a *chattering* point (≥ `chatterCount` raises
/// within `chatterWindow`) stays chattering until it has not raised for `chatterHold`; an enterprise is in a
/// *flood* from the moment it has more than `floodStart` raises within `floodWindow` until it has fewer than
/// `floodEnd`. Alert records of a chattering point, and yellow/blue records during a flood, are still
/// written to the alerts topic (marked `suppressed`) but not routed, and a chattering point's raises count
/// once per `chatterHold` in the alarm-behaviour score.
///
/// Everything is on the transitions' event times, so suppression is the same on replay.
public struct AlarmFloodFilter: Sendable {
    /// The chattering and flood thresholds (settings; the filter adds the per-point and per-enterprise state).
    public struct Settings: Sendable, Hashable {
        public var chatterCount = 3
        public var chatterWindow: Int64 = 60_000
        public var chatterHold: Int64 = 600_000
        public var floodWindow: Int64 = 600_000
        public var floodStart = 10
        public var floodEnd = 5
        public init() {}
    }

    public var settings: Settings
    public var chatterCount: Int {
        get { settings.chatterCount }
        set { settings.chatterCount = newValue }
    }
    public var chatterWindow: Int64 {
        get { settings.chatterWindow }
        set { settings.chatterWindow = newValue }
    }
    public var chatterHold: Int64 {
        get { settings.chatterHold }
        set { settings.chatterHold = newValue }
    }
    public var floodWindow: Int64 {
        get { settings.floodWindow }
        set { settings.floodWindow = newValue }
    }
    public var floodStart: Int {
        get { settings.floodStart }
        set { settings.floodStart = newValue }
    }
    public var floodEnd: Int {
        get { settings.floodEnd }
        set { settings.floodEnd = newValue }
    }

    /// Per sensor slot: the times of the last `chatterCount` raises (a ring) and since when it is chattering.
    var raises: [Int64] = []
    var chatteringUntil: [Int64] = []
    /// Per enterprise slot: raise times within the flood window (oldest first) and the flood flag.
    var floodTimes: [[Int64]] = []
    var flooding: [Bool] = []

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public enum Suppression: String, Sendable, Hashable {
        case chattering, flood
    }

    /// Notes a transition; returns why its record is suppressed (nil: it is not), and whether it counts in
    /// the alarm-behaviour score (a chattering point's raises count once per hold period).
    public mutating func note(_ t: AlarmTransition, severity: RiskLevel) -> (suppressed: Suppression?, counts: Bool) {
        let s = Int(t.sensor)
        let e = Int(t.enterprise)
        if s >= chatteringUntil.count {
            let n = Swift.max(s + 1, chatteringUntil.count * 2)
            raises.append(contentsOf: repeatElement(.min, count: n * chatterCount - raises.count))
            chatteringUntil.append(contentsOf: repeatElement(.min, count: n - chatteringUntil.count))
        }
        if e >= flooding.count {
            floodTimes.append(contentsOf: repeatElement([], count: e + 1 - flooding.count))
            flooding.append(contentsOf: repeatElement(false, count: e + 1 - flooding.count))
        }
        var counts = true
        if t.from == 0 {
            // Chattering: the oldest of the last `chatterCount` raises (this one included) is within the window.
            let base = s * chatterCount
            var oldest = t.time
            for k in 0..<(chatterCount - 1) { oldest = Swift.min(oldest, raises[base + k + 1]) }
            let wasChattering = t.time < chatteringUntil[s]
            for k in 0..<(chatterCount - 1) { raises[base + k] = raises[base + k + 1] }
            raises[base + chatterCount - 1] = t.time
            if oldest != .min && t.time - oldest <= chatterWindow {
                chatteringUntil[s] = t.time &+ chatterHold
            }
            if wasChattering { counts = false }
            // Flood: raises of the enterprise within the window.
            floodTimes[e].append(t.time)
            let since = t.time - floodWindow
            floodTimes[e].removeAll { $0 <= since }
            if floodTimes[e].count > floodStart { flooding[e] = true }
        } else if e < floodTimes.count {
            let since = t.time - floodWindow
            floodTimes[e].removeAll { $0 <= since }
        }
        if flooding[e] && floodTimes[e].count < floodEnd { flooding[e] = false }
        if t.time < chatteringUntil[s] { return (.chattering, counts) }
        if flooding[e] && severity < .orange { return (.flood, counts) }
        return (nil, counts)
    }

    public func write(to w: inout SnapshotWriter) {
        w.u64(UInt64(chatterCount))
        w.u64(UInt64(chatteringUntil.count))
        for x in raises { w.i64(x) }
        for x in chatteringUntil { w.i64(x) }
        w.u64(UInt64(flooding.count))
        for e in flooding.indices {
            w.bool(flooding[e])
            w.u64(UInt64(floodTimes[e].count))
            for t in floodTimes[e] { w.i64(t) }
        }
    }

    /// Restores the state of ``write(to:)`` into a filter with `settings`' thresholds.
    public init(settings: Settings = Settings(), reading r: inout SnapshotReader) throws(SnapshotError) {
        self.settings = settings
        guard try r.u64() == UInt64(chatterCount) else { throw SnapshotError("suppression state was taken with another chattering count") }
        let n = try r.count(minBytes: 8 * (chatterCount + 1))
        for _ in 0..<(n * chatterCount) { raises.append(try r.i64()) }
        for _ in 0..<n { chatteringUntil.append(try r.i64()) }
        let m = try r.count(minBytes: 9)
        for _ in 0..<m {
            flooding.append(try r.bool())
            let k = try r.count(minBytes: 8)
            var times: [Int64] = []
            for _ in 0..<k { times.append(try r.i64()) }
            floodTimes.append(times)
        }
    }
}
