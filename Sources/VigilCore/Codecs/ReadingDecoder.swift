#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Limits a ``ReadingDecoder`` enforces.
public struct ReadingDecoderConfig: Sendable, Hashable {
    /// Payloads larger than this are rejected whole (`oversize_payload`). Default 1 MiB.
    public var maxPayloadBytes: Int = 1 << 20
    /// Readings more than this many ms after the processing time are rejected. Default 1 day; `nil`: no limit.
    public var futureHorizon: Int64? = 86_400_000
    /// Readings more than this many ms before the processing time are rejected. Default 30 days; `nil`: no limit.
    public var pastHorizon: Int64? = 30 * 86_400_000
    /// Maximum length of `enterprise` and `sensor` in bytes. Default 256.
    public var maxIdentifierBytes: Int = 256

    public init() {}
}

/// Decodes JSON readings (`Schemas/safety.readings.v1.schema.json`) straight from payload bytes into the
/// columns of a ``ReadingBatch``.
///
/// ```json
/// {"enterprise":"E0042","sensor":"E0042-GT-101","ts":1732300000123,"value":12.5,"unit":"%LEL","quality":"good"}
/// ```
///
/// `ts` is milliseconds since the epoch, or an RFC 3339 string (`"2024-11-22T18:26:40.123+08:00"`). A payload may
/// also be a JSON array of such objects (gateways batch). Unknown fields are skipped. Identifiers are interned
/// from the payload bytes (no `String` per field), numbers are parsed in place (exactly; the fast path covers
/// the usual sensor values, others fall back to `strtod`), and no `Foundation` type is involved.
///
/// Bad input never traps and never poisons its neighbours: a record with a missing or mistyped field is
/// reported as a ``DecodeRejection`` and the other elements of the same array are decoded normally; a payload
/// that is not well-formed JSON is rejected whole (nothing of it is appended).
public struct ReadingDecoder: Sendable {
    public var config: ReadingDecoderConfig
    /// Sensor ids → slots.
    public var sensors: KeyInterner
    /// Enterprise ids → slots.
    public var enterprises: KeyInterner
    /// Buffer for numbers that need `strtod` (rare: more than 19 digits or subnormals).
    var numberScratch: [CChar] = []
    /// The last enterprise id interned (readings of one enterprise usually arrive together): its bytes and slot.
    var lastEnterprise: (bytes: [UInt8], slot: UInt32) = ([], 0)

    public init(config: ReadingDecoderConfig = ReadingDecoderConfig(), sensors: KeyInterner = KeyInterner(), enterprises: KeyInterner = KeyInterner())
    {
        self.config = config
        self.sensors = sensors
        self.enterprises = enterprises
    }

    /// Decodes one payload, appending its readings to `batch` and its rejected records to `rejections`.
    ///
    /// - Parameters:
    ///   - payload: The message value. Not retained.
    ///   - offset: The source offset, stored with each reading and rejection.
    ///   - now: Processing time in ms for the timestamp horizons (`nil` disables the horizon checks).
    /// - Returns: The number of readings appended.
    @discardableResult
    public mutating func decode(
        payload: UnsafeRawBufferPointer, offset: Int64, now: Int64?, into batch: inout ReadingBatch,
        rejections: inout [DecodeRejection]
    ) -> Int {
        let whole = 0..<payload.count
        if payload.count > config.maxPayloadBytes {
            rejections.append(
                DecodeRejection(
                    reason: .oversizePayload, detail: "payload of \(payload.count) bytes exceeds \(config.maxPayloadBytes)",
                    range: whole, offset: offset
                )
            )
            return 0
        }
        guard let base = payload.baseAddress, payload.count > 0 else {
            rejections.append(DecodeRejection(reason: .emptyPayload, detail: "empty payload", range: whole, offset: offset))
            return 0
        }
        var cursor = _JSONCursor(base: base.assumingMemoryBound(to: UInt8.self), count: payload.count)
        cursor.skipWhitespace()
        if cursor.atEnd {
            rejections.append(DecodeRejection(reason: .emptyPayload, detail: "payload is only whitespace", range: whole, offset: offset))
            return 0
        }
        let batchStart = batch.count
        let rejectionStart = rejections.count
        var syntaxError: String? = nil
        if cursor.peek == UInt8(ascii: "[") {
            cursor.position += 1
            cursor.skipWhitespace()
            if cursor.peek == UInt8(ascii: "]") {
                cursor.position += 1
            } else {
                while syntaxError == nil {
                    cursor.skipWhitespace()
                    syntaxError = decodeElement(&cursor, offset: offset, now: now, batch: &batch, rejections: &rejections)
                    if syntaxError != nil { break }
                    cursor.skipWhitespace()
                    if cursor.peek == UInt8(ascii: ",") {
                        cursor.position += 1
                    } else if cursor.peek == UInt8(ascii: "]") {
                        cursor.position += 1
                        break
                    } else {
                        syntaxError = "expected ',' or ']' at byte \(cursor.position)"
                    }
                }
            }
        } else {
            syntaxError = decodeElement(&cursor, offset: offset, now: now, batch: &batch, rejections: &rejections)
        }
        if syntaxError == nil {
            cursor.skipWhitespace()
            if !cursor.atEnd { syntaxError = "unexpected data after the JSON value at byte \(cursor.position)" }
        }
        if let syntaxError {
            // Roll back everything this payload produced: it is rejected whole.
            batch.truncate(to: batchStart)
            rejections.removeSubrange(rejectionStart...)
            rejections.append(DecodeRejection(reason: .malformedJSON, detail: syntaxError, range: whole, offset: offset))
            return 0
        }
        return batch.count - batchStart
    }

