/// Tumbling and hopping windows over a partition's readings, with per-sensor statistics.
///
/// Time is cut into *panes* of `gcd(size, slide)` ms. Each reading updates exactly one pane (one
/// struct-of-arrays column set indexed by sensor slot); a hopping window is the merge of its
/// `size / paneSize` panes when it is emitted (Welford moments, min/max, first/last, EWMA and sketches are
/// all mergeable). Panes live in a ring sized for out-of-orderness + lateness + window size, so memory is
/// bounded by `live panes × sensors touched` and nothing is allocated per reading once the columns have
/// grown to the key space.
///
/// Semantics (all in event time; `wm` is the partition ``Watermark``):
/// - A window `[start, end)` fires when `wm >= end`: one `onTime` row per sensor with readings in it
///   (``WindowSpec/EmitMode/final``: nothing yet).
/// - It is purged when `wm >= end + allowedLateness`; readings for it arriving after it fired but before
///   the purge are added, and at the purge each affected sensor gets one `revision` row
///   (``WindowSpec/EmitMode/final``: every sensor gets its single `final` row here).
/// - A reading all of whose windows are purged is *late*: it is reported in ``LateRecords`` and counted.
/// - ``WindowSpec/EmitMode/early(every:)`` also emits `early` rows for every open window each time `wm`
///   crosses a multiple of `every`.
/// - ``finish(into:)`` moves the watermark to the end of time, emitting everything that is left.
public final class PaneWindowOperator {
    public let spec: WindowSpec
    /// The partition's watermark.
    public internal(set) var watermark: Watermark
    /// Readings reported late since creation.
    public internal(set) var lateCount: Int64 = 0
    /// Rows emitted since creation.
    public internal(set) var rowsEmitted: Int64 = 0

    let size: Int64
    let slide: Int64
    let paneSize: Int64
    let lateness: Int64
    let inverseHalfLife: Double
    let earlyEvery: Int64?
    let isFinalMode: Bool

    var ring: [_PaneColumns]
    var liveCount = 0
    /// Smallest slot capacity new panes start with (the key space seen so far).
    var slotCapacityHint: Int

    /// All windows with an end below this have fired; always on the grid of window ends.
    var nextFireEnd: Int64 = .min
    /// All windows with an end below this have been purged.
    var nextPurgeEnd: Int64 = .min
    /// The watermark at which `fireDue` has something to do.
    var nextEventAt: Int64 = .max

    // Cache of the pane the previous reading went to.
    var curStart: Int64 = 1
    var curEnd: Int64 = 0
    var curPane: _PaneColumns? = nil
    var curHandle: _PaneHandle? = nil
    var curIsLate = false

    // Scratch for merging hopping windows: stamp per slot.
    var stamp: [UInt32] = []
    var stampValue: UInt32 = 0
    var scratch: StatAccumulator

    /// Creates an operator.
    ///
    /// - Parameters:
    ///   - spec: A tumbling or hopping ``WindowSpec`` whose ``WindowSpec/problems()`` is empty.
    ///   - watermark: The partition watermark (out-of-orderness, idle timeout).
    ///   - expectedSensors: Initial slot capacity of each pane (grows on demand).
    public init(spec: WindowSpec, watermark: Watermark, expectedSensors: Int = 1024) {
        precondition(spec.problems().isEmpty, "PaneWindowOperator: invalid spec: \(spec.problems())")
        let size: Int64
        let slide: Int64
        switch spec.kind {
        case .tumbling(let s):
            size = s
            slide = s
        case .hopping(let s, let sl):
            size = s
            slide = sl
        case .session:
            preconditionFailure("PaneWindowOperator handles tumbling and hopping windows; use SessionWindowOperator")
        }
        self.spec = spec
        self.watermark = watermark
        self.size = size
        self.slide = slide
        self.paneSize = gcd(size, slide)
        self.lateness = spec.allowedLateness
        self.inverseHalfLife = spec.statistics.needsEwma ? 1 / Double(spec.ewmaHalfLife) : 0
        if case .early(let every) = spec.emit { earlyEvery = every } else { earlyEvery = nil }
        if case .final = spec.emit { isFinalMode = true } else { isFinalMode = false }
        self.slotCapacityHint = Swift.max(16, expectedSensors)
        let span = Double(watermark.outOfOrderness) + Double(spec.allowedLateness) + Double(size) + Double(slide)
        let panes = Int(Swift.min(span / Double(paneSize), Double(1 << 20))) + 3
        self.ring = []
        self.scratch = StatAccumulator(quantiles: spec.statistics.needsSketch, accuracy: spec.quantileAccuracy)
        self.ring = (0..<panes).map { _ in makePane(capacity: 0) }
    }

