public import VigilCore

#if canImport(Glibc)
    import Glibc
#endif

/// The naive reference for every window kind: plain dictionaries and arrays of every reading, statistics
/// recomputed from scratch at each emission, watermark rules applied record by record.
///
/// It implements the semantics documented on ``PaneWindowOperator`` and ``SessionWindowOperator``
/// independently of them, so randomized tests can compare the two.
public final class ReferenceWindowEngine {
    public struct Reading: Sendable {
        public var time: Int64
        public var value: Double
        public init(time: Int64, value: Double) {
            self.time = time
            self.value = value
        }
    }

    struct Window {
        var start: Int64
        var end: Int64
        var readings: [UInt32: [Reading]] = [:]
        var enterprise: [UInt32: UInt32] = [:]
        var fired: Bool
        var lateWatermark: [UInt32: Int64] = [:]
    }

    struct WindowKey: Hashable {
        var start: Int64
        var end: Int64
        var slot: UInt32  // UInt32.max for pane windows (shared by all sensors)
    }

    let spec: WindowSpec
    let outOfOrderness: Int64
    public private(set) var watermark: Int64 = .min
    var maxTime: Int64 = .min
    var windows: [WindowKey: Window] = [:]
    var lastEarlyBucket: Int64 = .min
    public private(set) var rows: [WindowRow] = []
    public private(set) var lateIndices: [Int] = []
    var recordIndex = 0

    public init(spec: WindowSpec, outOfOrderness: Int64) {
        self.spec = spec
        self.outOfOrderness = outOfOrderness
    }

    var lateness: Int64 { spec.allowedLateness }
    var isFinal: Bool { if case .final = spec.emit { true } else { false } }

    public func process(time t: Int64, sensor: UInt32, enterprise: UInt32, value x: Double) {
        defer { recordIndex += 1 }
        if t > maxTime {
            maxTime = t
            let candidate = t - outOfOrderness
            if candidate > watermark { setWatermark(candidate) }
        }
        switch spec.kind {
        case .tumbling(let size): addToPanes(t, sensor, enterprise, x, size: size, slide: size)
        case .hopping(let size, let slide): addToPanes(t, sensor, enterprise, x, size: size, slide: slide)
        case .session(let gap): addToSession(t, sensor, enterprise, x, gap: gap)
        }
    }

    /// Watermark moved by idle advancement (the test passes the value the fast operator computed).
    public func advanceWatermark(to wm: Int64) {
        if wm > watermark { setWatermark(wm) }
    }

    public func finish() { setWatermark(.max) }

    func setWatermark(_ wm: Int64) {
        let previous = watermark
        watermark = wm
        runDue()
        if case .early(let every) = spec.emit, previous != .min, wm != .max {
            if floorDiv(wm, every) > floorDiv(previous, every) {
                for key in windows.keys.sorted(by: { ($0.end, $0.slot) < ($1.end, $1.slot) }) {
                    let w = windows[key]!
                    if !w.fired { emitAll(w, kind: .early) }
                }
            }
        }
    }

    func runDue() {
        let wm = watermark
        for key in windows.keys.sorted(by: { ($0.end, $0.slot) < ($1.end, $1.slot) }) {
            var w = windows[key]!
            if !w.fired && w.end <= wm {
                w.fired = true
                if !isFinal { emitAll(w, kind: .onTime) }
            }
            if sat(w.end, lateness) <= wm {
                if isFinal {
                    emitAll(w, kind: .final)
                } else {
                    for slot in w.readings.keys.sorted() where (w.lateWatermark[slot] ?? .min) >= w.end {
                        emit(w, slot: slot, kind: .revision)
                    }
                }
                windows[key] = nil
            } else {
                windows[key] = w
            }
        }
    }

    func addToPanes(_ t: Int64, _ sensor: UInt32, _ enterprise: UInt32, _ x: Double, size: Int64, slide: Int64) {
        let wm = watermark
        var accepted = false
        var start = floorDiv(t, slide) * slide
        while start > t - size {
            let end = start + size
            if sat(end, lateness) > wm {
                accepted = true
                let key = WindowKey(start: start, end: end, slot: .max)
                var w = windows[key] ?? Window(start: start, end: end, fired: end <= wm)
                w.readings[sensor, default: []].append(Reading(time: t, value: x))
                w.enterprise[sensor] = enterprise
                if w.fired { w.lateWatermark[sensor] = max(w.lateWatermark[sensor] ?? .min, wm) }
                windows[key] = w
            }
            start -= slide
        }
        if !accepted { lateIndices.append(recordIndex) }
    }

