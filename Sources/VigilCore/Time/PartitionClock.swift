/// The event-time clock of one input partition, read by every stage of its pipeline.
///
/// The clock's time is the latest event time of the partition's readings. When the whole input has been silent
/// for ``idleTimeout`` of processing time, the time moves on with the processing clock
/// (``advanceIdle(processingTime:)``): the latest reading's event time plus the processing time since the last
/// batch. The watermark is the time minus the bounded ``outOfOrderness``.
///
/// ```
/// readings up to 10:00:30, outOfOrderness 5 s        → time 10:00:30, watermark 10:00:25
/// no batch for 40 s (idleTimeout 30 s)               → time 10:01:10, watermark 10:01:05
/// a reading at 10:00:50 arrives                      → time stays 10:01:10 (it does not move back)
/// ```
///
/// Stages that run their checks "every N of event time" (deadlines, offline scans, silent enterprises) each keep
/// a ``Ticker`` on this clock. Everything follows the input order, so a replay after a restart sees the same
/// times at the same readings.
public struct PartitionClock: Sendable, Hashable {
    /// How far behind the newest event time a reading may arrive and still count as on time, in ms.
    public let outOfOrderness: Int64
    /// Processing time without readings after which the time follows the processing clock, in ms (nil: never).
    public let idleTimeout: Int64?
    /// The largest event time of a reading (`.min` before the first).
    public private(set) var latestReading: Int64 = .min
    /// The partition's event time: ``latestReading``, or later once the input has been idle (`.min` before the
    /// first reading).
    public private(set) var time: Int64 = .min
    /// Processing time of the last batch with readings, or of the restart (nil before either).
    public private(set) var lastActivity: Int64? = nil

    public init(outOfOrderness: Int64, idleTimeout: Int64? = nil) {
        precondition(outOfOrderness >= 0, "PartitionClock: outOfOrderness must be >= 0")
        precondition(idleTimeout.map { $0 > 0 } ?? true, "PartitionClock: idleTimeout must be > 0")
        self.outOfOrderness = outOfOrderness
        self.idleTimeout = idleTimeout
    }

    /// The watermark at clock time `time`: no reading older than it is expected any more.
    @inline(__always)
    public func watermark(at time: Int64) -> Int64 { EventTime.saturatingSubtract(time, outOfOrderness) }

    /// The current watermark.
    public var watermark: Int64 { watermark(at: time) }

    /// Observes one reading's event time.
    @inline(__always)
    public mutating func observe(eventTime t: Int64) {
        if t > latestReading { latestReading = t }
        if t > time { time = t }
    }

    /// Observes a batch's readings, in order, arriving at processing time `now`; `times[k]` is the clock's time
    /// after reading `k` (what each stage reads at that reading).
    public mutating func observe(_ batch: ReadingBatch, processingTime now: Int64, times: inout [Int64]) {
        times.removeAll(keepingCapacity: true)
        times.reserveCapacity(batch.count)
        for t in batch.eventTime {
            observe(eventTime: t)
            times.append(time)
        }
        if !batch.isEmpty { lastActivity = now }
    }

    /// Moves the time with the processing clock once the input has been silent for ``idleTimeout``.
    ///
    /// - Returns: Whether the time moved.
    public mutating func advanceIdle(processingTime now: Int64) -> Bool {
        guard let idleTimeout, let lastActivity, latestReading != .min else { return false }
        let idle = now &- lastActivity
        guard idle >= idleTimeout else { return false }
        let t = EventTime.saturatingAdd(latestReading, idle)
        guard t > time else { return false }
        time = t
        return true
    }

    /// After a restart: the idle span counts from `now`, so a partition that stays silent is still noticed.
    public mutating func resume(processingTime now: Int64) { lastActivity = now }

    /// Sets the clock from a snapshot.
    public mutating func restore(latestReading: Int64, time: Int64) {
        self.latestReading = latestReading
        self.time = Swift.max(time, latestReading)
    }

    public func write(to w: inout SnapshotWriter) {
        w.i64(latestReading)
        w.i64(time)
    }

    public mutating func read(from r: inout SnapshotReader) throws(SnapshotError) {
        let latest = try r.i64()
        let t = try r.i64()
        guard t >= latest else { throw SnapshotError("partition clock is behind its latest reading (\(t) < \(latest))") }
        restore(latestReading: latest, time: t)
    }
}

/// A schedule "every `every` ms of event time", aligned to multiples of `every`: due when a clock reaches
/// ``next``, then scheduled for the multiple after the time it ran at.
public struct Ticker: Sendable, Hashable {
    public let every: Int64
    /// The time at or after which the schedule is due (`.min`: at the first time it sees).
    public var next: Int64 = .min

    public init(every: Int64) {
        precondition(every > 0, "Ticker: every must be > 0")
        self.every = every
    }

    @inline(__always)
    public func isDue(at time: Int64) -> Bool { time >= next }

    /// The latest tick at or before `time`.
    @inline(__always)
    public func tick(atOrBefore time: Int64) -> Int64 { Self.tick(atOrBefore: time, every: every) }

    /// Ran at `time`: due again at the next multiple of ``every`` after it.
    @inline(__always)
    public mutating func ran(at time: Int64) { next = Self.next(after: time, every: every) }

    @inline(__always)
    public static func tick(atOrBefore time: Int64, every: Int64) -> Int64 { EventTime.floorDiv(time, every) &* every }

    /// The first multiple of `every` after `time`.
    @inline(__always)
    public static func next(after time: Int64, every: Int64) -> Int64 { (EventTime.floorDiv(time, every) &+ 1) &* every }
}
