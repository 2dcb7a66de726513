/// Per-sensor session windows: readings of one sensor closer than `gap` form one window.
///
/// A session spans `[first, last + gap)`. A reading joins every session it is within `gap` of
/// (`start - gap < t < last + gap`); when it is within `gap` of two sessions it bridges them and they merge
/// into one. Firing, purging, lateness and emit modes follow ``PaneWindowOperator``: a session fires when
/// the watermark reaches its end, is purged at end + allowed lateness, and a reading that neither joins an
/// unpurged session nor could start one that is still open to lateness is reported late.
///
/// State per session is one ``StatAccumulator``; sessions are found through a min-heap of per-sensor due
/// times, so firing costs O(log sensors) per session, not a scan of every sensor.
public final class SessionWindowOperator {
    public let spec: WindowSpec
    public internal(set) var watermark: Watermark
    public internal(set) var lateCount: Int64 = 0
    public internal(set) var rowsEmitted: Int64 = 0

    struct Session {
        var start: Int64
        var last: Int64
        var enterprise: UInt32
        var fired: Bool
        var lateWatermark: Int64
        var acc: StatAccumulator
    }

    let gap: Int64
    let lateness: Int64
    let inverseHalfLife: Double
    let earlyEvery: Int64?
    let isFinalMode: Bool
    var sessions: [[Session]] = []
    /// Min-heap of (due time, slot). Invariant: every slot with sessions has an entry no later than its
    /// earliest due time; entries that became stale are popped and re-checked harmlessly.
    var heap = _MinHeap()
    /// The smallest outstanding heap time known for each slot (`Int64.max` when none is known).
    var queuedTime: [Int64] = []
    var lastEarlyBucket: Int64 = .min
    public internal(set) var openSessions = 0

    public init(spec: WindowSpec, watermark: Watermark) {
        precondition(spec.problems().isEmpty, "SessionWindowOperator: invalid spec: \(spec.problems())")
        guard case .session(let gap) = spec.kind else {
            preconditionFailure("SessionWindowOperator handles session windows; use PaneWindowOperator")
        }
        self.spec = spec
        self.watermark = watermark
        self.gap = gap
        self.lateness = spec.allowedLateness
        self.inverseHalfLife = spec.statistics.needsEwma ? 1 / Double(spec.ewmaHalfLife) : 0
        if case .early(let every) = spec.emit { earlyEvery = every } else { earlyEvery = nil }
        if case .final = spec.emit { isFinalMode = true } else { isFinalMode = false }
    }

    /// Processes every reading of `batch` in order (see ``PaneWindowOperator/process(_:into:late:)``).
    public func process(_ batch: ReadingBatch, into output: inout WindowResults, late: inout LateRecords) {
        process(batch, watermarks: nil, into: &output, late: &late)
    }

    /// Processes every reading of `batch` in order, with the watermark at each reading given (`watermarks[k]`,
    /// the partition clock's) instead of observed from the event times.
    public func process(_ batch: ReadingBatch, watermarks: [Int64], into output: inout WindowResults, late: inout LateRecords) {
        precondition(watermarks.count == batch.count, "SessionWindowOperator: one watermark per reading")
        process(batch, watermarks: .some(watermarks), into: &output, late: &late)
    }

    private func process(_ batch: ReadingBatch, watermarks: [Int64]?, into output: inout WindowResults, late: inout LateRecords) {
        for i in 0..<batch.count {
            let t = batch.eventTime[i]
            let moved = if let watermarks { watermark.advance(to: watermarks[i]) } else { watermark.observe(eventTime: t) }
            if moved {
                if watermark.current >= (heap.peek?.time ?? .max) { fireDue(into: &output) }
                if earlyEvery != nil { emitEarlyIfDue(into: &output) }
            }
            if !insert(slot: batch.sensor[i], enterprise: batch.enterprise[i], time: t, value: batch.value[i]) {
                late.indices.append(Int32(truncatingIfNeeded: i))
                late.total += 1
                lateCount += 1
            }
        }
    }

    public func noteActivity(processingTime now: Int64) { watermark.noteActivity(processingTime: now) }

    public func advance(processingTime now: Int64, into output: inout WindowResults) {
        if watermark.advance(processingTime: now) {
            fireDue(into: &output)
            if earlyEvery != nil { emitEarlyIfDue(into: &output) }
        }
    }

    public func advance(toWatermark wm: Int64, into output: inout WindowResults) {
        if watermark.advance(to: wm) {
            fireDue(into: &output)
            if earlyEvery != nil { emitEarlyIfDue(into: &output) }
        }
    }

    public func finish(into output: inout WindowResults) {
        watermark.finish()
        fireDue(into: &output)
    }

