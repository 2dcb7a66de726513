public import VigilCore

/// Compares window rows from a fast operator with rows from the reference, as multisets.
///
/// Tolerances: count, window bounds, kind, min, max, first, last exact; mean, sum, EWMA within 1e-9 of the
/// mean absolute value of the window's readings (the error bound of any floating sum); variance within
/// 1e-9 relative or 1e-14 of the squared mean absolute value (both infinite, or both above 1e306, count as
/// equal: the true variance overflows);
/// quantiles within the sketch accuracy α of the exact order statistic at rank ⌊q·(n − 1)⌋.
public enum RowComparison: Sendable {
    public static func sortKey(_ r: WindowRow) -> (UInt8, Int64, Int64, UInt32, Int64, Double) {
        (r.kind.rawValue, r.windowStart, r.windowEnd, r.sensor, r.count, r.lastTime == 0 ? 0 : Double(r.lastTime))
    }

    static func sorted(_ rows: [WindowRow]) -> [WindowRow] {
        rows.sorted { a, b in
            let ka = sortKey(a)
            let kb = sortKey(b)
            if ka.0 != kb.0 { return ka.0 < kb.0 }
            if ka.1 != kb.1 { return ka.1 < kb.1 }
            if ka.2 != kb.2 { return ka.2 < kb.2 }
            if ka.3 != kb.3 { return ka.3 < kb.3 }
            if ka.4 != kb.4 { return ka.4 < kb.4 }
            return ka.5 < kb.5
        }
    }

    /// Returns a description of every difference (empty when the row sets agree).
    public static func differences(
        fast: [WindowRow], reference: [WindowRow], statistics: StatisticSet, accuracy: Double,
        meanAbs: (WindowRow) -> Double
    ) -> [String] {
        let a = sorted(fast)
        let b = sorted(reference)
        var out: [String] = []
        if a.count != b.count {
            out.append("row count \(a.count) (fast) != \(b.count) (reference)")
            func brief(_ rows: [WindowRow]) -> String {
                rows.prefix(40).map { "\($0.kind) \($0.windowStart % 1_000_000) s\($0.sensor) n\($0.count)" }.joined(separator: "; ")
            }
            out.append("fast: " + brief(a))
            out.append("reference: " + brief(b))
            return out
        }
        for (x, y) in zip(a, b) {
            func fail(_ what: String, _ u: Any, _ v: Any) {
                out.append(
                    "\(y.kind) [\(y.windowStart), \(y.windowEnd)) sensor \(y.sensor): \(what) fast \(u) != reference \(v)"
                )
            }
            if x.kind != y.kind || x.windowStart != y.windowStart || x.windowEnd != y.windowEnd
                || x.sensor != y.sensor
            {
                fail("identity", "\(x.kind) [\(x.windowStart),\(x.windowEnd)) s\(x.sensor)", "")
                continue
            }
            if x.count != y.count { fail("count", x.count, y.count) }
            if x.enterprise != y.enterprise { fail("enterprise", x.enterprise, y.enterprise) }
            let scale = meanAbs(y)
            if statistics.contains(.mean) && !close(x.mean, y.mean, scale) { fail("mean", x.mean, y.mean) }
            if statistics.contains(.sum) && !close(x.sum, y.sum, scale * Double(y.count)) { fail("sum", x.sum, y.sum) }
            if !statistics.isDisjoint(with: [.variance, .stddev]) && !relClose(x.variance, y.variance)
                && !(abs(x.variance - y.variance) <= 1e-14 * scale * scale)
            {
                fail("variance", x.variance, y.variance)
            }
            if statistics.contains(.min) && x.min != y.min { fail("min", x.min, y.min) }
            if statistics.contains(.max) && x.max != y.max { fail("max", x.max, y.max) }
            if statistics.contains(.first) && (x.first != y.first || x.firstTime != y.firstTime) {
                fail("first", x.first, y.first)
            }
            if statistics.contains(.last) && (x.last != y.last || x.lastTime != y.lastTime) {
                fail("last", x.last, y.last)
            }
            if statistics.contains(.ewma) && !close(x.ewma, y.ewma, scale) { fail("ewma", x.ewma, y.ewma) }
            for (flag, u, v) in [(StatisticSet.p50, x.p50, y.p50), (.p95, x.p95, y.p95), (.p99, x.p99, y.p99)]
            where statistics.contains(flag) {
                if !withinSketchBound(estimate: u, exact: v, accuracy: accuracy) { fail("quantile", u, v) }
            }
        }
        return out
    }

    public static func close(_ a: Double, _ b: Double, _ scale: Double) -> Bool {
        if a == b { return true }
        if a.isNaN || b.isNaN { return false }
        if a.isInfinite || b.isInfinite { return huge(a) && huge(b) && (a > 0) == (b > 0) }
        return abs(a - b) <= 1e-9 * Swift.max(abs(b), scale)
    }

    public static func relClose(_ a: Double, _ b: Double) -> Bool {
        if a == b { return true }
        if a.isNaN || b.isNaN { return false }
        if huge(a) || huge(b) { return huge(a) && huge(b) }
        return abs(a - b) <= 1e-9 * Swift.max(abs(a), abs(b)) + Double.leastNormalMagnitude
    }

    static func huge(_ x: Double) -> Bool { x.isInfinite || abs(x) > 1e306 }

    /// Whether a sketch estimate is within relative accuracy α of the exact value (small slack for
    /// rounding of the logarithm at bucket boundaries).
    public static func withinSketchBound(estimate: Double, exact: Double, accuracy: Double) -> Bool {
        if estimate == exact { return true }
        if exact == 0 || abs(exact) < Double.leastNormalMagnitude * 1.1 {
            return abs(estimate) < Double.leastNormalMagnitude * 1.2
        }
        return abs(estimate - exact) <= accuracy * abs(exact) * (1 + 1e-9)
    }
}
