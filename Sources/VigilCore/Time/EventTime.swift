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

    /// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    public static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), Int(month), Int(doy - (153 * mp + 2) / 5 + 1))
    }

    /// The day count since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    public static func daysSinceEpoch(year: Int64, month: Int, day: Int) -> Int64 {
        let m = Int64(month)
        let y = m <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
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
