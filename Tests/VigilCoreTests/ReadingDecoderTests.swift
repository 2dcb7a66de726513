import Testing
import VigilCore
import VigilTesting

func decode(_ text: String, now: Int64? = 1_732_300_000_000, config: ReadingDecoderConfig = ReadingDecoderConfig())
    -> (ReadingBatch, [DecodeRejection], ReadingDecoder)
{
    var decoder = ReadingDecoder(config: config)
    var batch = ReadingBatch()
    var rejections: [DecodeRejection] = []
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { _ = decoder.decode(payload: $0, offset: 7, now: now, into: &batch, rejections: &rejections) }
    return (batch, rejections, decoder)
}

@Suite struct ReadingDecoderTests {
    @Test func decodesTheDocumentedReading() {
        let (batch, rejections, decoder) = decode(
            #"{"enterprise":"E0042","sensor":"E0042-GT-101","ts":1732300000123,"value":12.5,"unit":"%LEL","quality":"good"}"#
        )
        #expect(rejections.isEmpty)
        #expect(batch.count == 1)
        #expect(batch.eventTime == [1_732_300_000_123] && batch.value == [12.5] && batch.offset == [7])
        #expect(decoder.sensors.key(for: batch.sensor[0]) == "E0042-GT-101")
        #expect(decoder.enterprises.key(for: batch.enterprise[0]) == "E0042")
        #expect(batch.flags == [[]])
    }