    private func makePane(capacity: Int) -> _PaneColumns {
        _PaneColumns(statistics: spec.statistics, accuracy: spec.quantileAccuracy, capacity: capacity)
    }

    /// Approximate bytes of window state held (live panes × their slot capacity).
    public var stateBytes: Int {
        let perSlot = 8 * 16
        return ring.reduce(0) { $0 + $1.capacity * perSlot }
    }

    /// Number of panes currently holding data.
    public var livePanes: Int { liveCount }

    // MARK: - Processing

    /// Processes every reading of `batch` in order, appending emitted rows to `output` and the indices
    /// of late readings to `late`.
    ///
    /// - Complexity: O(batch) plus O(rows emitted); no allocation per reading in steady state.
    public func process(_ batch: ReadingBatch, into output: inout WindowResults, late: inout LateRecords) {
        let n = batch.count
        guard n > 0 else { return }
        batch.eventTime.withUnsafeBufferPointer { ts in
            batch.sensor.withUnsafeBufferPointer { sensor in
                batch.enterprise.withUnsafeBufferPointer { ent in
                    batch.value.withUnsafeBufferPointer { val in
                        processColumns(
                            count: n, ts: ts.baseAddress!, sensor: sensor.baseAddress!, enterprise: ent.baseAddress!,
                            value: val.baseAddress!, watermarks: nil, output: &output, late: &late
                        )
                    }
                }
            }
        }
    }

    /// Processes every reading of `batch` in order like ``process(_:into:late:)``, with the watermark at each
    /// reading given (`watermarks[k]`, the partition clock's) instead of observed from the event times.
    public func process(_ batch: ReadingBatch, watermarks: [Int64], into output: inout WindowResults, late: inout LateRecords) {
        let n = batch.count
        guard n > 0 else { return }
        precondition(watermarks.count == n, "PaneWindowOperator: one watermark per reading")
        batch.eventTime.withUnsafeBufferPointer { ts in
            batch.sensor.withUnsafeBufferPointer { sensor in
                batch.enterprise.withUnsafeBufferPointer { ent in
                    batch.value.withUnsafeBufferPointer { val in
                        watermarks.withUnsafeBufferPointer { wms in
                            processColumns(
                                count: n, ts: ts.baseAddress!, sensor: sensor.baseAddress!, enterprise: ent.baseAddress!,
                                value: val.baseAddress!, watermarks: wms.baseAddress!, output: &output, late: &late
                            )
                        }
                    }
                }
            }
        }
    }

