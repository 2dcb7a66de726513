/// An enterprise's offline episodes over a rolling window, for the `DOMAIN.md` §5 KPI: offline hours and
/// offline count per month (reported by provinces, and an input of the monitoring-compliance credit factor,
/// §7.2).
///
/// Fed with its points' OFFLINE and back-online events in event time; an episode counts in the window while
/// any part of it lies within `window` before now. Episodes that ended before the window are forgotten when
/// the KPI is read.
public struct OfflineLog: Sendable, Hashable {
    /// The rolling window, ms (default 30 days).
    public let window: Int64

    struct Episode: Sendable, Hashable {
        var sensor: UInt32
        var start: Int64
        /// `.max` while the point is still offline.
        var end: Int64
    }
    var episodes: [Episode] = []

    public init(window: Int64 = 30 * 86_400_000) {
        precondition(window > 0, "OfflineLog: window must be > 0")
        self.window = window
    }

    /// `sensor` went offline at `t` (a second offline event for a point already offline is ignored).
    public mutating func noteOffline(sensor: UInt32, at t: Int64) {
        guard !episodes.contains(where: { $0.sensor == sensor && $0.end == .max }) else { return }
        episodes.append(Episode(sensor: sensor, start: t, end: .max))
    }

    /// `sensor` reported again at `t`.
    public mutating func noteOnline(sensor: UInt32, at t: Int64) {
        guard let i = episodes.lastIndex(where: { $0.sensor == sensor && $0.end == .max }) else { return }
        episodes[i].end = max(t, episodes[i].start)
    }

    /// The KPI at `now`: the offline time of all points within the window, in point-hours, and the episodes
    /// that started within it.
    public mutating func kpi(at now: Int64) -> (pointHours: Double, episodes: Int) {
        let since = now &- window
        episodes.removeAll { $0.end < since }
        var ms: Int64 = 0
        var started = 0
        for e in episodes {
            ms &+= max(0, min(e.end, now) &- max(e.start, since))
            if e.start >= since && e.start <= now { started += 1 }
        }
        return (Double(ms) / 3_600_000, started)
    }

    public func write(to w: inout SnapshotWriter) {
        w.u64(UInt64(episodes.count))
        for e in episodes {
            w.u32(e.sensor)
            w.i64(e.start)
            w.i64(e.end)
        }
    }

    public init(window: Int64, reading r: inout SnapshotReader) throws(SnapshotError) {
        self.init(window: window)
        let n = try r.count(minBytes: 20)
        episodes.reserveCapacity(n)
        for _ in 0..<n { episodes.append(Episode(sensor: try r.u32(), start: try r.i64(), end: try r.i64())) }
    }
}