    private func insert(slot: UInt32, enterprise: UInt32, time t: Int64, value x: Double) -> Bool {
        let s = Int(slot)
        if s >= sessions.count {
            sessions.append(contentsOf: repeatElement([], count: s + 1 - sessions.count))
            queuedTime.append(contentsOf: repeatElement(.max, count: s + 1 - queuedTime.count))
        }
        let wm = watermark.current
        var merged: Session? = nil
        var j = 0
        while j < sessions[s].count {
            let session = sessions[s][j]
            if t > session.start &- gap && t < session.last &+ gap {
                if var m = merged {
                    m.acc.merge(session.acc, ewmaInverseHalfLife: inverseHalfLife)
                    m.start = Swift.min(m.start, session.start)
                    m.last = Swift.max(m.last, session.last)
                    m.lateWatermark = Swift.max(m.lateWatermark, session.lateWatermark)
                    merged = m
                } else {
                    merged = session
                }
                sessions[s].remove(at: j)
                openSessions -= 1
            } else {
                j += 1
            }
        }
        var session: Session
        if let m = merged {
            session = m
        } else {
            if EventTime.saturatingAdd(EventTime.saturatingAdd(t, gap), lateness) <= wm { return false }
            session = Session(
                start: t, last: t, enterprise: enterprise, fired: false, lateWatermark: .min,
                acc: StatAccumulator(quantiles: spec.statistics.needsSketch, accuracy: spec.quantileAccuracy)
            )
        }
        session.acc.add(time: t, value: x, ewmaInverseHalfLife: inverseHalfLife)
        session.start = Swift.min(session.start, t)
        session.last = Swift.max(session.last, t)
        let end = EventTime.saturatingAdd(session.last, gap)
        if end <= wm {
            session.fired = true
            session.lateWatermark = Swift.max(session.lateWatermark, wm)
        } else {
            session.fired = false
        }
        if openSessions == 0, let every = earlyEvery, wm != .min { lastEarlyBucket = EventTime.floorDiv(wm, every) }
        sessions[s].append(session)
        openSessions += 1
        let due = session.fired ? EventTime.saturatingAdd(end, lateness) : end
        if due < queuedTime[s] {
            queuedTime[s] = due
            heap.push(time: due, slot: slot)
        }
        return true
    }

    /// The earliest time at which something happens to a session of `slot`.
    private func nextDue(slot s: Int) -> Int64? {
        var best: Int64? = nil
        for session in sessions[s] {
            let end = EventTime.saturatingAdd(session.last, gap)
            let due = session.fired ? EventTime.saturatingAdd(end, lateness) : end
            if best == nil || due < best! { best = due }
        }
        return best
    }

    private func fireDue(into output: inout WindowResults) {
        let wm = watermark.current
        while let top = heap.peek, top.time <= wm {
            heap.pop()
            let s = Int(top.slot)
            if top.time == queuedTime[s] { queuedTime[s] = .max }
            var j = 0
            while j < sessions[s].count {
                let end = EventTime.saturatingAdd(sessions[s][j].last, gap)
                if !sessions[s][j].fired && end <= wm {
                    sessions[s][j].fired = true
                    if !isFinalMode { emit(sessions[s][j], slot: top.slot, kind: .onTime, into: &output) }
                }
                if EventTime.saturatingAdd(end, lateness) <= wm {
                    let session = sessions[s][j]
                    if isFinalMode {
                        emit(session, slot: top.slot, kind: .final, into: &output)
                    } else if session.lateWatermark >= end {
                        emit(session, slot: top.slot, kind: .revision, into: &output)
                    }
                    sessions[s].remove(at: j)
                    openSessions -= 1
                } else {
                    j += 1
                }
            }
            if let due = nextDue(slot: s), due < queuedTime[s] {
                queuedTime[s] = due
                heap.push(time: due, slot: top.slot)
            }
        }
    }

    private func emitEarlyIfDue(into output: inout WindowResults) {
        guard let every = earlyEvery else { return }
        let wm = watermark.current
        guard wm != .max && wm != .min else { return }
        let bucket = EventTime.floorDiv(wm, every)
        guard bucket > lastEarlyBucket else { return }
        let first = lastEarlyBucket == .min
        lastEarlyBucket = bucket
        if first || openSessions == 0 { return }
        for s in sessions.indices {
            for session in sessions[s] where !session.fired {
                emit(session, slot: UInt32(s), kind: .early, into: &output)
            }
        }
    }

    private func emit(_ session: Session, slot: UInt32, kind: WindowRowKind, into output: inout WindowResults) {
        output.append(
            kind: kind, start: session.start, end: EventTime.saturatingAdd(session.last, gap), sensor: slot,
            enterprise: session.enterprise, session.acc, statistics: spec.statistics
        )
        rowsEmitted += 1
    }
}

@available(*, unavailable, message: "A window operator belongs to one partition task")
extension SessionWindowOperator: Sendable {}

/// A binary min-heap of (time, slot) pairs.
struct _MinHeap {
    var times: [Int64] = []
    var slots: [UInt32] = []

    var isEmpty: Bool { times.isEmpty }
    var count: Int { times.count }
    var peek: (time: Int64, slot: UInt32)? { times.isEmpty ? nil : (times[0], slots[0]) }

    mutating func push(time: Int64, slot: UInt32) {
        times.append(time)
        slots.append(slot)
        var i = times.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard times[i] < times[parent] else { break }
            times.swapAt(i, parent)
            slots.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() {
        guard !times.isEmpty else { return }
        let last = times.count - 1
        times.swapAt(0, last)
        slots.swapAt(0, last)
        times.removeLast()
        slots.removeLast()
        var i = 0
        let n = times.count
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < n && times[l] < times[m] { m = l }
            if r < n && times[r] < times[m] { m = r }
            if m == i { break }
            times.swapAt(i, m)
            slots.swapAt(i, m)
            i = m
        }
    }
}