    func processColumns(
        count n: Int, ts: UnsafePointer<Int64>, sensor: UnsafePointer<UInt32>, enterprise: UnsafePointer<UInt32>,
        value: UnsafePointer<Double>, watermarks: UnsafePointer<Int64>?, output: inout WindowResults, late: inout LateRecords
    ) {
        var wmMax = watermark.maxEventTime
        var wmCurrent = watermark.current
        var curStart = self.curStart
        var curEnd = self.curEnd
        var handle = self.curHandle
        var pane = self.curPane
        var capacity = pane?.capacity ?? 0
        var touchedCount = pane?.touchedCount ?? 0
        var isLate = self.curIsLate
        let ihl = inverseHalfLife

        @inline(__always) func flushCache() {
            if let pane { pane.touchedCount = touchedCount }
        }

        var i = 0
        while i < n {
            let t = ts[i]
            var fire = false
            if let watermarks {
                let wm = watermarks[i]
                if wm > wmCurrent {
                    wmCurrent = wm
                    _ = watermark.advance(to: wm)
                    fire = wm >= nextEventAt
                }
            } else if t > wmMax {
                wmMax = t
                fire = watermark.observe(eventTime: t) && watermark.current >= nextEventAt
            }
            if fire {
                flushCache()
                fireDue(into: &output)
                // Firing may free or reuse panes: forget the cached one (its count was flushed above).
                pane = nil
                handle = nil
                curStart = 1
                curEnd = 0
            }
            if !(t >= curStart && t < curEnd) {
                flushCache()
                guard let selected = selectPane(for: t) else {
                    late.indices.append(Int32(truncatingIfNeeded: i))
                    late.total += 1
                    lateCount += 1
                    pane = nil
                    handle = nil
                    curStart = 1
                    curEnd = 0
                    i += 1
                    continue
                }
                pane = selected
                handle = selected.handle
                capacity = selected.capacity
                touchedCount = selected.touchedCount
                curStart = selected.paneIndex &* paneSize
                curEnd = curStart &+ paneSize
                isLate = firstEnd(ofPaneStart: curStart) <= watermark.current
            }
            let slot = Int(sensor[i])
            if slot >= capacity {
                let p = pane!
                p.touchedCount = touchedCount
                grow(p, toInclude: slot)
                handle = p.handle
                capacity = p.capacity
            }
            touchedCount &+= handle.unsafelyUnwrapped.add(
                slot: slot, enterprise: enterprise[i], time: t, value: value[i], touchedCount: touchedCount,
                ewmaInverseHalfLife: ihl
            )
            if isLate { pane.unsafelyUnwrapped.markLate(slot: UInt32(slot), watermark: watermark.current) }
            i += 1
        }
        flushCache()
        self.curStart = curStart
        self.curEnd = curEnd
        self.curHandle = handle
        self.curPane = pane
        self.curIsLate = isLate
    }

    private func grow(_ pane: _PaneColumns, toInclude slot: Int) {
        let newCapacity = Swift.max(slot + 1, pane.capacity * 2, slotCapacityHint)
        pane.grow(to: newCapacity)
        slotCapacityHint = Swift.max(slotCapacityHint, newCapacity)
    }

    /// Advances the watermark with the processing clock (idle partitions); emits what closes.
    ///
    /// - Parameter now: Processing time in ms since the epoch.
    public func advance(processingTime now: Int64, into output: inout WindowResults) {
        if watermark.advance(processingTime: now) && watermark.current >= nextEventAt {
            invalidateCache()
            fireDue(into: &output)
        }
    }

    /// Advances the watermark to `wm` (the partition clock's, when the partition pipeline drives the idle
    /// advance); emits what closes.
    public func advance(toWatermark wm: Int64, into output: inout WindowResults) {
        if watermark.advance(to: wm) && watermark.current >= nextEventAt {
            invalidateCache()
            fireDue(into: &output)
        }
    }

    /// Records that a batch arrived at processing time `now` (for idle detection).
    public func noteActivity(processingTime now: Int64) {
        watermark.noteActivity(processingTime: now)
    }

    /// Ends the input: the watermark moves to the end of time and every remaining window is emitted.
    public func finish(into output: inout WindowResults) {
        watermark.finish()
        invalidateCache()
        fireDue(into: &output)
    }

    private func invalidateCache() {
        curStart = 1
        curEnd = 0
        curPane = nil
        curHandle = nil
    }

    // MARK: - Panes and window geometry

    @inline(__always)
    func firstEnd(ofPaneStart start: Int64) -> Int64 {
        EventTime.alignUp(start &- size &+ 1, slide) &+ size
    }

    @inline(__always)
    func lastEnd(ofPaneStart start: Int64) -> Int64 {
        EventTime.alignDown(start, slide) &+ size
    }

    @inline(__always)
    func ringIndex(_ pane: Int64) -> Int {
        let c = Int64(ring.count)
        let r = pane % c
        return Int(r < 0 ? r + c : r)
    }

