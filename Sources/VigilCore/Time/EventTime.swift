/// Helpers for event time: milliseconds since the Unix epoch as `Int64`.
public enum EventTime: Sendable {
    /// The smallest representable time; the watermark before any record was seen.
    public static let minimum: Int64 = .min
    /// The largest representable time; the watermark at the end of a bounded input.
    public static let maximum: Int64 = .max

    /// `floor(t / d)` for a positive divisor (Swift's `/` truncates toward zero).
    @inlinable @inline(__always)
    public static func floorDiv(_ t: Int64, _ d: Int64) -> Int64 {
        let q = t / d
        return (t % d != 0 && (t < 0) != (d < 0)) ? q - 1 : q
    }

    /// The largest multiple of `d` that is `<= t`.
    @inlinable @inline(__always)
    public static func alignDown(_ t: Int64, _ d: Int64) -> Int64 { floorDiv(t, d) &* d }

    /// The smallest multiple of `d` that is `>= t`.
    @inlinable @inline(__always)
    public static func alignUp(_ t: Int64, _ d: Int64) -> Int64 {
        let down = alignDown(t, d)
        return down == t ? t : down &+ d
    }

    /// A duration in ms written the way pipeline files write it: `500ms`, `30s`, `5m`, `1h30m`, `2d`.
    public static func describe(duration ms: Int64) -> String {
        if ms == 0 { return "0s" }
        if ms < 0 { return "-" + describe(duration: -ms) }
        if ms % 1_000 != 0 { return "\(ms)ms" }
        var rest = ms / 1_000
        var out = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }

    /// `a + b`, clamped to the representable range instead of trapping.
    @inlinable @inline(__always)
    public static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? (b > 0 ? .max : .min) : r
    }

    /// `a - b`, clamped to the representable range instead of trapping.
    @inlinable @inline(__always)
    public static func saturatingSubtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, o) = a.subtractingReportingOverflow(b)
        return o ? (b > 0 ? .min : .max) : r
    }
}
