#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The statistics of one pane (a time slice of a window) for every sensor slot, as struct-of-arrays
/// columns over manually allocated memory.
///
/// This is one of the few types in VigilCore that touch raw pointers. Columns for statistic groups the
/// window does not need are allocated empty and never read. A slot's entries are valid only while
/// `count[slot] > 0`: they are initialised on the slot's first reading (which also records the slot in
/// `touched`), so resetting a pane costs O(touched slots), not O(capacity).

final class _PaneColumns {
    let statistics: StatisticSet
    let accuracy: Double
    private(set) var capacity: Int = 0

    var count: UnsafeMutablePointer<Int64>
    var mean: UnsafeMutablePointer<Double>
    var m2: UnsafeMutablePointer<Double>
    var minV: UnsafeMutablePointer<Double>
    var maxV: UnsafeMutablePointer<Double>
    var firstT: UnsafeMutablePointer<Int64>
    var firstV: UnsafeMutablePointer<Double>
    var lastT: UnsafeMutablePointer<Int64>
    var lastV: UnsafeMutablePointer<Double>
    var ewmaNum: UnsafeMutablePointer<Double>
    var ewmaDen: UnsafeMutablePointer<Double>
    var ewmaRef: UnsafeMutablePointer<Int64>
    var sketches: UnsafeMutablePointer<QuantileSketch>
    var enterprise: UnsafeMutablePointer<UInt32>
    /// Slots with `count > 0`, in first-touch order; `touchedCount` of them are valid.
    var touched: UnsafeMutablePointer<UInt32>
    var touchedCount: Int = 0
    /// Per slot: the largest watermark at which a reading arrived after a window of this pane had fired
    /// (`Int64.min` when none did). Drives revision rows.
    var lateWatermark: UnsafeMutablePointer<Int64>
    var lateSlots: [UInt32] = []

    /// The pane index (`floor(start / paneSize)`) this storage currently holds, when `isLive`.
    var paneIndex: Int64 = .min
    var isLive = false

    init(statistics: StatisticSet, accuracy: Double, capacity: Int) {
        self.statistics = statistics
        self.accuracy = accuracy
        count = .allocate(capacity: 0)
        mean = .allocate(capacity: 0)
        m2 = .allocate(capacity: 0)
        minV = .allocate(capacity: 0)
        maxV = .allocate(capacity: 0)
        firstT = .allocate(capacity: 0)
        firstV = .allocate(capacity: 0)
        lastT = .allocate(capacity: 0)
        lastV = .allocate(capacity: 0)
        ewmaNum = .allocate(capacity: 0)
        ewmaDen = .allocate(capacity: 0)
        ewmaRef = .allocate(capacity: 0)
        sketches = .allocate(capacity: 0)
        enterprise = .allocate(capacity: 0)
        touched = .allocate(capacity: 0)
        lateWatermark = .allocate(capacity: 0)
        grow(to: capacity)
    }

    deinit {
        sketches.deinitialize(count: statistics.needsSketch ? capacity : 0)
        for p in [mean, m2, minV, maxV, firstV, lastV, ewmaNum, ewmaDen] { p.deallocate() }
        for p in [count, firstT, lastT, ewmaRef, lateWatermark] { p.deallocate() }
        sketches.deallocate()
        enterprise.deallocate()
        touched.deallocate()
    }

    /// Grows every column to hold at least `newCapacity` slots, keeping contents.

    func grow(to newCapacity: Int) {
        guard newCapacity > capacity else { return }
        let old = capacity
        let s = statistics
        func move<T>(_ p: inout UnsafeMutablePointer<T>, _ enabled: Bool, fill: T? = nil) {
            guard enabled else { return }
            let fresh = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
            fresh.moveInitialize(from: p, count: old)
            if let fill { (fresh + old).initialize(repeating: fill, count: newCapacity - old) }
            p.deallocate()
            p = fresh
        }
        move(&count, true, fill: 0)
        move(&mean, s.needsMoments)
        move(&m2, s.needsMoments)
        move(&minV, s.needsMinMax)
        move(&maxV, s.needsMinMax)
        move(&firstT, s.needsFirstLast)
        move(&firstV, s.needsFirstLast)
        move(&lastT, s.needsFirstLast)
        move(&lastV, s.needsFirstLast)
        move(&ewmaNum, s.needsEwma)
        move(&ewmaDen, s.needsEwma)
        move(&ewmaRef, s.needsEwma)
        move(&sketches, s.needsSketch, fill: QuantileSketch(relativeAccuracy: accuracy))
        move(&enterprise, true, fill: 0)
        move(&touched, true, fill: 0)
        move(&lateWatermark, true, fill: .min)
        capacity = newCapacity
    }

