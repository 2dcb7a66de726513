/// The event-time watermark of one partition: "no more readings older than this are expected".
///
/// The watermark follows the largest event time seen minus a bounded out-of-orderness. When a partition
/// has been silent for ``idleTimeout`` of processing time, the watermark also moves forward with the
/// processing clock (``advance(processingTime:)``), so the last window of a stream that goes quiet is
/// still closed and emitted, and offline sensors are noticed.
///
/// ```
/// maxEventTime = 10:00:30.000, outOfOrderness = 5 s     → watermark 10:00:25.000
/// no record for idleTimeout = 30 s (processing time) …  → watermark grows with the wall clock
/// ```
public struct Watermark: Sendable, Hashable {
    /// How far behind the newest event time a reading may arrive and still count as on time, in ms.
    public let outOfOrderness: Int64
    /// Processing time without records after which the watermark follows the processing clock, in ms.
    /// `nil` disables idle advancement.
    public let idleTimeout: Int64?

    /// The largest event time observed, or `EventTime.minimum` before the first record.
    public private(set) var maxEventTime: Int64 = EventTime.minimum
    /// The current watermark.
    public private(set) var current: Int64 = EventTime.minimum
    /// Processing time of the last observed record (ms), or `nil` if none was seen.
    public private(set) var lastActivity: Int64? = nil

    /// Creates a watermark.
    ///
    /// - Parameters:
    ///   - outOfOrderness: Bounded out-of-orderness in ms (>= 0).
    ///   - idleTimeout: Idle timeout in ms (> 0), or `nil` to never advance without data.
    public init(outOfOrderness: Int64, idleTimeout: Int64? = nil) {
        precondition(outOfOrderness >= 0, "Watermark: outOfOrderness must be >= 0")
        precondition(idleTimeout.map { $0 > 0 } ?? true, "Watermark: idleTimeout must be > 0")
        self.outOfOrderness = outOfOrderness
        self.idleTimeout = idleTimeout
    }

    /// Observes the event time of one record; returns whether the watermark moved.
    @inline(__always)
    public mutating func observe(eventTime t: Int64) -> Bool {
        guard t > maxEventTime else { return false }
        maxEventTime = t
        let candidate = EventTime.saturatingSubtract(t, outOfOrderness)
        guard candidate > current else { return false }
        current = candidate
        return true
    }

    /// Notes that records arrived at processing time `now` (ms). Call once per batch.
    public mutating func noteActivity(processingTime now: Int64) {
        lastActivity = now
    }

    /// Moves the watermark with the processing clock if the partition has been idle for ``idleTimeout``.
    ///
    /// While idle, the watermark is `maxEventTime - outOfOrderness + (now - lastActivity)`: event time is
    /// assumed to progress with the wall clock since the last record. A partition that never received a
    /// record does not advance (there is no event time to extrapolate from).
    ///
    /// - Returns: Whether the watermark moved.
    public mutating func advance(processingTime now: Int64) -> Bool {
        guard let idleTimeout, let lastActivity, maxEventTime != EventTime.minimum else { return false }
        let idle = now - lastActivity
        guard idle >= idleTimeout else { return false }
        let candidate = EventTime.saturatingAdd(EventTime.saturatingSubtract(maxEventTime, outOfOrderness), idle)
        guard candidate > current else { return false }
        current = candidate
        return true
    }

    /// Moves the watermark forward to `wm` (a clock that extrapolates event time, such as a partition's idle
    /// advance); returns whether it moved.
    public mutating func advance(to wm: Int64) -> Bool {
        guard wm > current else { return false }
        current = wm
        return true
    }

    /// Moves the watermark to the end of time: a bounded input is complete.
    public mutating func finish() {
        current = EventTime.maximum
    }

    /// Sets the watermark directly (restoring from a snapshot, or tests).
    public mutating func restore(maxEventTime: Int64, current: Int64, lastActivity: Int64? = nil) {
        self.maxEventTime = maxEventTime
        self.current = current
        self.lastActivity = lastActivity
    }
}
