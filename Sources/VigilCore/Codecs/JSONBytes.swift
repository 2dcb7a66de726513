/// A reusable byte buffer that output encoders write JSON into: literals, integers, doubles (shortest
/// round-tripping form, `null` when not finite) and escaped strings. No allocation once its capacity fits.
public struct JSONBytes: Sendable {
    public private(set) var buffer: [UInt8] = []

    public init(capacity: Int = 512) { buffer.reserveCapacity(capacity) }

    public mutating func removeAll() { buffer.removeAll(keepingCapacity: true) }

    public mutating func append(_ s: StaticString) {
        buffer.append(contentsOf: UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Appends `s` as it is (for text known not to need escaping, such as enum names).
    public mutating func appendRaw(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
    }

    public mutating func append(_ n: Int64) {
        if n < 0 {
            buffer.append(UInt8(ascii: "-"))
            if n == .min {
                append("9223372036854775808")
                return
            }
        }
        var v = n.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            } while v > 0
            for k in stride(from: count - 1, through: 0, by: -1) { buffer.append(d[k]) }
        }
    }

    /// Appends `x` in its shortest round-tripping form (Swift's `description`), or `null` when not finite.
    public mutating func append(_ x: Double) {
        if x.isFinite {
            var text = x.description
            text.withUTF8 { buffer.append(contentsOf: $0) }
        } else {
            append("null")
        }
    }

    /// Appends `s` as a quoted, escaped JSON string, or `null` for nil.
    public mutating func appendString(_ s: String?) {
        guard let s else { return append("null") }
        append("\"")
        appendEscaped(s)
        append("\"")
    }

    /// Appends `x` as the `Double` overload of `append` does (shortest form, `null` when not finite), or `null` for nil.
    public mutating func appendNumber(_ x: Double?) {
        if let x { append(x) } else { append("null") }
    }

    /// Appends `n`, or `null` for nil.
    public mutating func appendInteger(_ n: Int64?) {
        if let n { append(n) } else { append("null") }
    }

    /// Appends `text` with JSON string escaping (no quotes around it).
    public mutating func appendEscaped(_ text: String) {
        var text = text
        text.withUTF8 { appendEscaped(UnsafeRawBufferPointer($0)) }
    }

    public mutating func appendEscaped(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                append("\\u00")
                buffer.append(hex.utf8Start[Int(b >> 4)])
                buffer.append(hex.utf8Start[Int(b & 0xF)])
            default: buffer.append(b)
            }
        }
    }
}

/// `s` as a JSON string literal, escaped (`null` for nil).
public func jsonString(_ s: String?) -> String {
    guard let s else { return "null" }
    return "\"" + jsonEscaped(s) + "\""
}

/// `s` with JSON string escaping, without the quotes, by the escaping the byte encoders use (``JSONBytes``).
public func jsonEscaped(_ s: String) -> String {
    // Ids almost never need it: return them as they are.
    guard s.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else { return s }
    var out = JSONBytes(capacity: s.utf8.count + 16)
    out.appendEscaped(s)
    return String(decoding: out.buffer, as: UTF8.self)
}