    /// Decodes one value that should be a reading object. Returns a syntax error, or nil (the element was
    /// either appended or recorded as a rejection).
    private mutating func decodeElement(
        _ c: inout _JSONCursor, offset: Int64, now: Int64?, batch: inout ReadingBatch, rejections: inout [DecodeRejection]
    ) -> String? {
        let start = c.position
        guard c.peek == UInt8(ascii: "{") else {
            if let error = c.skipValue(depth: 0) { return error }
            rejections.append(
                DecodeRejection(reason: .notAnObject, detail: "a reading must be a JSON object", range: start..<c.position, offset: offset)
            )
            return nil
        }
        c.position += 1
        var problem: (RejectReason, String)? = nil
        func note(_ reason: RejectReason, _ detail: @autoclosure () -> String) {
            if problem == nil { problem = (reason, detail()) }
        }
        var enterpriseSpan: (start: Int, end: Int, escaped: Bool)? = nil
        var sensorSpan: (start: Int, end: Int, escaped: Bool)? = nil
        var ts: Int64? = nil
        var value: Double? = nil
        var flags: ReadingFlags = []
        var seen: UInt8 = 0
        c.skipWhitespace()
        if c.peek == UInt8(ascii: "}") {
            c.position += 1
        } else {
            while true {
                c.skipWhitespace()
                guard c.peek == UInt8(ascii: "\"") else { return "expected a field name at byte \(c.position)" }
                guard let key = c.scanString() else { return c.error ?? "bad string" }
                c.skipWhitespace()
                guard c.peek == UInt8(ascii: ":") else { return "expected ':' at byte \(c.position)" }
                c.position += 1
                c.skipWhitespace()
                let field = key.escaped ? _Field.unknown : _Field.match(c.base + key.start, key.end - key.start)
                if field != .unknown {
                    if seen & field.bit != 0 { note(.duplicateField, "field '\(field.name)' appears twice") }
                    seen |= field.bit
                }
                switch field {
                case .enterprise, .sensor:
                    if c.peek == UInt8(ascii: "\"") {
                        guard let s = c.scanString() else { return c.error ?? "bad string" }
                        if field == .enterprise { enterpriseSpan = s } else { sensorSpan = s }
                    } else {
                        if let error = c.skipValue(depth: 0) { return error }
                        note(.wrongType, "'\(field.name)' must be a string")
                    }
                case .ts:
                    if c.peek == UInt8(ascii: "\"") {
                        guard let s = c.scanString() else { return c.error ?? "bad string" }
                        if let ms = RFC3339.parseMilliseconds(c.base + s.start, s.end - s.start), !s.escaped {
                            ts = ms
                        } else {
                            note(.timestampUnparseable, "'ts' is not an RFC 3339 date-time")
                        }
                    } else if c.peek == UInt8(ascii: "-") || c.isDigit(c.peek) {
                        guard let n = c.scanNumber(scratch: &numberScratch) else { return c.error ?? "bad number" }
                        if let i = n.integer {
                            ts = i
                        } else if n.double.isFinite && n.double == n.double.rounded(.down) && abs(n.double) < 9e15 {
                            ts = Int64(n.double)
                        } else {
                            note(.timestampUnparseable, "'ts' must be whole milliseconds since the epoch")
                        }
                    } else {
                        if let error = c.skipValue(depth: 0) { return error }
                        note(.wrongType, "'ts' must be a number (ms since the epoch) or an RFC 3339 string")
                    }
                case .value:
                    if c.peek == UInt8(ascii: "-") || c.isDigit(c.peek) {
                        guard let n = c.scanNumber(scratch: &numberScratch) else { return c.error ?? "bad number" }
                        if n.double.isFinite { value = n.double } else { note(.valueNotFinite, "'value' overflows a double") }
                    } else {
                        let vstart = c.position
                        if let error = c.skipValue(depth: 0) { return error }
                        let token = String(
                            decoding: UnsafeRawBufferPointer(start: c.base + vstart, count: min(c.position - vstart, 24)), as: UTF8.self)
                        if token.contains("NaN") || token.contains("Inf") || token.contains("nan") || token.contains("inf") {
                            note(.valueNotFinite, "'value' must be a finite number, got \(token)")
                        } else {
                            note(.wrongType, "'value' must be a number, got \(token)")
                        }
                    }
                case .quality:
                    if c.peek == UInt8(ascii: "\"") {
                        guard let s = c.scanString() else { return c.error ?? "bad string" }
                        switch _Quality.match(c.base + s.start, s.end - s.start) {
                        case .good: break
                        case .uncertain: flags.insert(.uncertain)
                        case .bad: flags.insert(.bad)
                        case .substituted: flags.insert(.substituted)
                        case nil: note(.wrongType, "'quality' must be one of good, uncertain, bad, substituted")
                        }
                    } else {
                        if let error = c.skipValue(depth: 0) { return error }
                        note(.wrongType, "'quality' must be a string")
                    }
                case .unit, .unknown:
                    if let error = c.skipValue(depth: 0) { return error }
                }
                c.skipWhitespace()
                if c.peek == UInt8(ascii: ",") {
                    c.position += 1
                    continue
                }
                if c.peek == UInt8(ascii: "}") {
                    c.position += 1
                    break
                }
                return "expected ',' or '}' at byte \(c.position)"
            }
        }
        let range = start..<c.position
        if problem == nil {
            if enterpriseSpan == nil && seen & _Field.enterprise.bit == 0 { note(.missingField, "missing field 'enterprise'") }
            if sensorSpan == nil && seen & _Field.sensor.bit == 0 { note(.missingField, "missing field 'sensor'") }
            if ts == nil && seen & _Field.ts.bit == 0 { note(.missingField, "missing field 'ts'") }
            if value == nil && seen & _Field.value.bit == 0 { note(.missingField, "missing field 'value'") }
        }
        if problem == nil, let t = ts, let now {
            if let h = config.futureHorizon, t > EventTime.saturatingAdd(now, h) {
                note(.timestampOutOfRange, "'ts' \(t) is \((t - now) / 1000) s after the processing time (horizon \(h / 1000) s)")
            } else if let h = config.pastHorizon, t < EventTime.saturatingSubtract(now, h) {
                note(.timestampOutOfRange, "'ts' \(t) is \((now - t) / 1000) s before the processing time (horizon \(h / 1000) s)")
            }
        }
        var sensorSlot: UInt32 = 0
        var enterpriseSlot: UInt32 = 0
        if problem == nil, let e = enterpriseSpan, let s = sensorSpan {
            let limit = config.maxIdentifierBytes
            // Unescaped ids (the norm) are interned straight from the payload bytes.
            if !e.escaped && !s.escaped {
                let eCount = e.end - e.start
                let sCount = s.end - s.start
                if eCount == 0 || eCount > limit {
                    note(.invalidIdentifier, "'enterprise' must have 1…\(limit) bytes (has \(eCount))")
                } else if sCount == 0 || sCount > limit {
                    note(.invalidIdentifier, "'sensor' must have 1…\(limit) bytes (has \(sCount))")
                } else {
                    enterpriseSlot = internEnterprise(UnsafeRawBufferPointer(start: c.base + e.start, count: eCount))
                    sensorSlot = sensors.intern(bytes: UnsafeRawBufferPointer(start: c.base + s.start, count: sCount))
                }
            } else {
                let eCount = Self.withIdentifier(c, e) { $0.count }
                let sCount = Self.withIdentifier(c, s) { $0.count }
                if eCount == 0 || eCount > limit {
                    note(.invalidIdentifier, "'enterprise' must have 1…\(limit) bytes (has \(eCount))")
                } else if sCount == 0 || sCount > limit {
                    note(.invalidIdentifier, "'sensor' must have 1…\(limit) bytes (has \(sCount))")
                } else {
                    enterpriseSlot = Self.withIdentifier(c, e) { enterprises.intern(bytes: $0) }
                    sensorSlot = Self.withIdentifier(c, s) { sensors.intern(bytes: $0) }
                }
            }
        }
        if let (reason, detail) = problem {
            rejections.append(DecodeRejection(reason: reason, detail: detail, range: range, offset: offset))
            return nil
        }
        batch.append(eventTime: ts!, sensor: sensorSlot, enterprise: enterpriseSlot, value: value!, flags: flags, offset: offset)
        return nil
    }