    @Test func decodesArraysRFC3339EscapesAndQuality() {
        let (batch, rejections, decoder) = decode(
            #"""
            [ {"sensor":"S\u00e9-1","enterprise":"E1","ts":"2024-11-22T18:26:40.123+08:00","value":-0.0,"quality":"bad"},
              {"enterprise":"E1","sensor":"S2","ts":1732300000000,"value":1e-3,"extra":{"nested":[1,2,{"a":null}]}} ]
            """#
        )
        #expect(rejections.isEmpty)
        #expect(batch.count == 2)
        // 2024-11-22T10:26:40.123Z
        #expect(batch.eventTime[0] == 1_732_271_200_123)
        #expect(decoder.sensors.key(for: batch.sensor[0]) == "Sé-1")
        #expect(batch.value[0] == 0 && batch.value[0].sign == .minus)
        #expect(batch.flags[0] == .bad)
        #expect(batch.value[1] == 0.001)
    }

    @Test("Numbers parse exactly like the standard library, on the fast and the slow path")
    func numbersAreExact() {
        var rng = TestRandom(seed: 5)
        for _ in 0..<20_000 {
            let x: Double
            switch rng.int(in: 0...3) {
            case 0: x = (rng.double(in: -1000...1000) * 1000).rounded() / 1000
            case 1: x = rng.double(in: -1e6...1e6)
            case 2: x = pow10Random(&rng)
            default: x = Double(rng.int(in: -1_000_000...1_000_000))
            }
            let text = "{\"enterprise\":\"E\",\"sensor\":\"S\",\"ts\":1732300000000,\"value\":\(x)}"
            let (batch, rejections, _) = decode(text)
            #expect(rejections.isEmpty && batch.value == [x], "\(text)")
        }
    }

    @Test("Decimal strings of every shape convert bit-for-bit like strtod (Clinger, Eisel–Lemire and fallback paths)")
    func numbersMatchStrtod() {
        var rng = TestRandom(seed: 77)
        var decoder = ReadingDecoder()
        decoder.config.futureHorizon = nil
        decoder.config.pastHorizon = nil
        var batch = ReadingBatch()
        var rejections: [DecodeRejection] = []
        var mismatches = 0
        for i in 0..<200_000 {
            var token = rng.bool(0.5) ? "-" : ""
            let digits = rng.int(in: 1...(i % 10 == 0 ? 25 : 19))
            var mantissa = String(rng.int(in: 1...9))
            for _ in 1..<digits { mantissa += String(rng.int(in: 0...9)) }
            switch rng.int(in: 0...2) {
            case 0: token += mantissa
            case 1:
                let point = rng.int(in: 1...mantissa.count)
                let intPart = String(mantissa.prefix(point))
                let frac = String(mantissa.dropFirst(point))
                token += intPart + (frac.isEmpty ? "" : "." + frac)
            default: token += "0." + String(repeating: "0", count: rng.int(in: 0...5)) + mantissa
            }
            if rng.bool(0.6) { token += "e" + String(rng.int(in: -340...320)) }
            batch.removeAll()
            rejections.removeAll()
            let text = "{\"enterprise\":\"E\",\"sensor\":\"S\",\"ts\":1,\"value\":\(token)}"
            Array(text.utf8).withUnsafeBytes { _ = decoder.decode(payload: $0, offset: 0, now: nil, into: &batch, rejections: &rejections) }
            let expected = strtod(token, nil)
            if expected.isFinite {
                if batch.value.first?.bitPattern != expected.bitPattern {
                    mismatches += 1
                    if mismatches < 5 { Issue.record("\(token): decoded \(batch.value.first.map { "\($0)" } ?? "nil") vs strtod \(expected)") }
                }
            } else {
                #expect(rejections.first?.reason == .valueNotFinite, "\(token)")
            }
        }
        #expect(mismatches == 0)
    }

    static let badRecords = BadRecordFixtures.all

    @Test("Bad records are rejected with their reason", arguments: 0..<badRecords.count)
    func badRecordRejected(index: Int) {
        let (text, reason) = Self.badRecords[index]
        let (batch, rejections, _) = decode(text)
        #expect(batch.count == 0)
        #expect(rejections.map(\.reason) == [reason], "\(text): \(rejections)")
        #expect(rejections.first?.offset == 7)
        #expect(!(rejections.first?.detail.isEmpty ?? true))
    }

    @Test("A bad element in an array does not poison its neighbours")
    func badElementInArray() {
        let good = #"{"enterprise":"E1","sensor":"S1","ts":1732300000000,"value":1}"#
        for (bad, reason) in Self.badRecords where reason != .malformedJSON && reason != .emptyPayload {
            let (batch, rejections, _) = decode("[\(good),\(bad),\(good)]")
            #expect(batch.count == 2, "\(bad)")
            #expect(rejections.map(\.reason) == [reason])
            let r = rejections[0].range
            let text = Array("[\(good),\(bad),\(good)]".utf8)
            #expect(String(decoding: text[r], as: UTF8.self) == bad)
        }
        // A syntax error rejects the whole payload and appends nothing.
        let (batch, rejections, _) = decode("[\(good),{\"broken\":],\(good)]")
        #expect(batch.count == 0 && rejections.map(\.reason) == [.malformedJSON])
    }

    @Test func oversizePayloadRejected() {
        var config = ReadingDecoderConfig()
        config.maxPayloadBytes = 64
        let (batch, rejections, _) = decode(String(repeating: " ", count: 65), config: config)
        #expect(batch.count == 0 && rejections.map(\.reason) == [.oversizePayload])
    }

    @Test("Fuzz: a million mutated payloads never trap, and every one is either decoded or rejected")
    func fuzzMutations() {
        let seeds = [
            #"{"enterprise":"E0042","sensor":"E0042-GT-101","ts":1732300000123,"value":12.5,"unit":"%LEL","quality":"good"}"#,
            #"[{"enterprise":"E1","sensor":"S\u00e91","ts":"2024-11-22T18:26:40.123Z","value":-1.5e-7},{"enterprise":"E2","sensor":"S2","ts":1732300000000,"value":3,"x":[true,false,null,{"y":"z"}]}]"#,
        ].map { Array($0.utf8) }
        var rng = TestRandom(seed: 2024)
        var decoder = ReadingDecoder()
        var batch = ReadingBatch(capacity: 64)
        var rejections: [DecodeRejection] = []
        rejections.reserveCapacity(64)
        var decoded = 0
        var rejected = 0
        let alphabet = Array(#"{}[]",:\/ 0123456789eE+-.tfnulaZT"#.utf8) + [0, 0xFF, 0xC3, 0x0A]
        var payload: [UInt8] = []
        for i in 0..<1_000_000 {
            payload.removeAll(keepingCapacity: true)
            payload.append(contentsOf: seeds[i & 1])
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let position = Int(rng.next() % UInt64(payload.count + 1))
                switch rng.next() % 4 {
                case 0 where position < payload.count: payload[position] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: payload.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: position)
                case 2 where position < payload.count: payload.remove(at: position)
                default: payload.removeSubrange(position..<min(payload.count, position + Int(rng.next() % 8)))
                }
            }
            batch.removeAll()
            rejections.removeAll(keepingCapacity: true)
            let n = payload.withUnsafeBytes {
                decoder.decode(payload: $0, offset: Int64(i), now: 1_732_300_000_000, into: &batch, rejections: &rejections)
            }
            decoded += n
            rejected += rejections.count
            if n + rejections.count == 0 && !payload.isEmpty && payload != Array("[]".utf8) {
                // Only an empty array may produce neither a reading nor a rejection.
                let text = String(decoding: payload, as: UTF8.self).filter { !$0.isWhitespace }
                #expect(text == "[]", "payload \(text) produced nothing")
            }
            for r in rejections { #expect(r.range.upperBound <= payload.count) }
            for v in batch.value { #expect(v.isFinite) }
        }
        #expect(decoded > 100_000 && rejected > 100_000)
    }
}

func pow10Random(_ rng: inout TestRandom) -> Double {
    var x = rng.double(in: 1...10)
    let e = rng.int(in: -300...300)
    if e >= 0 { for _ in 0..<e { x *= 10 } } else { for _ in 0..<(-e) { x /= 10 } }
    return rng.bool(0.5) ? -x : x
}

@Suite struct RFC3339Tests {
    func parse(_ s: String) -> Int64? {
        let bytes = Array(s.utf8)
        return bytes.withUnsafeBufferPointer { RFC3339.parseMilliseconds($0.baseAddress!, $0.count) }
    }

    @Test func knownInstants() {
        #expect(parse("1970-01-01T00:00:00Z") == 0)
        #expect(parse("2024-11-22T18:26:40.123+08:00") == 1_732_271_200_123)
        #expect(parse("2024-02-29t23:59:59.9999z") == 1_709_251_199_999)
        #expect(parse("1969-12-31 23:59:59-00:30") == 1_799_000)
        #expect(parse("2024-11-22T18:26:40") == nil)
        #expect(parse("2023-02-29T00:00:00Z") == nil)
        #expect(parse("2024-13-01T00:00:00Z") == nil)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
