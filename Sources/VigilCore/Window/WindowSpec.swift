/// What a window operator computes: the window kind, lateness, emit mode and statistics.
///
/// All durations are in milliseconds of event time.
public struct WindowSpec: Sendable, Hashable {
    /// The shape of the windows.
    public enum Kind: Sendable, Hashable {
        /// Fixed, non-overlapping windows `[k·size, (k+1)·size)`.
        case tumbling(size: Int64)
        /// Overlapping windows `[k·slide, k·slide + size)`; each reading belongs to `size / slide` windows.
        case hopping(size: Int64, slide: Int64)
        /// Per-sensor sessions: readings closer than `gap` belong to one window `[first, last + gap)`;
        /// a reading that bridges two sessions merges them.
        case session(gap: Int64)
    }

    /// When rows are emitted.
    public enum EmitMode: Sendable, Hashable {
        /// Once when the watermark passes the window end; a `revision` row per sensor whose window later
        /// received readings within the allowed lateness, when the window is purged. The default.
        case onClose
        /// Like ``onClose``, plus `early` rows for every open window each time the watermark crosses a
        /// multiple of `every` ms.
        case early(every: Int64)
        /// Exactly once per window and sensor, when the window is purged (end + allowed lateness), with
        /// all late readings included. No early rows, no revisions.
        case final
    }

    public var kind: Kind
    /// How long after the window end (in watermark time) readings are still accepted. Default 0.
    public var allowedLateness: Int64
    public var emit: EmitMode
    public var statistics: StatisticSet
    /// Half-life of the time-decayed EWMA in ms; default a quarter of the window size (sessions: the gap).
    public var ewmaHalfLife: Int64
    /// Relative accuracy of the quantile sketch; default 0.01.
    public var quantileAccuracy: Double

    public init(
        kind: Kind,
        allowedLateness: Int64 = 0,
        emit: EmitMode = .onClose,
        statistics: StatisticSet = .basic,
        ewmaHalfLife: Int64? = nil,
        quantileAccuracy: Double = 0.01
    ) {
        self.kind = kind
        self.allowedLateness = allowedLateness
        self.emit = emit
        self.statistics = statistics.union(.count)
        self.quantileAccuracy = quantileAccuracy
        switch kind {
        case .tumbling(let size), .hopping(let size, _): self.ewmaHalfLife = ewmaHalfLife ?? Swift.max(1, size / 4)
        case .session(let gap): self.ewmaHalfLife = ewmaHalfLife ?? Swift.max(1, gap)
        }
    }

    /// Checks the spec; returns a list of human-readable problems (empty when valid).
    public func problems() -> [String] {
        func d(_ ms: Int64) -> String { EventTime.describe(duration: ms) }
        var out: [String] = []
        switch kind {
        case .tumbling(let size):
            if size <= 0 { out.append("window size must be > 0 (got \(d(size)))") }
        case .hopping(let size, let slide):
            if size <= 0 { out.append("window size must be > 0 (got \(d(size)))") }
            if slide <= 0 { out.append("window slide must be > 0 (got \(d(slide)))") }
            if size > 0 && slide > size { out.append("window slide (\(d(slide))) must not exceed the size (\(d(size)))") }
            if size > 0 && slide > 0 && size / gcd(size, slide) > 10_000 {
                out.append("window size / gcd(size, slide) must be <= 10000 panes (got \(size / gcd(size, slide)))")
            }
        case .session(let gap):
            if gap <= 0 { out.append("session gap must be > 0 (got \(d(gap)))") }
        }
        if allowedLateness < 0 { out.append("allowed lateness must be >= 0 (got \(d(allowedLateness)))") }
        if case .early(let every) = emit, every <= 0 { out.append("early emit interval must be > 0 (got \(d(every)))") }
        if ewmaHalfLife <= 0 { out.append("EWMA half-life must be > 0 (got \(d(ewmaHalfLife)))") }
        if !(quantileAccuracy > 0 && quantileAccuracy < 1) {
            out.append("quantile accuracy must be in (0, 1) (got \(quantileAccuracy))")
        }
        return out
    }
}

func gcd(_ a: Int64, _ b: Int64) -> Int64 {
    var a = a
    var b = b
    while b != 0 { (a, b) = (b, a % b) }
    return a
}

extension WindowSpec {
    /// The fingerprint a window operator's snapshot carries: a digest of ``writeIdentity(to:)``, or for
    /// snapshots of format 5 and older, of the spec's textual description.
    func snapshotFingerprint(version: UInt16 = SnapshotCodec.version) -> UInt32 {
        guard version >= 6 else { return SnapshotCodec.crc32(Array("\(self)".utf8)) }
        var w = SnapshotWriter()
        writeIdentity(to: &w)
        return SnapshotCodec.crc32(w.bytes)
    }

    /// Every field window state depends on, in a fixed order (the snapshot fingerprint).
    func writeIdentity(to w: inout SnapshotWriter) {
        switch kind {
        case .tumbling(let size):
            w.u8(0)
            w.i64(size)
        case .hopping(let size, let slide):
            w.u8(1)
            w.i64(size)
            w.i64(slide)
        case .session(let gap):
            w.u8(2)
            w.i64(gap)
        }
        w.i64(allowedLateness)
        switch emit {
        case .onClose: w.u8(0)
        case .early(let every):
            w.u8(1)
            w.i64(every)
        case .final: w.u8(2)
        }
        w.u16(statistics.rawValue)
        w.i64(ewmaHalfLife)
        w.f64(quantileAccuracy)
    }
}