    /// Interns an enterprise id, skipping the hash lookup when it repeats the previous record's.
    private mutating func internEnterprise(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        if bytes.count == lastEnterprise.bytes.count && !bytes.isEmpty
            && lastEnterprise.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
        {
            return lastEnterprise.slot
        }
        let slot = enterprises.intern(bytes: bytes)
        lastEnterprise.bytes.removeAll(keepingCapacity: true)
        lastEnterprise.bytes.append(contentsOf: bytes)
        lastEnterprise.slot = slot
        return slot
    }

    /// Calls `body` with the bytes of an identifier: straight from the payload, or unescaped into a temporary
    /// array when the JSON string contains escapes (rare).
    private static func withIdentifier<R>(
        _ c: _JSONCursor, _ span: (start: Int, end: Int, escaped: Bool), _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        if !span.escaped { return body(UnsafeRawBufferPointer(start: c.base + span.start, count: span.end - span.start)) }
        var bytes: [UInt8] = []
        _JSONCursor.unescape(c.base + span.start, span.end - span.start, into: &bytes)
        return bytes.withUnsafeBytes(body)
    }
}

enum _Field: UInt8 {
    case enterprise, sensor, ts, value, quality, unit, unknown

    var bit: UInt8 { 1 << rawValue }
    var name: String { "\(self)" }

