/// A versioned, checksummed binary container for operator state.
///
/// Layout: magic `VGSN` (4 bytes), format version (UInt16 LE), kind tag (UInt16 LE), payload length
/// (UInt64 LE), payload, CRC-32 (IEEE) of everything before it (UInt32 LE). Readers reject a wrong magic, an
/// unknown version, a truncated buffer or a checksum mismatch with a ``SnapshotError`` that says which.
public enum SnapshotCodec: Sendable {
    public static let magic: [UInt8] = Array("VGSN".utf8)
    /// 2: alarm state records acknowledgements; anomaly state the seasonal profile. 3: a partition snapshot
    /// ends with the device-status section (instrument faults, frozen values), each enterprise's grading state
    /// has its offline episodes, and the anomaly state has no pending-value slots. 4: a partition snapshot's
    /// pipeline fingerprint is computed from the windows' fields (older ones: from their text, still read).
    /// 5: a partition snapshot holds its partition clock once, after the fingerprint; the alert book, the
    /// data-gap detector and the grading no longer hold a watermark or event time each (older ones: the
    /// clock is the latest of theirs and the windows'). 6: a partition snapshot holds each sensor's enterprise
    /// once, in its sensor catalog; the alert book and the data-gap detector no longer hold one per slot. A
    /// window operator's snapshot carries a digest of the window's fields (older ones: of its text). 7: the
    /// anomaly section holds each sensor's learnt cadence, resolution, seasonal level and tail models (older
    /// anomaly sections with sensors start afresh, with a warning: the baselines are learnt again).
    public static let version: UInt16 = 7
    /// The oldest format this build still reads (each reader of a newer layout says what an older one lacks).
    public static let oldestReadable: UInt16 = 2

    /// Wraps `payload` with the header and checksum.
    public static func seal(kind: UInt16, payload: [UInt8]) -> [UInt8] {
        var out = magic
        var w = SnapshotWriter(into: out)
        w.u16(version)
        w.u16(kind)
        w.u64(UInt64(payload.count))
        out = w.bytes
        out.append(contentsOf: payload)
        let crc = crc32(out)
        var t = SnapshotWriter(into: out)
        t.u32(crc)
        return t.bytes
    }

    /// Checks the header and checksum; returns the payload.
    public static func open(_ bytes: [UInt8], kind: UInt16) throws(SnapshotError) -> [UInt8] {
        try openVersioned(bytes, kind: kind).payload
    }

    /// ``open(_:kind:)`` that also returns the format version the snapshot was written in.
    public static func openVersioned(_ bytes: [UInt8], kind: UInt16) throws(SnapshotError) -> (version: UInt16, payload: [UInt8]) {
        guard bytes.count >= 4 + 2 + 2 + 8 + 4 else { throw SnapshotError("snapshot truncated: \(bytes.count) bytes") }
        guard Array(bytes[0..<4]) == magic else { throw SnapshotError("not a Vigil snapshot (bad magic)") }
        var r = SnapshotReader(bytes)
        r.position = 4
        let v = try r.u16()
        guard v >= oldestReadable && v <= version else {
            throw SnapshotError(
                "snapshot format version \(v) is not supported by this Vigil (reads versions \(oldestReadable)–\(version)); restore with a matching release or start without the snapshot"
            )
        }
        let k = try r.u16()
        guard k == kind else { throw SnapshotError("snapshot holds state of kind \(k), expected \(kind)") }
        let length = try r.u64()
        guard UInt64(bytes.count) == 20 + length else {
            throw SnapshotError("snapshot truncated or padded: header says \(length) payload bytes, file has \(bytes.count - 20)")
        }
        let body = Array(bytes[0..<(bytes.count - 4)])
        var tail = SnapshotReader(bytes)
        tail.position = bytes.count - 4
        let stored = try tail.u32()
        let actual = crc32(body)
        guard stored == actual else {
            throw SnapshotError("snapshot is corrupted (checksum \(String(actual, radix: 16)) != stored \(String(stored, radix: 16)))")
        }
        return (v, Array(bytes[16..<(bytes.count - 4)]))
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (IEEE 802.3).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// Why a snapshot could not be read.
public struct SnapshotError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Little-endian writer.
public struct SnapshotWriter: Sendable {
    public private(set) var bytes: [UInt8]
    public init(into bytes: [UInt8] = []) { self.bytes = bytes }
    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    public mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }
    /// A length-prefixed byte string (nested snapshots, keys).
    public mutating func blob(_ v: [UInt8]) {
        u64(UInt64(v.count))
        bytes.append(contentsOf: v)
    }
    public mutating func string(_ v: String) { blob(Array(v.utf8)) }
    /// An optional Int64 as a presence flag and the value.
    public mutating func optionalI64(_ v: Int64?) {
        bool(v != nil)
        i64(v ?? 0)
    }
}

/// Little-endian reader; every read checks bounds.
public struct SnapshotReader: Sendable {
    let bytes: [UInt8]
    public var position = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var atEnd: Bool { position == bytes.count }

    mutating func take(_ n: Int) throws(SnapshotError) -> ArraySlice<UInt8> {
        guard n >= 0, position + n <= bytes.count else { throw SnapshotError("snapshot payload truncated at byte \(position)") }
        defer { position += n }
        return bytes[position..<(position + n)]
    }
    public mutating func u8() throws(SnapshotError) -> UInt8 { try take(1).first! }
    public mutating func u16() throws(SnapshotError) -> UInt16 {
        try take(2).reversed().reduce(0) { $0 << 8 | UInt16($1) }
    }
    public mutating func u32() throws(SnapshotError) -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
    public mutating func u64() throws(SnapshotError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    public mutating func i64() throws(SnapshotError) -> Int64 { Int64(bitPattern: try u64()) }
    public mutating func f64() throws(SnapshotError) -> Double { Double(bitPattern: try u64()) }
    public mutating func bool() throws(SnapshotError) -> Bool { try u8() != 0 }
    public mutating func blob() throws(SnapshotError) -> [UInt8] {
        let n = try u64()
        guard n <= UInt64(bytes.count - position) else { throw SnapshotError("snapshot payload truncated at byte \(position)") }
        return Array(try take(Int(n)))
    }
    public mutating func string() throws(SnapshotError) -> String {
        let b = try blob()
        guard let s = String(validating: b, as: UTF8.self) else { throw SnapshotError("snapshot holds invalid UTF-8 at byte \(position)") }
        return s
    }
    public mutating func optionalI64() throws(SnapshotError) -> Int64? {
        let present = try bool()
        let v = try i64()
        return present ? v : nil
    }
    /// A count that must be plausible for the remaining bytes (each element at least `minBytes`).
    public mutating func count(minBytes: Int = 1) throws(SnapshotError) -> Int {
        let n = try u64()
        guard n <= UInt64((bytes.count - position) / max(1, minBytes)) else {
            throw SnapshotError("snapshot count \(n) at byte \(position) exceeds the remaining payload")
        }
        return Int(n)
    }
}