    /// Clears the pane (O(touched slots)) and marks it free.

    func reset() {
        for i in 0..<touchedCount {
            let slot = Int(touched[i])
            count[slot] = 0
            if statistics.needsSketch { sketches[slot].reset() }
        }
        for slot in lateSlots { lateWatermark[Int(slot)] = .min }
        lateSlots.removeAll(keepingCapacity: true)
        touchedCount = 0
        isLive = false
        paneIndex = .min
    }

    /// Notes that `slot` received a reading after one of this pane's windows fired, at watermark `wm`.

    func markLate(slot: UInt32, watermark wm: Int64) {
        let s = Int(slot)
        if lateWatermark[s] == .min { lateSlots.append(slot) }
        if wm > lateWatermark[s] { lateWatermark[s] = wm }
    }

    /// Adds the statistics of `slot` (which must have `count > 0`) to `acc`.

    func merge(slot: UInt32, into acc: inout StatAccumulator, ewmaInverseHalfLife: Double) {
        acc.merge(accumulator(slot: slot), ewmaInverseHalfLife: ewmaInverseHalfLife)
    }

    /// The statistics of `slot` as an accumulator (only the enabled groups are meaningful).

    func accumulator(slot: UInt32) -> StatAccumulator {
        let i = Int(slot)
        var a = StatAccumulator()
        a.count = count[i]
        let s = statistics
        if s.needsMoments {
            a.mean = mean[i]
            a.m2 = m2[i]
        }
        if s.needsMinMax {
            a.min = minV[i]
            a.max = maxV[i]
        }
        if s.needsFirstLast {
            a.firstTime = firstT[i]
            a.first = firstV[i]
            a.lastTime = lastT[i]
            a.last = lastV[i]
        }
        if s.needsEwma {
            a.ewmaNumerator = ewmaNum[i]
            a.ewmaDenominator = ewmaDen[i]
            a.ewmaReference = ewmaRef[i]
        }
        if s.needsSketch { a.sketch = sketches[i] }
        return a
    }

    /// A handle with the column base addresses copied into a struct, for the per-reading loop.

    var handle: _PaneHandle {
        _PaneHandle(
            count: count, mean: mean, m2: m2, minV: minV, maxV: maxV, firstT: firstT, firstV: firstV,
            lastT: lastT, lastV: lastV, ewmaNum: ewmaNum, ewmaDen: ewmaDen, ewmaRef: ewmaRef,
            sketches: sketches, enterprise: enterprise, touched: touched,
            moments: statistics.needsMoments, minMax: statistics.needsMinMax,
            firstLast: statistics.needsFirstLast, ewma: statistics.needsEwma, sketch: statistics.needsSketch
        )
    }
}

/// Column base addresses of one ``_PaneColumns``, valid until the pane grows or is freed.
///
/// The per-reading update lives here so that the loop works on pointers held in registers rather than
/// re-reading them through the class reference after every store.

struct _PaneHandle {
    let count: UnsafeMutablePointer<Int64>
    let mean: UnsafeMutablePointer<Double>
    let m2: UnsafeMutablePointer<Double>
    let minV: UnsafeMutablePointer<Double>
    let maxV: UnsafeMutablePointer<Double>
    let firstT: UnsafeMutablePointer<Int64>
    let firstV: UnsafeMutablePointer<Double>
    let lastT: UnsafeMutablePointer<Int64>
    let lastV: UnsafeMutablePointer<Double>
    let ewmaNum: UnsafeMutablePointer<Double>
    let ewmaDen: UnsafeMutablePointer<Double>
    let ewmaRef: UnsafeMutablePointer<Int64>
    let sketches: UnsafeMutablePointer<QuantileSketch>
    let enterprise: UnsafeMutablePointer<UInt32>
    let touched: UnsafeMutablePointer<UInt32>
    let moments: Bool
    let minMax: Bool
    let firstLast: Bool
    let ewma: Bool
    let sketch: Bool