    /// The live pane for time `t`, creating it if needed; `nil` if every window of `t` is purged.
    private func selectPane(for t: Int64) -> _PaneColumns? {
        let p = EventTime.floorDiv(t, paneSize)
        let start = p &* paneSize
        let wm = watermark.current
        if EventTime.saturatingAdd(lastEnd(ofPaneStart: start), lateness) <= wm { return nil }
        var pane = ring[ringIndex(p)]
        if pane.isLive && pane.paneIndex != p {
            growRing()
            pane = ring[ringIndex(p)]
        }
        if !pane.isLive {
            if liveCount == 0, earlyEvery != nil, wm != .min { lastEarlyBucket = EventTime.floorDiv(wm, earlyEvery!) }
            // Every event due at `wm` has been processed, so windows ending at or before `wm` count as fired
            // (and those ending at or before `wm - lateness` as purged) even if they held no data then.
            nextFireEnd = Swift.max(nextFireEnd, firstWindowEnd(after: wm))
            nextPurgeEnd = Swift.max(nextPurgeEnd, firstWindowEnd(after: EventTime.saturatingSubtract(wm, lateness)))
            pane.isLive = true
            pane.paneIndex = p
            liveCount += 1
            if pane.capacity < slotCapacityHint { pane.grow(to: slotCapacityHint) }
            let fe = firstEnd(ofPaneStart: start)
            let fireAt = Swift.max(fe, nextFireEnd)
            let purgeAt = EventTime.saturatingAdd(Swift.max(fe, nextPurgeEnd), lateness)
            nextEventAt = Swift.min(nextEventAt, fireAt, purgeAt)
            if let every = earlyEvery {
                nextEventAt = Swift.min(nextEventAt, EventTime.saturatingAdd(EventTime.alignDown(wm, every), every))
            }
        }
        return pane
    }

    /// Doubles the ring (only if panes outlive the span it was sized for, which bounded out-of-orderness
    /// prevents; kept so that no input can corrupt state).
    private func growRing() {
        let old = ring
        ring = (0..<(old.count * 2)).map { _ in makePane(capacity: 0) }
        for pane in old where pane.isLive { ring[ringIndex(pane.paneIndex)] = pane }
    }

    /// The smallest window end `>= end` (on the grid) whose window contains a live pane.
    private func nextWindowEndWithData(atOrAfter end: Int64) -> Int64? {
        var best: Int64? = nil
        for pane in ring where pane.isLive {
            let start = pane.paneIndex &* paneSize
            let last = lastEnd(ofPaneStart: start)
            guard last >= end else { continue }
            let candidate = Swift.max(firstEnd(ofPaneStart: start), end)
            if best == nil || candidate < best! { best = candidate }
        }
        return best
    }

    // MARK: - Firing

    /// Fires and purges every window due at the current watermark, in event-time order.

    func fireDue(into output: inout WindowResults) {
        let wm = watermark.current
        while true {
            let fe = nextWindowEndWithData(atOrAfter: nextFireEnd)
            let pe = nextWindowEndWithData(atOrAfter: nextPurgeEnd)
            let purgeAt = pe.map { EventTime.saturatingAdd($0, lateness) }
            if let fe, fe <= wm, purgeAt == nil || fe <= purgeAt! {
                if !isFinalMode { emit(windowEnd: fe, kind: .onTime, into: &output) }
                nextFireEnd = fe &+ slide
            } else if let pe, let purgeAt, purgeAt <= wm {
                emit(windowEnd: pe, kind: isFinalMode ? .final : .revision, into: &output)
                nextPurgeEnd = pe &+ slide
                if nextFireEnd < nextPurgeEnd { nextFireEnd = nextPurgeEnd }
                for pane in ring where pane.isLive && lastEnd(ofPaneStart: pane.paneIndex &* paneSize) <= pe {
                    pane.reset()
                    liveCount -= 1
                }
            } else {
                break
            }
        }
        if earlyEvery != nil && liveCount > 0 { emitEarly(into: &output) }
        // Next time something is due.
        var next = Int64.max
        if let fe = nextWindowEndWithData(atOrAfter: nextFireEnd) { next = fe }
        if let pe = nextWindowEndWithData(atOrAfter: nextPurgeEnd) {
            next = Swift.min(next, EventTime.saturatingAdd(pe, lateness))
        }
        if let every = earlyEvery, liveCount > 0, wm != .max {
            next = Swift.min(next, EventTime.saturatingAdd(EventTime.alignDown(wm, every), every))
        }
        nextEventAt = next
        invalidateCache()
    }

    /// The smallest window end on the grid (`k·slide + size`) that is strictly greater than `t`.
    func firstWindowEnd(after t: Int64) -> Int64 {
        guard t != .max else { return .max }
        guard t > .min / 2 else { return .min }
        return EventTime.alignDown(t &- size, slide) &+ slide &+ size
    }