    func addToSession(_ t: Int64, _ sensor: UInt32, _ enterprise: UInt32, _ x: Double, gap: Int64) {
        let wm = watermark
        let mine = windows.filter { $0.key.slot == sensor }
        var merged: Window? = nil
        for (key, w) in mine {
            let last = w.end - gap
            if t > w.start - gap && t < last + gap {
                windows[key] = nil
                if var m = merged {
                    for (_, r) in w.readings { m.readings[sensor, default: []].append(contentsOf: r) }
                    m.start = min(m.start, w.start)
                    m.end = max(m.end, w.end)
                    m.lateWatermark[sensor] = max(m.lateWatermark[sensor] ?? .min, w.lateWatermark[sensor] ?? .min)
                    merged = m
                } else {
                    merged = w
                }
            }
        }
        var w: Window
        if let m = merged {
            w = m
        } else {
            if sat(sat(t, gap), lateness) <= wm {
                lateIndices.append(recordIndex)
                return
            }
            w = Window(start: t, end: t + gap, fired: false)
        }
        w.readings[sensor, default: []].append(Reading(time: t, value: x))
        w.enterprise[sensor] = enterprise
        w.start = min(w.start, t)
        w.end = max(w.end, t + gap)
        if w.end <= wm {
            w.fired = true
            w.lateWatermark[sensor] = max(w.lateWatermark[sensor] ?? .min, wm)
        } else {
            w.fired = false
        }
        windows[WindowKey(start: w.start, end: w.end, slot: sensor)] = w
    }

    func emitAll(_ w: Window, kind: WindowRowKind) {
        for slot in w.readings.keys.sorted() { emit(w, slot: slot, kind: kind) }
    }

    func emit(_ w: Window, slot: UInt32, kind: WindowRowKind) {
        let readings = w.readings[slot]!
        rows.append(
            Self.row(
                kind: kind, start: w.start, end: w.end, sensor: slot, enterprise: w.enterprise[slot]!, readings,
                spec: spec
            )
        )
    }

    /// Statistics of `readings` (in arrival order) computed from scratch.
    public static func row(
        kind: WindowRowKind, start: Int64, end: Int64, sensor: UInt32, enterprise: UInt32, _ readings: [Reading],
        spec: WindowSpec
    ) -> WindowRow {
        let values = readings.map(\.value)
        let n = Double(values.count)
        // Mean by a compensated (Kahan–Babuška) sum; variance by the two-pass formula.
        let sum = compensatedSum(values)
        var mean = sum / n
        if !mean.isFinite { mean = compensatedSum(values.map { $0 / n }) }
        let variance = compensatedSum(values.map { ($0 - mean) * ($0 - mean) }) / n
        var first = readings[0]
        var last = readings[0]
        for r in readings {
            if r.time < first.time { first = r }
            if r.time >= last.time { last = r }
        }
        let reference = last.time
        var num = 0.0
        var den = 0.0
        for r in readings {
            let w = exp2(Double(r.time - reference) / Double(spec.ewmaHalfLife))
            num += w * r.value
            den += w
        }
        let sorted = values.sorted()
        func q(_ p: Double) -> Double { sorted[Int((p * (n - 1)).rounded(.down))] }
        return WindowRow(
            kind: kind, windowStart: start, windowEnd: end, sensor: sensor, enterprise: enterprise,
            count: Int64(values.count), sum: sum, mean: mean, variance: variance, min: sorted.first!,
            max: sorted.last!, firstTime: first.time, first: first.value, lastTime: last.time, last: last.value,
            ewma: num / den, p50: q(0.5), p95: q(0.95), p99: q(0.99)
        )
    }

    public static func compensatedSum(_ xs: [Double]) -> Double {
        let plain = xs.reduce(0, +)
        if !plain.isFinite { return plain }
        var s = 0.0
        var c = 0.0
        for x in xs {
            let t = s + x
            if abs(s) >= abs(x) { c += (s - t) + x } else { c += (x - t) + s }
            s = t
        }
        return s + c
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { EventTime.floorDiv(a, b) }
@inline(__always) func sat(_ a: Int64, _ b: Int64) -> Int64 { EventTime.saturatingAdd(a, b) }

@available(*, unavailable)
extension ReferenceWindowEngine: Sendable {}
