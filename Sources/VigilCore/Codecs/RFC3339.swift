/// Parses RFC 3339 date-times (`2024-11-22T18:26:40.123Z`, `2024-11-22 18:26:40+08:00`) into milliseconds
/// since the Unix epoch, without Foundation and without allocating.
public enum RFC3339: Sendable {
    /// Returns the instant in ms, or nil if the bytes are not a valid RFC 3339 date-time.
    /// Fractions beyond milliseconds are truncated; a leap second (`:60`) counts as `:59.999`.
    public static func parseMilliseconds(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int64? {
        var i = 0
        func digits(_ count: Int) -> Int? {
            guard i + count <= n else { return nil }
            var v = 0
            for k in 0..<count {
                let b = p[i + k]
                guard b >= 0x30 && b <= 0x39 else { return nil }
                v = v * 10 + Int(b - 0x30)
            }
            i += count
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < n, p[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2)
        else { return nil }
        guard i < n, p[i] == UInt8(ascii: "T") || p[i] == UInt8(ascii: "t") || p[i] == UInt8(ascii: " ") else { return nil }
        i += 1
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")),
            var second = digits(2)
        else { return nil }
        var millis = 0
        if i < n && p[i] == UInt8(ascii: ".") {
            i += 1
            var k = 0
            while i < n, p[i] >= 0x30 && p[i] <= 0x39 {
                if k < 3 { millis = millis * 10 + Int(p[i] - 0x30) }
                k += 1
                i += 1
            }
            guard k > 0 else { return nil }
            while k < 3 {
                millis *= 10
                k += 1
            }
        }
        var offsetMinutes = 0
        guard i < n else { return nil }
        if p[i] == UInt8(ascii: "Z") || p[i] == UInt8(ascii: "z") {
            i += 1
        } else if p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") {
            let sign = p[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2), expect(UInt8(ascii: ":")), let om = digits(2), oh < 24, om < 60 else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
        } else {
            return nil
        }
        guard i == n else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60,
            second <= 60
        else { return nil }
        if second == 60 {
            second = 59
            millis = 999
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1_000 + Int64(millis)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
