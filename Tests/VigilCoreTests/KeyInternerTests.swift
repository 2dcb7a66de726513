import Testing
import VigilCore

@Suite struct KeyInternerTests {
    @Test func denseSlotsInFirstSeenOrder() {
        var interner = KeyInterner()
        #expect(interner.intern("E0042-GT-101") == 0)
        #expect(interner.intern("E0042-TT-7") == 1)
        #expect(interner.intern("E0042-GT-101") == 0)
        #expect(interner.intern("") == 2)
        #expect(interner.count == 3)
        #expect(interner.key(for: 1) == "E0042-TT-7")
        #expect(interner.slot(for: "nope") == nil)
        #expect(interner.slot(for: "") == 2)
    }

    @Test("Agrees with a Dictionary over many keys, including growth and near-collisions")
    func agreesWithDictionary() {
        var interner = KeyInterner()
        var reference: [String: UInt32] = [:]
        for i in 0..<50_000 {
            let key = "E\(i % 977)-S\(i % 12_345)-\(String(repeating: "x", count: i % 19))"
            let expected = reference[key] ?? UInt32(reference.count)
            reference[key] = expected
            #expect(interner.intern(key) == expected)
        }
        #expect(interner.count == reference.count)
        for (key, slot) in reference.prefix(2_000) {
            #expect(interner.key(for: slot) == key)
            let bytes = interner.withKeyBytes(for: slot) { Array($0) }
            #expect(bytes == Array(key.utf8))
        }
    }

    @Test func internsFromRawBytes() {
        var interner = KeyInterner()
        let bytes: [UInt8] = Array("sensor-ÄÖ-🔥".utf8)
        let slot = bytes.withUnsafeBytes { interner.intern(bytes: $0) }
        #expect(interner.key(for: slot) == "sensor-ÄÖ-🔥")
        #expect(interner.intern("sensor-ÄÖ-🔥") == slot)
    }

    @Test func unknownSlotTraps() async {
        await #expect(processExitsWith: .failure) {
            let interner = KeyInterner()
            _ = interner.key(for: 7)
        }
    }
}
