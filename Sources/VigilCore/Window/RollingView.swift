/// Per-sensor "last N milliseconds" statistics, updated with every reading (for detectors).
///
/// ``add(slot:enterprise:time:value:)`` appends the reading to its sensor's lane, evicts from the front
/// every reading with `time <= newest - span` (in arrival order: eviction stops at the first reading that is
/// still inside, so an out-of-order reading stays until the readings before it have left), and returns the
/// statistics of what remains. Aggregation uses the two-stacks technique: evictions pop precomputed suffix
/// aggregates and additions update one running aggregate, so each reading costs amortized O(1) merges and
/// no value is ever subtracted (which would lose precision).
public struct RollingView: Sendable {
    /// The span of the view in ms.
    public let span: Int64

    struct Lane: Sendable {
        var times: [Int64] = []
        var values: [Double] = []
        var head = 0
        /// Entries `head ..< split` are the front stack; `frontAgg[i]` aggregates entries `i ..< split`.
        var split = 0
        var frontAgg: [StatAccumulator] = []
        var back = StatAccumulator()
        var newest: Int64 = .min
    }

    var lanes: [Lane] = []

    public init(span: Int64) {
        precondition(span > 0, "RollingView: span must be > 0 ms")
        self.span = span
    }

    /// Adds a reading and returns the statistics of the sensor's readings in the last ``span`` ms.
    ///
    /// - Complexity: Amortized O(1).
    public mutating func add(slot: UInt32, time t: Int64, value x: Double) -> StatAccumulator {
        let s = Int(slot)
        if s >= lanes.count { lanes.append(contentsOf: repeatElement(Lane(), count: s + 1 - lanes.count)) }
        return lanes[s].add(time: t, value: x, span: span)
    }

    /// Number of readings currently inside the view of `slot`.
    public func count(slot: UInt32) -> Int {
        Int(slot) < lanes.count ? lanes[Int(slot)].times.count - lanes[Int(slot)].head : 0
    }
}

extension RollingView.Lane {
    mutating func add(time t: Int64, value x: Double, span: Int64) -> StatAccumulator {
        times.append(t)
        values.append(x)
        back.add(time: t, value: x)
        if t > newest { newest = t }
        let limit = EventTime.saturatingSubtract(newest, span)
        while head < times.count && times[head] <= limit {
            if head == split { flip() }
            head += 1
        }
        if head < split {
            var result = frontAgg[head]
            result.merge(back)
            return result
        }
        return back
    }

    /// Moves every back entry to the front stack, computing suffix aggregates; compacts the arrays.
    private mutating func flip() {
        if head > 0 {
            times.removeFirst(head)
            values.removeFirst(head)
            head = 0
        }
        let n = times.count
        frontAgg.removeAll(keepingCapacity: true)
        frontAgg.append(contentsOf: repeatElement(StatAccumulator(), count: n))
        var acc = StatAccumulator()
        var i = n - 1
        while i >= 0 {
            var single = StatAccumulator()
            single.add(time: times[i], value: values[i])
            single.merge(acc)
            acc = single
            frontAgg[i] = acc
            i -= 1
        }
        split = n
        back = StatAccumulator()
    }
}
