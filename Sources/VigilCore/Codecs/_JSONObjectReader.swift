/// Reads one JSON object member by member on a ``_JSONCursor``, with typed reads of each member's value.
///
/// ``readObject(_:)`` calls its body with each key and the reader positioned at the member's value; the body
/// asks for the type it needs (``string()``, ``double()``, ``int64()``, ``bool()``, ``object(_:)``,
/// ``array(_:)``). A read that finds another type (or `null`) returns nil and leaves the value where it was,
/// and whatever the body did not read is skipped: an unknown or mistyped member is simply not taken. The
/// syntax of everything is checked, skipped members included, so a payload that is not one well-formed JSON
/// object is an error.
struct _JSONObjectReader {
    var cursor: _JSONCursor
    var scratch: [CChar] = []
    /// Nesting depth of the value at the cursor.
    private var depth = 0

    init(_ cursor: _JSONCursor) { self.cursor = cursor }

    // MARK: Typed reads of the value at the cursor

    /// The value as a string, nil when it is not one.
    mutating func string() -> String? {
        guard cursor.peek == UInt8(ascii: "\"") else { return nil }
        return scanString()
    }

    /// The value as a number, nil when it is not one.
    mutating func number() -> _JSONCursor.Number? {
        let b = cursor.peek
        guard b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) else { return nil }
        return cursor.scanNumber(scratch: &scratch)
    }

    /// The value as a double, nil when it is not a number.
    mutating func double() -> Double? { number()?.double }

    /// The value as an integer: an integral number exactly, a fractional one truncated toward zero; nil when it
    /// is not a number or is outside the 64-bit range.
    mutating func int64() -> Int64? {
        guard let n = number() else { return nil }
        if let i = n.integer { return i }
        return n.double.isFinite && n.double.magnitude < 9.2e18 ? Int64(n.double) : nil
    }

    mutating func bool() -> Bool? {
        let b = cursor.peek
        guard b == UInt8(ascii: "t") || b == UInt8(ascii: "f") else { return nil }
        if let e = cursor.skipValue(depth: depth) {
            cursor.error = e
            return nil
        }
        return b == UInt8(ascii: "t")
    }

    /// Reads a nested object's members with `body`; false when the value is not an object.
    mutating func object(_ body: (String, inout _JSONObjectReader) -> Void) -> Bool {
        guard cursor.peek == UInt8(ascii: "{") else { return false }
        if let e = Self.members(&self, body) { cursor.error = e }
        return cursor.error == nil
    }

    /// Reads an array's elements with `body`; false when the value is not an array.
    mutating func array(_ body: (inout _JSONObjectReader) -> Void) -> Bool {
        guard cursor.peek == UInt8(ascii: "[") else { return false }
        if let e = Self.elements(&self, body) { cursor.error = e }
        return cursor.error == nil
    }

    // MARK: Walking

    /// Reads the whole payload as one object, calling `body` for each member in order (a repeated key is seen
    /// each time: a decoder that keeps the last one behaves like `JSONSerialization`).
    ///
    /// - Returns: nil, or why the payload is not one well-formed JSON object.
    mutating func readObject(_ body: (String, inout _JSONObjectReader) -> Void) -> String? {
        cursor.skipWhitespace()
        guard cursor.peek == UInt8(ascii: "{") else { return cursor.atEnd ? "not a JSON object: empty payload" : "not a JSON object" }
        if let e = Self.members(&self, body) { return "malformed JSON: \(e)" }
        cursor.skipWhitespace()
        return cursor.atEnd ? nil : "malformed JSON: trailing data at byte \(cursor.position)"
    }

    /// Reads the members of the object at the cursor; nil, or the syntax error.
    private static func members(_ r: inout _JSONObjectReader, _ body: (String, inout _JSONObjectReader) -> Void) -> String? {
        guard r.depth < _JSONCursor.maxDepth else { return "nesting deeper than \(_JSONCursor.maxDepth) at byte \(r.cursor.position)" }
        r.cursor.position += 1  // "{"
        r.cursor.skipWhitespace()
        if r.cursor.peek == UInt8(ascii: "}") {
            r.cursor.position += 1
            return nil
        }
        while true {
            r.cursor.skipWhitespace()
            guard r.cursor.peek == UInt8(ascii: "\""), let key = r.scanString() else {
                return r.cursor.error ?? "expected a field name at byte \(r.cursor.position)"
            }
            r.cursor.skipWhitespace()
            guard r.cursor.peek == UInt8(ascii: ":") else { return "expected ':' at byte \(r.cursor.position)" }
            r.cursor.position += 1
            if let e = value(&r, { body(key, &$0) }) { return e }
            r.cursor.skipWhitespace()
            if r.cursor.peek == UInt8(ascii: ",") {
                r.cursor.position += 1
                continue
            }
            if r.cursor.peek == UInt8(ascii: "}") {
                r.cursor.position += 1
                return nil
            }
            return "expected ',' or '}' at byte \(r.cursor.position)"
        }
    }

    private static func elements(_ r: inout _JSONObjectReader, _ body: (inout _JSONObjectReader) -> Void) -> String? {
        guard r.depth < _JSONCursor.maxDepth else { return "nesting deeper than \(_JSONCursor.maxDepth) at byte \(r.cursor.position)" }
        r.cursor.position += 1  // "["
        r.cursor.skipWhitespace()
        if r.cursor.peek == UInt8(ascii: "]") {
            r.cursor.position += 1
            return nil
        }
        while true {
            if let e = value(&r, body) { return e }
            r.cursor.skipWhitespace()
            if r.cursor.peek == UInt8(ascii: ",") {
                r.cursor.position += 1
                continue
            }
            if r.cursor.peek == UInt8(ascii: "]") {
                r.cursor.position += 1
                return nil
            }
            return "expected ',' or ']' at byte \(r.cursor.position)"
        }
    }

    /// Hands the value at the cursor, one level deeper, to `body`; skips it if `body` did not read it.
    private static func value(_ r: inout _JSONObjectReader, _ body: (inout _JSONObjectReader) -> Void) -> String? {
        r.cursor.skipWhitespace()
        let start = r.cursor.position
        r.depth += 1
        defer { r.depth -= 1 }
        r.cursor.error = nil
        body(&r)
        if let e = r.cursor.error { return e }
        if r.cursor.position == start { return r.cursor.skipValue(depth: r.depth) }
        return nil
    }

    /// Scans the string at the cursor into a `String`; nil (with the cursor's error set) when it is malformed or
    /// not valid UTF-8.
    private mutating func scanString() -> String? {
        guard let (start, end, escaped) = cursor.scanString() else { return nil }
        let p = cursor.base + start
        let n = end - start
        if !escaped {
            guard let s = String(validating: UnsafeBufferPointer(start: p, count: n), as: UTF8.self) else {
                cursor.error = "invalid UTF-8 in string at byte \(start)"
                return nil
            }
            return s
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(n)
        _JSONCursor.unescape(p, n, into: &bytes)
        guard let s = String(validating: bytes, as: UTF8.self) else {
            cursor.error = "invalid UTF-8 in string at byte \(start)"
            return nil
        }
        return s
    }
}