    static func match(_ p: UnsafePointer<UInt8>, _ n: Int) -> _Field {
        func eq(_ s: StaticString) -> Bool {
            s.utf8CodeUnitCount == n && memcmp(p, s.utf8Start, n) == 0
        }
        switch n {
        case 2: return eq("ts") ? .ts : .unknown
        case 4: return eq("unit") ? .unit : .unknown
        case 5: return eq("value") ? .value : .unknown
        case 6: return eq("sensor") ? .sensor : .unknown
        case 7: return eq("quality") ? .quality : .unknown
        case 10: return eq("enterprise") ? .enterprise : .unknown
        default: return .unknown
        }
    }
}

enum _Quality {
    case good, uncertain, bad, substituted

    static func match(_ p: UnsafePointer<UInt8>, _ n: Int) -> _Quality? {
        func eq(_ s: StaticString) -> Bool { s.utf8CodeUnitCount == n && memcmp(p, s.utf8Start, n) == 0 }
        if eq("good") { return .good }
        if eq("uncertain") { return .uncertain }
        if eq("bad") { return .bad }
        if eq("substituted") { return .substituted }
        return nil
    }
}

extension ReadingBatch {
    /// Removes readings from index `count` on (keeps capacity).
    public mutating func truncate(to count: Int) {
        guard count < self.count else { return }
        let n = self.count - count
        eventTime.removeLast(n)
        sensor.removeLast(n)
        enterprise.removeLast(n)
        value.removeLast(n)
        flags.removeLast(n)
        offset.removeLast(n)
    }
}
