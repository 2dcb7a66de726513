import Testing
import VigilCore
import VigilTesting

/// Every field of a row, doubles by bit pattern (so NaN placeholders compare equal).
func exact(_ r: WindowRow) -> String {
    let doubles = [r.sum, r.mean, r.variance, r.min, r.max, r.first, r.last, r.ewma, r.p50, r.p95, r.p99].map { String($0.bitPattern, radix: 16) }
    return "\(r.kind) \(r.windowStart) \(r.windowEnd) \(r.sensor) \(r.enterprise) \(r.count) \(r.firstTime) \(r.lastTime) "
        + doubles.joined(separator: " ")
}

@Suite struct SnapshotTests {
    static let specs: [WindowSpec] = [
        WindowSpec(kind: .tumbling(size: 10_000), allowedLateness: 2_000, emit: .onClose, statistics: .all),
        WindowSpec(kind: .hopping(size: 10_000, slide: 2_500), allowedLateness: 15_000, emit: .early(every: 3_000), statistics: .all),
        WindowSpec(kind: .tumbling(size: 10_000), emit: .final, statistics: .basic),
    ]

    @Test("snapshot → restore → continue emits byte-identical rows to never stopping", arguments: 0..<3)
    func restoreContinuesIdentically(specIndex: Int) throws {
        let spec = Self.specs[specIndex]
        for seed in 0..<UInt64(150) {
            var options = StreamGenerator.Options()
            options.sensors = 4
            options.records = 200
            let records = StreamGenerator.generate(seed: seed &+ 99, options: options)
            let cut = Int(seed % 200)
            func batch(_ rs: ArraySlice<StreamGenerator.Record>) -> ReadingBatch {
                var b = ReadingBatch()
                for r in rs { b.append(eventTime: r.time, sensor: r.sensor, enterprise: r.enterprise, value: r.value) }
                return b
            }
            let wm = Watermark(outOfOrderness: 1_000, idleTimeout: 60_000)
            // Uninterrupted.
            let a = PaneWindowOperator(spec: spec, watermark: wm, expectedSensors: 2)
            var outA = WindowResults()
            var late = LateRecords()
            a.process(batch(records[..<cut]), into: &outA, late: &late)
            a.process(batch(records[cut...]), into: &outA, late: &late)
            a.finish(into: &outA)
            // Stopped at `cut`, restored from bytes, continued.
            let b = PaneWindowOperator(spec: spec, watermark: wm, expectedSensors: 2)
            var outB = WindowResults()
            b.process(batch(records[..<cut]), into: &outB, late: &late)
            let bytes = b.snapshot()
            let c = try PaneWindowOperator(spec: spec, watermark: wm, restoring: bytes)
            #expect(c.snapshot() == bytes, "seed \(seed): a restored operator snapshots to the same bytes")
            c.process(batch(records[cut...]), into: &outB, late: &late)
            c.finish(into: &outB)
            #expect(outB.rows.map(exact) == outA.rows.map(exact), "seed \(seed) spec \(specIndex) cut \(cut)")
            #expect(c.lateCount == a.lateCount)
        }
    }

    @Test func corruptedOrForeignSnapshotsAreRejected() throws {
        let spec = Self.specs[0]
        let op = PaneWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0))
        var b = ReadingBatch()
        for i in 0..<50 { b.append(eventTime: Int64(i) * 300, sensor: UInt32(i % 3), enterprise: 0, value: Double(i)) }
        var out = WindowResults()
        var late = LateRecords()
        op.process(b, into: &out, late: &late)
        let bytes = op.snapshot()
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x40
        #expect(throws: SnapshotError.self) { try PaneWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0), restoring: flipped) }
        do {
            _ = try PaneWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0), restoring: flipped)
        } catch {
            #expect(error.message.contains("corrupted"))
        }
        var newer = bytes
        newer[4] = 9  // format version 9
        do {
            _ = try PaneWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0), restoring: newer)
            Issue.record("accepted a newer format")
        } catch {
            #expect(error.message.contains("version 9"))
        }
        do {
            _ = try PaneWindowOperator(spec: Self.specs[2], watermark: Watermark(outOfOrderness: 0), restoring: bytes)
            Issue.record("accepted another spec's state")
        } catch {
            #expect(error.message.contains("different window spec"))
        }
        #expect(throws: SnapshotError.self) {
            try PaneWindowOperator(spec: spec, watermark: Watermark(outOfOrderness: 0), restoring: Array(bytes.prefix(10)))
        }
    }
}
