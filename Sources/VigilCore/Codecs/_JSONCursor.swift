#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A forward-only JSON scanner over borrowed bytes. It never reads outside `base[0..<count]`: every access
/// goes through ``peek`` (which yields 0 at the end) or checks the position first.
struct _JSONCursor {
    let base: UnsafePointer<UInt8>
    let count: Int
    var position = 0
    var error: String? = nil

    static let maxDepth = 64

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    var atEnd: Bool { position >= count }

    /// The current byte, or 0 at the end.
    @inline(__always) var peek: UInt8 { position < count ? base[position] : 0 }

    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    @inline(__always) mutating func skipWhitespace() {
        while position < count {
            let b = base[position]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            position += 1
        }
    }

    /// Scans a string starting at `"`; returns the span of its raw contents (between the quotes) and whether
    /// it contains escapes. Validates escapes and rejects control characters.
    mutating func scanString() -> (start: Int, end: Int, escaped: Bool)? {
        guard peek == UInt8(ascii: "\"") else {
            error = "expected a string at byte \(position)"
            return nil
        }
        position += 1
        let start = position
        var escaped = false
        while position < count {
            let b = base[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                return (start, position - 1, escaped)
            }
            if b < 0x20 {
                error = "control character in string at byte \(position)"
                return nil
            }
            if b == UInt8(ascii: "\\") {
                escaped = true
                position += 1
                guard position < count else { break }
                switch base[position] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 1
                case UInt8(ascii: "u"):
                    guard position + 4 < count else {
                        error = "truncated \\u escape at byte \(position)"
                        return nil
                    }
                    for k in 1...4 where Self.hexValue(base[position + k]) == nil {
                        error = "invalid \\u escape at byte \(position)"
                        return nil
                    }
                    position += 5
                default:
                    error = "invalid escape at byte \(position)"
                    return nil
                }
                continue
            }
            position += 1
        }
        error = "unterminated string"
        return nil
    }

    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x41...0x46: return UInt32(b - 0x41 + 10)
        case 0x61...0x66: return UInt32(b - 0x61 + 10)
        default: return nil
        }
    }

    /// Decodes the escapes of a string already validated by ``scanString()`` into UTF-8 bytes.
    static func unescape(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt8]) {
        var i = 0
        func hex4(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 where at + k < n { v = v << 4 | (hexValue(p[at + k]) ?? 0) }
            return v
        }
        while i < n {
            let b = p[i]
            guard b == UInt8(ascii: "\\"), i + 1 < n else {
                out.append(b)
                i += 1
                continue
            }
            let e = p[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 5 < n, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(i + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: UTF8.encode(s)!)
            default: out.append(e)
            }
        }
    }

    /// A parsed number: exact integer when it has no fraction or exponent and fits, and its double value.
    struct Number {
        var integer: Int64?
        var double: Double
    }

    static let powersOf10: [Double] = (0...22).map { e in
        var x = 1.0
        for _ in 0..<e { x *= 10 }
        return x
    }

    /// Scans a JSON number (strict grammar). Exact: the Clinger fast path when the decimal mantissa has at
    /// most 15 digits and the exponent is within ±22, `strtod` otherwise.
    mutating func scanNumber(scratch: inout [CChar]) -> Number? {
        let start = position
        var negative = false
        if peek == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard isDigit(peek) else {
            error = "invalid number at byte \(start)"
            return nil
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var isInteger = true
        if peek == UInt8(ascii: "0") {
            position += 1
            if isDigit(peek) {
                error = "leading zero in number at byte \(start)"
                return nil
            }
        } else {
            while isDigit(peek) {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(peek - 0x30)
                    if mantissa != 0 { digits += 1 }
                } else {
                    exponent += 1
                    digits += 1
                }
                position += 1
            }
        }
        if peek == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard isDigit(peek) else {
                error = "digit expected after '.' at byte \(position)"
                return nil
            }
            while isDigit(peek) {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(peek - 0x30)
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                } else {
                    digits += 1
                }
                position += 1
            }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            var expNegative = false
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") {
                expNegative = peek == UInt8(ascii: "-")
                position += 1
            }
            guard isDigit(peek) else {
                error = "digit expected in exponent at byte \(position)"
                return nil
            }
            var e = 0
            while isDigit(peek) {
                if e < 100_000 { e = e * 10 + Int(peek - 0x30) }
                position += 1
            }
            exponent += expNegative ? -e : e
        }
        if isInteger && digits <= 18 {
            let v = Int64(mantissa)
            let i = negative ? -v : v
            return Number(integer: i, double: Double(i))
        }
        if digits <= 15 && exponent >= -22 && exponent <= 22 {
            // Clinger's fast path: both operands are exact doubles, one rounding.
            var d = Double(mantissa)
            if exponent >= 0 { d *= Self.powersOf10[exponent] } else { d /= Self.powersOf10[-exponent] }
            return Number(integer: nil, double: negative ? -d : d)
        }
        if digits <= 19, let d = _EiselLemire.parse(significand: mantissa, exponent: exponent, negative: negative) {
            return Number(integer: nil, double: d)
        }
        // Slow path (more than 19 significant digits, subnormals): let the C library round correctly.
        let length = position - start
        scratch.removeAll(keepingCapacity: true)
        for k in 0..<length { scratch.append(CChar(bitPattern: base[start + k])) }
        scratch.append(0)
        let d = scratch.withUnsafeBufferPointer { strtod($0.baseAddress!, nil) }
        return Number(integer: nil, double: d)
    }

    /// Skips one JSON value (validating its syntax). Returns an error message, or nil.
    mutating func skipValue(depth: Int) -> String? {
        guard depth < Self.maxDepth else { return "nesting deeper than \(Self.maxDepth) at byte \(position)" }
        skipWhitespace()
        switch peek {
        case UInt8(ascii: "\""):
            return scanString() == nil ? (error ?? "bad string") : nil
        case UInt8(ascii: "{"):
            position += 1
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                position += 1
                return nil
            }
            while true {
                skipWhitespace()
                if scanString() == nil { return error ?? "expected a field name at byte \(position)" }
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { return "expected ':' at byte \(position)" }
                position += 1
                if let e = skipValue(depth: depth + 1) { return e }
                skipWhitespace()
                if peek == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                if peek == UInt8(ascii: "}") {
                    position += 1
                    return nil
                }
                return "expected ',' or '}' at byte \(position)"
            }
        case UInt8(ascii: "["):
            position += 1
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                position += 1
                return nil
            }
            while true {
                if let e = skipValue(depth: depth + 1) { return e }
                skipWhitespace()
                if peek == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                if peek == UInt8(ascii: "]") {
                    position += 1
                    return nil
                }
                return "expected ',' or ']' at byte \(position)"
            }
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default:
            if peek == UInt8(ascii: "-") || isDigit(peek) {
                var scratch: [CChar] = []
                return scanNumberSkipping(&scratch)
            }
            return atEnd ? "unexpected end of payload" : "unexpected character at byte \(position)"
        }
    }

    private mutating func scanNumberSkipping(_ scratch: inout [CChar]) -> String? {
        scanNumber(scratch: &scratch) == nil ? (error ?? "bad number") : nil
    }

    private mutating func literal(_ word: StaticString) -> String? {
        let n = word.utf8CodeUnitCount
        guard position + n <= count, memcmp(base + position, word.utf8Start, n) == 0 else {
            return "invalid literal at byte \(position)"
        }
        position += n
        return nil
    }
}