    init(
        count: UnsafeMutablePointer<Int64>, mean: UnsafeMutablePointer<Double>, m2: UnsafeMutablePointer<Double>,
        minV: UnsafeMutablePointer<Double>, maxV: UnsafeMutablePointer<Double>, firstT: UnsafeMutablePointer<Int64>,
        firstV: UnsafeMutablePointer<Double>, lastT: UnsafeMutablePointer<Int64>, lastV: UnsafeMutablePointer<Double>,
        ewmaNum: UnsafeMutablePointer<Double>, ewmaDen: UnsafeMutablePointer<Double>,
        ewmaRef: UnsafeMutablePointer<Int64>, sketches: UnsafeMutablePointer<QuantileSketch>,
        enterprise: UnsafeMutablePointer<UInt32>, touched: UnsafeMutablePointer<UInt32>,
        moments: Bool, minMax: Bool, firstLast: Bool, ewma: Bool, sketch: Bool
    ) {
        self.count = count
        self.mean = mean
        self.m2 = m2
        self.minV = minV
        self.maxV = maxV
        self.firstT = firstT
        self.firstV = firstV
        self.lastT = lastT
        self.lastV = lastV
        self.ewmaNum = ewmaNum
        self.ewmaDen = ewmaDen
        self.ewmaRef = ewmaRef
        self.sketches = sketches
        self.enterprise = enterprise
        self.touched = touched
        self.moments = moments
        self.minMax = minMax
        self.firstLast = firstLast
        self.ewma = ewma
        self.sketch = sketch
    }

    /// Adds one reading to `slot`. Returns 1 if this was the slot's first reading in the pane (the caller
    /// bumps `touchedCount`), else 0.
    ///
    /// - Precondition: `slot < capacity` of the pane (checked by the caller).
    @inline(__always)
    func add(slot: Int, enterprise e: UInt32, time t: Int64, value x: Double, touchedCount: Int, ewmaInverseHalfLife: Double)
        -> Int
    {
        let c = count[slot]
        if c == 0 {
            count[slot] = 1
            touched[touchedCount] = UInt32(truncatingIfNeeded: slot)
            enterprise[slot] = e
            if moments {
                mean[slot] = x
                m2[slot] = 0
            }
            if minMax {
                minV[slot] = x
                maxV[slot] = x
            }
            if firstLast {
                firstT[slot] = t
                firstV[slot] = x
                lastT[slot] = t
                lastV[slot] = x
            }
            if ewma {
                ewmaNum[slot] = x
                ewmaDen[slot] = 1
                ewmaRef[slot] = t
            }
            if sketch { sketches[slot].add(x) }
            return 1
        }
        let n = c &+ 1
        count[slot] = n
        if moments {
            let m = mean[slot]
            let d = x - m
            let nm = m + d / Double(n)
            mean[slot] = nm
            m2[slot] += d * (x - nm)
        }
        if minMax {
            if x < minV[slot] { minV[slot] = x }
            if x > maxV[slot] { maxV[slot] = x }
        }
        if firstLast {
            if t < firstT[slot] {
                firstT[slot] = t
                firstV[slot] = x
            }
            if t >= lastT[slot] {
                lastT[slot] = t
                lastV[slot] = x
            }
        }
        if ewma {
            let ref = ewmaRef[slot]
            if t > ref {
                let scale = exp2(Double(ref &- t) * ewmaInverseHalfLife)
                ewmaNum[slot] = ewmaNum[slot] * scale + x
                ewmaDen[slot] = ewmaDen[slot] * scale + 1
                ewmaRef[slot] = t
            } else {
                let w = exp2(Double(t &- ref) * ewmaInverseHalfLife)
                ewmaNum[slot] += w * x
                ewmaDen[slot] += w
            }
        }
        if sketch { sketches[slot].add(x) }
        return 0
    }
}