    /// Early rows for every window that has data and has not fired, if the watermark crossed a multiple
    /// of the early interval since the last call.
    var lastEarlyBucket: Int64 = .min

    private func emitEarly(into output: inout WindowResults) {
        guard let every = earlyEvery else { return }
        let wm = watermark.current
        guard wm != .max else { return }
        let bucket = EventTime.floorDiv(wm, every)
        guard bucket > lastEarlyBucket else { return }
        let first = lastEarlyBucket == .min
        lastEarlyBucket = bucket
        if first { return }
        var end = nextFireEnd
        while let e = nextWindowEndWithData(atOrAfter: end) {
            if e > wm { emit(windowEnd: e, kind: .early, into: &output) }
            end = e &+ slide
        }
    }

    /// Live panes of the window ending at `end`, oldest first.
    private func panes(ofWindowEnd end: Int64) -> [_PaneColumns] {
        let start = end &- size
        var result: [_PaneColumns] = []
        var p = EventTime.floorDiv(start, paneSize)
        let last = EventTime.floorDiv(end &- 1, paneSize)
        while p <= last {
            let pane = ring[ringIndex(p)]
            if pane.isLive && pane.paneIndex == p { result.append(pane) }
            p += 1
        }
        return result
    }

    private func emit(windowEnd end: Int64, kind: WindowRowKind, into output: inout WindowResults) {
        let start = end &- size
        let stats = spec.statistics
        if size == paneSize {
            // Tumbling: the window is one pane, rows come straight from its columns.
            let pane = ring[ringIndex(EventTime.floorDiv(start, paneSize))]
            guard pane.isLive && pane.paneIndex == EventTime.floorDiv(start, paneSize) else { return }
            if kind == .revision {
                for slot in pane.lateSlots where pane.lateWatermark[Int(slot)] >= end {
                    appendRow(kind, start, end, slot, pane.enterprise[Int(slot)], pane.accumulator(slot: slot), stats, &output)
                }
            } else {
                for i in 0..<pane.touchedCount {
                    let slot = pane.touched[i]
                    appendRow(kind, start, end, slot, pane.enterprise[Int(slot)], pane.accumulator(slot: slot), stats, &output)
                }
            }
            return
        }
        // Hopping: merge the window's panes per slot.
        let panes = panes(ofWindowEnd: end)
        guard !panes.isEmpty else { return }
        let maxCapacity = panes.reduce(0) { Swift.max($0, $1.capacity) }
        if stamp.count < maxCapacity { stamp.append(contentsOf: repeatElement(0, count: maxCapacity - stamp.count)) }
        stampValue &+= 1
        if stampValue == 0 {
            for i in stamp.indices { stamp[i] = 0 }
            stampValue = 1
        }
        for pane in panes {
            let candidates: [UInt32]
            if kind == .revision {
                candidates = pane.lateSlots.filter { pane.lateWatermark[Int($0)] >= end }
            } else {
                candidates = (0..<pane.touchedCount).map { pane.touched[$0] }
            }
            for slot in candidates where stamp[Int(slot)] != stampValue {
                stamp[Int(slot)] = stampValue
                resetScratch()
                var enterprise: UInt32 = 0
                for q in panes where Int(slot) < q.capacity && q.count[Int(slot)] > 0 {
                    q.merge(slot: slot, into: &scratch, ewmaInverseHalfLife: inverseHalfLife)
                    enterprise = q.enterprise[Int(slot)]
                }
                appendRow(kind, start, end, slot, enterprise, scratch, stats, &output)
            }
        }
    }

    private func resetScratch() {
        let sketch = scratch.sketch
        scratch = StatAccumulator()
        if var sketch {
            sketch.reset()
            scratch.sketch = sketch
        }
    }

    @inline(__always)
    private func appendRow(
        _ kind: WindowRowKind, _ start: Int64, _ end: Int64, _ slot: UInt32, _ enterprise: UInt32,
        _ acc: StatAccumulator, _ stats: StatisticSet, _ output: inout WindowResults
    ) {
        output.append(kind: kind, start: start, end: end, sensor: slot, enterprise: enterprise, acc, statistics: stats)
        rowsEmitted += 1
    }
}

@available(*, unavailable, message: "A window operator belongs to one partition task")
extension PaneWindowOperator: Sendable {}
