/// Maps identifier strings (sensor ids, enterprise ids) to dense `UInt32` slots.
///
/// Slots are handed out in first-seen order starting at 0, so they index struct-of-arrays state
/// directly. Looking up a key that is already known allocates nothing: the lookup hashes and compares
/// the raw UTF-8 bytes against a contiguous arena, which is how decoders intern keys straight from a
/// message payload.
///
/// ```swift
/// var sensors = KeyInterner()
/// let a = sensors.intern("E0042-GT-101")   // 0
/// let b = sensors.intern("E0042-TT-7")     // 1
/// sensors.intern("E0042-GT-101") == a      // true, no allocation
/// sensors.key(for: b)                      // "E0042-TT-7"
/// ```
public struct KeyInterner: Sendable {
    /// Concatenated UTF-8 bytes of all keys, in slot order.
    private var arena: [UInt8] = []
    /// `starts[slot] ..< starts[slot + 1]` is the key of `slot` in `arena`; one more element than keys.
    private var starts: [UInt32] = [0]
    /// Full hash of every key, in slot order (avoids re-hashing on growth and most byte compares).
    private var hashes: [UInt64] = []
    /// Open-addressing table of `slot + 1`; 0 marks an empty bucket. Its size is a power of two.
    private var table: [UInt32] = Array(repeating: 0, count: 16)

    /// Creates an empty interner.
    public init() {}

    /// The number of distinct keys interned so far; also the next slot to be handed out.
    public var count: Int { hashes.count }

    /// Returns the slot of the key whose UTF-8 bytes are `bytes`, adding the key if it is new.
    ///
    /// - Complexity: O(key length) expected; allocation only when a new key grows the storage.
    /// - Precondition: fewer than `UInt32.max` keys and less than 4 GiB of key bytes.
    @inlinable
    public mutating func intern(bytes: UnsafeRawBufferPointer) -> UInt32 {
        let h = Self.hash(bytes)
        if let slot = find(bytes: bytes, hash: h) { return slot }
        return insert(bytes: bytes, hash: h)
    }

    /// Returns the slot of `key`, adding it if it is new.
    public mutating func intern(_ key: String) -> UInt32 {
        var key = key
        return key.withUTF8 { intern(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Returns the slot of `key` if it was interned before, without adding it.
    public func slot(for key: String) -> UInt32? {
        var key = key
        return key.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            return find(bytes: raw, hash: Self.hash(raw))
        }
    }

    /// The key of `slot` as a `String` (allocates; meant for output and diagnostics, not the hot path).
    ///
    /// - Precondition: `slot < count`.
    public func key(for slot: UInt32) -> String {
        precondition(Int(slot) < count, "KeyInterner: slot \(slot) was never handed out (count \(count))")
        let start = Int(starts[Int(slot)])
        let end = Int(starts[Int(slot) + 1])
        return String(decoding: arena[start..<end], as: UTF8.self)
    }

    /// Calls `body` with the UTF-8 bytes of the key of `slot`.
    ///
    /// - Warning: Do not escape the buffer from the closure.
    public func withKeyBytes<R>(for slot: UInt32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(Int(slot) < count, "KeyInterner: slot \(slot) was never handed out (count \(count))")
        let start = Int(starts[Int(slot)])
        let end = Int(starts[Int(slot) + 1])
        return try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    // MARK: - Internals

    @usableFromInline
    func find(bytes: UnsafeRawBufferPointer, hash h: UInt64) -> UInt32? {
        table.withUnsafeBufferPointer { table in
            let mask = table.count - 1
            var i = Int(truncatingIfNeeded: h) & mask
            while true {
                let entry = table[i]
                if entry == 0 { return nil }
                let slot = Int(entry - 1)
                if hashes[slot] == h && equals(slot: slot, bytes) { return UInt32(slot) }
                i = (i + 1) & mask
            }
        }
    }

    private func equals(slot: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = Int(starts[slot])
        let end = Int(starts[slot + 1])
        guard end - start == bytes.count else { return false }
        if bytes.isEmpty { return true }
        return arena.withUnsafeBytes { arena in
            memcmpEqual(arena.baseAddress! + start, bytes.baseAddress!, bytes.count)
        }
    }

    @usableFromInline
    mutating func insert(bytes: UnsafeRawBufferPointer, hash h: UInt64) -> UInt32 {
        precondition(count < Int(UInt32.max) - 1, "KeyInterner: too many keys")
        precondition(arena.count + bytes.count < Int(UInt32.max), "KeyInterner: key arena exceeds 4 GiB")
        let slot = UInt32(count)
        arena.append(contentsOf: bytes)
        starts.append(UInt32(arena.count))
        hashes.append(h)
        if count * 2 > table.count { rehash(size: table.count * 2) } else { place(slot: slot, hash: h) }
        return slot
    }

    private mutating func place(slot: UInt32, hash h: UInt64) {
        let mask = table.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while table[i] != 0 { i = (i + 1) & mask }
        table[i] = slot + 1
    }

    private mutating func rehash(size: Int) {
        table = Array(repeating: 0, count: size)
        for slot in 0..<count { place(slot: UInt32(slot), hash: hashes[slot]) }
    }

    /// A fast 64-bit hash of a byte string (8 bytes per step, multiply-xorshift mixing).
    @inlinable
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(bytes.count)
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let chunk = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ chunk) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* 0x9E37_79B9_7F4A_7C15
        }
        h ^= h >> 32
        h = h &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 32
        return h
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < n {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}
